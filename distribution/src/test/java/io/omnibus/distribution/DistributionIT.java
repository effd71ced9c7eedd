package io.omnibus.distribution;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The tarball as a user gets it: unpacked into an empty directory, started from another working directory with only
 * a Java runtime (no Maven, no checkout), ready by /health/ready, stopped by SIGTERM with exit code 0, its data kept
 * under its own home.
 */
@Timeout(180)
class DistributionIT {
    private static final Pattern READY = Pattern.compile("omnibus: ready in \\d+ ms: admin http://[^:]+:(\\d+),.*");

    @TempDir
    Path dir;

    @Test
    void theUnpackedTarballRunsFromAnyDirectoryAndStopsCleanly() throws Exception {
        Path tarball = Path.of(System.getProperty("omnibus.tarball"));
        assertThat(tarball).exists();
        Path install = Files.createDirectories(dir.resolve("opt"));
        Process tar = new ProcessBuilder("tar", "-xzf", tarball.toString(), "-C", install.toString()).inheritIO().start();
        assertThat(tar.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(tar.exitValue()).isZero();
        String version = tarball.getFileName().toString().replace("omnibus-", "").replace(".tar.gz", "");
        Path home = install.resolve("omnibus-" + version);
        assertThat(home.resolve("bin/omnibus")).isExecutable();
        assertThat(home.resolve("config/gateway.yaml")).exists();
        assertThat(home.resolve("docs/configuration.md")).exists();
        assertThat(home.resolve("ops/systemd/omnibus.service")).exists();
        try (var jars = Files.list(home.resolve("lib"))) {
            assertThat(jars.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("gateway-server"))
                    .anyMatch(n -> n.startsWith("adapter-mqtt"));
        }

        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/omnibus").toString(), "start").directory(elsewhere.toFile());
        // the shipped configuration, on free loopback ports; nothing from the build's environment
        pb.environment().keySet().removeIf(k -> k.startsWith("OMNIBUS_") || k.equals("MAVEN_OPTS"));
        for (String p : List.of("ADMIN", "MQTT", "AMQP", "KAFKA", "OPENMESSAGING")) {
            pb.environment().put("OMNIBUS_" + p + "_PORT", "0");
            pb.environment().put("OMNIBUS_" + p + "_HOST", "127.0.0.1");
        }
        pb.environment().put("OMNIBUS_MQTT_WEBSOCKET_ENABLED", "false");
        pb.environment().put("OMNIBUS_HEAP", "256m");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.redirectErrorStream(true);
        Process gateway = pb.start();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8))) {
                r.lines().forEach(output::add);
            } catch (java.io.IOException ignored) {
                // ended
            }
        });
        pump.start();
        try {
            await().atMost(Duration.ofSeconds(90)).until(() -> output.stream().anyMatch(l -> READY.matcher(l).matches()));
            Matcher m = READY.matcher(output.stream().filter(l -> READY.matcher(l).matches()).findFirst().orElseThrow());
            assertThat(m.matches()).isTrue();
            int admin = Integer.parseInt(m.group(1));
            HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + admin + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).contains("\"status\" : \"UP\"");
            // its data under its home, nothing in the working directory
            assertThat(home.resolve("data/lock")).exists();
            try (var left = Files.list(elsewhere)) {
                assertThat(left).isEmpty();
            }
            gateway.toHandle().destroy(); // SIGTERM (Process.destroy would also close the streams read here)
            assertThat(gateway.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(gateway.exitValue()).as(String.join("\n", output)).isZero();
            pump.join(10_000);
            assertThat(output).anyMatch(l -> l.startsWith("omnibus: stopped in"));
        } finally {
            gateway.destroyForcibly();
        }
    }
}
