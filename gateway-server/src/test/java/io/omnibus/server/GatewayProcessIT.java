package io.omnibus.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The real launcher in a child JVM: start on ephemeral ports, admin HTTP, SIGTERM, and every start-up error. */
@Timeout(120)
class GatewayProcessIT {
    private static final Pattern READY = Pattern.compile("omnibus: ready in (\\d+) ms: admin http://[^:]+:(\\d+).*");
    private static final Pattern LINE_PORT = Pattern.compile(".*line \\{port=(\\d+)}.*");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    private static String config(int adminPort, boolean line, int linePort) {
        return """
                admin:
                  host: 127.0.0.1
                  port: %d
                store:
                  type: memory
                line:
                  enabled: %s
                  port: %d
                shutdown:
                  timeout: 10s
                """.formatted(adminPort, line, linePort);
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String readyLine(GatewayProcess gw) {
        await().atMost(Duration.ofSeconds(60)).until(() -> gw.out.stream().anyMatch(l -> READY.matcher(l).matches())
                || !gw.process.isAlive());
        return gw.out.stream().filter(l -> READY.matcher(l).matches()).findFirst()
                .orElseThrow(() -> new AssertionError("no ready line; stdout " + gw.out + " stderr " + gw.err));
    }

    @Test
    void startsOnEphemeralPortsServesAdminApiAndStopsCleanlyOnSigterm() throws Exception {
        Path cfg = GatewayProcess.writeConfig(dir, config(0, true, 0));
        try (GatewayProcess gw = GatewayProcess.run(Map.of(), "start", "--config", cfg.toString(),
                "--data-dir", dir.resolve("data").toString())) {
            String ready = readyLine(gw);
            Matcher m = READY.matcher(ready);
            assertThat(m.matches()).isTrue();
            int admin = Integer.parseInt(m.group(2));
            Matcher lm = LINE_PORT.matcher(ready);
            assertThat(lm.matches()).as(ready).isTrue();
            int linePort = Integer.parseInt(lm.group(1));

            HttpResponse<String> health = get(admin, "/health");
            assertThat(health.statusCode()).isEqualTo(200);
            JsonObject h = new JsonObject(health.body());
            assertThat(h.getString("status")).isEqualTo("UP");
            assertThat(h.getJsonObject("store").getString("status")).isEqualTo("UP");
            assertThat(h.getJsonObject("adapters").getJsonObject("line").getString("status")).isEqualTo("UP");

            try (Socket subscriber = new Socket(InetAddress.getLoopbackAddress(), linePort);
                 Socket publisher = new Socket(InetAddress.getLoopbackAddress(), linePort)) {
                BufferedReader subIn = reader(subscriber);
                send(subscriber, "SUB readings sensors/#");
                assertThat(subIn.readLine()).isEqualTo("SUBSCRIBED readings");
                BufferedReader pubIn = reader(publisher);
                send(publisher, "PUB sensors/t1 21.5");
                assertThat(pubIn.readLine()).isEqualTo("OK 0");
                assertThat(subIn.readLine()).isEqualTo("MSG sensors/t1 21.5");
                send(publisher, "PUB sensors/+ bad");
                assertThat(pubIn.readLine()).startsWith("ERR INVALID_ADDRESS").contains("[MQTT-4.7.1-1]");

                String metrics = get(admin, "/metrics").body();
                assertThat(metrics).contains("omnibus_messages_in_total{protocol=\"line\"} 1.0");
                assertThat(metrics).contains("omnibus_payload_in_bytes_total{protocol=\"line\"} 4.0");
                assertThat(metrics).contains("omnibus_messages_out_total{protocol=\"line\"} 1.0");
                assertThat(metrics).contains("omnibus_connections{protocol=\"line\"} 2.0");
                assertThat(metrics).contains("omnibus_subscriptions_backlog", "omnibus_redeliveries_total",
                        "omnibus_dead_letters_total", "omnibus_expired_total", "jvm_memory_used_bytes");

                JsonArray topics = new JsonArray(get(admin, "/api/topics").body());
                assertThat(topics.getJsonObject(0).getString("name")).isEqualTo("sensors/t1");
                assertThat(topics.getJsonObject(0).getLong("messages")).isEqualTo(1L);
                JsonArray subs = new JsonArray(get(admin, "/api/subscriptions").body());
                assertThat(subs.getJsonObject(0).getString("name")).isEqualTo("readings");
                assertThat(subs.getJsonObject(0).getInteger("consumers")).isEqualTo(1);
                assertThat(subs.getJsonObject(0).getLong("delivered")).isEqualTo(1L);
                JsonArray conns = new JsonArray(get(admin, "/api/connections").body());
                assertThat(conns).hasSize(2);
                assertThat(conns.getJsonObject(0).getString("protocol")).isEqualTo("line");

                // paged: a page in name order, the count of all, a link to the next page until the last
                send(publisher, "PUB sensors/t2 19.0");
                assertThat(pubIn.readLine()).isEqualTo("OK 0");
                HttpResponse<String> first = get(admin, "/api/topics?limit=1");
                assertThat(new JsonArray(first.body())).extracting(t -> ((JsonObject) t).getString("name"))
                        .containsExactly("sensors/t1");
                assertThat(first.headers().firstValue("X-Total-Count")).hasValue("2");
                assertThat(first.headers().firstValue("Link")).hasValue("</api/topics?limit=1&after=sensors%2Ft1>; rel=\"next\"");
                HttpResponse<String> second = get(admin, "/api/topics?limit=1&after=sensors%2Ft1");
                assertThat(new JsonArray(second.body())).extracting(t -> ((JsonObject) t).getString("name"))
                        .containsExactly("sensors/t2");
                assertThat(second.headers().firstValue("Link")).isEmpty();
                HttpResponse<String> found = get(admin, "/api/topics?limit=10&contains=T2");
                assertThat(new JsonArray(found.body())).extracting(t -> ((JsonObject) t).getString("name"))
                        .containsExactly("sensors/t2");
                assertThat(found.headers().firstValue("X-Total-Count")).hasValue("1");
                HttpResponse<String> oneConnection = get(admin, "/api/connections?limit=1");
                assertThat(new JsonArray(oneConnection.body())).hasSize(1);
                assertThat(oneConnection.headers().firstValue("X-Total-Count")).hasValue("2");
                assertThat(new JsonArray(get(admin, "/api/subscriptions?limit=5&contains=read").body())).hasSize(1);
                HttpResponse<String> bad = get(admin, "/api/subscriptions?limit=0");
                assertThat(bad.statusCode()).isEqualTo(400);
                assertThat(new JsonObject(bad.body()).getString("error")).contains("limit must be a number from 1 to 10000");
            }
            await().until(() -> new JsonArray(get(admin, "/api/connections").body()).isEmpty());

            gw.process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its pipes
            assertThat(gw.waitForExit(30)).as(gw.stderr()).isZero();
            assertThat(gw.stdout()).contains("omnibus: stopping").contains("omnibus: stopped in");
        }
    }

    /**
     * Vert.x's cache directory (where it unpacks the console's files) is removed when the JVM exits normally, not after
     * {@code kill -9}: the next start removes what a killed gateway left behind.
     */
    @Test
    void aStartRemovesTheCacheDirectoryAGatewayKilledWithMinusNineLeftBehind() throws Exception {
        Path cfg = GatewayProcess.writeConfig(dir, config(0, true, 0));
        Path caches = Files.createDirectories(dir.resolve("caches"));
        Map<String, String> env = Map.of("OMNIBUS_OPTS",
                "-Xmx256m -Dvertx.cacheDirBase=" + caches.resolve("vertx-cache"));
        Path first;
        try (GatewayProcess gw = GatewayProcess.run(env, "start", "--config", cfg.toString(),
                "--data-dir", dir.resolve("data").toString())) {
            readyLine(gw);
            first = cacheOf(caches, gw.process.pid());
            assertThat(first).isDirectory();
            gw.process.destroyForcibly(); // kill -9
            assertThat(gw.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(first).isDirectory(); // nothing removed it
        try (GatewayProcess gw = GatewayProcess.run(env, "start", "--config", cfg.toString(),
                "--data-dir", dir.resolve("data").toString())) {
            readyLine(gw);
            assertThat(first).doesNotExist();
            Path second = cacheOf(caches, gw.process.pid());
            assertThat(second).isDirectory();
            gw.process.toHandle().destroy(); // SIGTERM: Vert.x removes its own at the exit
            assertThat(gw.waitForExit(30)).as(gw.stderr()).isZero();
            assertThat(second).doesNotExist();
        }
        try (var left = Files.list(caches)) {
            assertThat(left).isEmpty();
        }
    }

    /** The one cache directory of process {@code pid} in {@code caches} ({@code vertx-cache-omnibus-<pid>-<uuid>}). */
    private static Path cacheOf(Path caches, long pid) throws Exception {
        try (var found = Files.list(caches)) {
            java.util.List<Path> dirs = found.filter(p -> p.getFileName().toString()
                    .startsWith("vertx-cache-omnibus-" + pid + "-")).toList();
            assertThat(dirs).as("cache directories of process %d in %s", pid, caches).hasSize(1);
            return dirs.get(0);
        }
    }

    /**
     * Class-data sharing (bin/omnibus): a start with no archive has the JVM write one when it stops, and the next start
     * loads the gateway's classes from it. The shipped configuration on ephemeral ports, without the test-only
     * adapters (the JVM cannot archive with a class directory on the class path).
     */
    @Test
    void aStartLoadsItsClassesFromTheArchiveTheStartBeforeWroteWhenItStopped() throws Exception {
        Path cds = dir.resolve("cds");
        Path classes = dir.resolve("classes.txt");
        Map<String, String> env = new java.util.HashMap<>(Map.of("OMNIBUS_CDS_DIR", cds.toString(), "OMNIBUS_CLASSPATH", "",
                "OMNIBUS_ADMIN_HOST", "127.0.0.1", "OMNIBUS_ADMIN_PORT", "0", "OMNIBUS_MQTT_PORT", "0",
                "OMNIBUS_MQTT_WEBSOCKET_ENABLED", "false", "OMNIBUS_AMQP_PORT", "0", "OMNIBUS_KAFKA_PORT", "0",
                "OMNIBUS_OPENMESSAGING_PORT", "0"));
        env.put("OMNIBUS_OPTS", "-Xmx256m");
        for (int start = 1; start <= 2; start++) {
            if (start == 2) {
                env.put("OMNIBUS_OPTS", "-Xmx256m -Xlog:class+load=info:file=" + classes);
            }
            try (GatewayProcess gw = GatewayProcess.run(env, "start", "--data-dir", dir.resolve("data").toString())) {
                gw.awaitReady();
                gw.process.toHandle().destroy(); // SIGTERM: the JVM writes the archive as it exits
                assertThat(gw.waitForExit(60)).as(gw.stderr()).isZero();
                // the launcher's variables are not configuration
                assertThat(gw.stdout() + gw.stderr()).doesNotContain("OMNIBUS_CDS_DIR is ignored");
            }
        }
        // the gateway's own classes came from the archive (the JVM's "top" layer), not from its jar
        assertThat(java.nio.file.Files.readAllLines(classes)).anyMatch(l -> l.contains("io.omnibus.server.Main source: "
                + "shared objects file (top)")).anyMatch(l -> l.contains("io.omnibus.mqtt.")
                && l.contains("shared objects file (top)"));
        Path archive;
        try (var files = java.nio.file.Files.list(cds)) {
            archive = files.toList().get(0);
        }
        assertThat(archive.getFileName().toString()).startsWith("omnibus-").endsWith(".jsa");
        // a JVM killed while it wrote an archive (the pid of its name is gone) leaves it truncated: the launcher drops it
        // rather than make it the archive, which the JVM would abort on
        byte[] whole = java.nio.file.Files.readAllBytes(archive);
        String name = archive.getFileName().toString();
        Path truncated = cds.resolve(name.substring(0, name.length() - ".jsa".length()) + ".4194303.tmp");
        java.nio.file.Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 2));
        try (GatewayProcess gw = GatewayProcess.run(env, "start", "--data-dir", dir.resolve("data").toString())) {
            gw.awaitReady();
            assertThat(truncated).doesNotExist();
            gw.process.toHandle().destroy();
            assertThat(gw.waitForExit(60)).as(gw.stderr()).isZero();
        }
    }

    @Test
    void theFileStoreKeepsMessagesAcrossARestartAndLocksItsDirectory() throws Exception {
        Path data = dir.resolve("data");
        String yaml = config(0, true, 0).replace("type: memory", "type: file\n  dir: " + data);
        Path cfg = GatewayProcess.writeConfig(dir, yaml);
        try (GatewayProcess gw = GatewayProcess.run(Map.of(), "start", "--config", cfg.toString())) {
            String ready = readyLine(gw);
            Matcher lm = LINE_PORT.matcher(ready);
            assertThat(lm.matches()).isTrue();
            try (Socket publisher = new Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(lm.group(1)))) {
                BufferedReader in = reader(publisher);
                for (int i = 0; i < 3; i++) {
                    send(publisher, "PUB orders/eu o" + i);
                    assertThat(in.readLine()).isEqualTo("OK " + i);
                }
            }
            try (GatewayProcess second = GatewayProcess.run(Map.of(), "start", "--config", cfg.toString())) {
                assertThat(second.waitForExit(60)).isEqualTo(1);
                assertThat(second.stderr()).contains("is in use by another gateway");
            }
            gw.process.toHandle().destroy();
            assertThat(gw.waitForExit(30)).isZero();
        }
        try (GatewayProcess gw = GatewayProcess.run(Map.of(), "start", "--config", cfg.toString())) {
            Matcher m = READY.matcher(readyLine(gw));
            assertThat(m.matches()).isTrue();
            int admin = Integer.parseInt(m.group(2));
            JsonObject health = new JsonObject(get(admin, "/health").body());
            assertThat(health.getJsonObject("store").getString("type")).isEqualTo("file");
            JsonArray topics = new JsonArray(get(admin, "/api/topics").body());
            assertThat(topics.getJsonObject(0).getString("name")).isEqualTo("orders/eu");
            assertThat(topics.getJsonObject(0).getLong("endOffset")).isEqualTo(3L);
            gw.process.toHandle().destroy();
            assertThat(gw.waitForExit(30)).isZero();
        }
    }

    @Test
    void invalidValueExitsWithTwoNamingFileAndKey() throws Exception {
        Path cfg = GatewayProcess.writeConfig(dir, config(0, false, 0) + "mqtt:\n  port: 70000\n");
        try (GatewayProcess gw = GatewayProcess.run(Map.of(), "start", "--config", cfg.toString())) {
            assertThat(gw.waitForExit(60)).isEqualTo(2);
            assertThat(gw.stderr()).contains("invalid configuration in " + cfg)
                    .contains("mqtt.port: must be between 0 and 65535, got 70000");
            assertThat(gw.stdout()).doesNotContain("ready");
        }
    }

    @Test
    void malformedYamlExitsWithTwoNamingTheLine() throws Exception {
        Path cfg = GatewayProcess.writeConfig(dir, "admin:\n  port: 0\n store: [\n");
        try (GatewayProcess gw = GatewayProcess.run(Map.of(), "start", "--config", cfg.toString())) {
            assertThat(gw.waitForExit(60)).isEqualTo(2);
            assertThat(gw.stderr()).contains(cfg.toString()).containsPattern("line \\d+, column \\d+");
        }
    }

    @Test
    void unknownKeysAreNamed() throws Exception {
        Path cfg = GatewayProcess.writeConfig(dir, config(0, false, 0) + "stor:\n  dir: x\n");
        try (GatewayProcess gw = GatewayProcess.run(Map.of(), "check-config", cfg.toString())) {
            assertThat(gw.waitForExit(60)).isEqualTo(2);
            assertThat(gw.stderr()).contains("stor: unknown key");
        }
    }

    @Test
    void anEnabledAdapterThatIsNotInstalledIsAStartupError() throws Exception {
        Path cfg = GatewayProcess.writeConfig(dir, config(0, false, 0) + "openmessaging:\n  enabled: true\n  port: 0\n");
        try (GatewayProcess gw = GatewayProcess.runWithout("adapter-openmessaging", "start", "--config", cfg.toString())) {
            assertThat(gw.waitForExit(60)).isEqualTo(2);
            assertThat(gw.stderr()).contains(
                    "openmessaging.enabled: the openmessaging adapter is enabled but not on the classpath");
        }
    }

    @Test
    void aPortInUseNamesThePortAndThePartAndNothingHalfStarts() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Path cfg = GatewayProcess.writeConfig(dir, config(port, false, 0));
            try (GatewayProcess gw = GatewayProcess.run(Map.of(), "start", "--config", cfg.toString())) {
                assertThat(gw.waitForExit(60)).isEqualTo(1);
                assertThat(gw.stderr()).contains("admin: port " + port + " is already in use");
            }
            Path cfg2 = GatewayProcess.writeConfig(dir, config(0, true, port));
            try (GatewayProcess gw = GatewayProcess.run(Map.of(), "start", "--config", cfg2.toString())) {
                assertThat(gw.waitForExit(60)).as("the process ends even though admin had started").isEqualTo(1);
                assertThat(gw.stderr()).contains("line: port " + port + " is already in use");
            }
        }
    }

    @Test
    void checkConfigAcceptsTheShippedFileAndEnvironmentOverridesApply() throws Exception {
        Path shipped = GatewayProcess.ROOT.resolve("config/gateway.yaml");
        try (GatewayProcess gw = GatewayProcess.run(Map.of(), "check-config", shipped.toString())) {
            assertThat(gw.waitForExit(60)).as(gw.stderr()).isZero();
            assertThat(gw.stdout()).contains("is valid");
        }
        try (GatewayProcess gw = GatewayProcess.run(Map.of("OMNIBUS_KAFKA_PORT", "not-a-port"), "check-config",
                shipped.toString())) {
            assertThat(gw.waitForExit(60)).isEqualTo(2);
            assertThat(gw.stderr()).contains("kafka.port: expected a whole number, got 'not-a-port'");
        }
    }

    private static BufferedReader reader(Socket s) throws Exception {
        s.setSoTimeout(10_000);
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
    }

    private static void send(Socket s, String line) throws Exception {
        OutputStream o = s.getOutputStream();
        o.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        o.flush();
    }
}
