package io.omnibus.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A broker nobody here wrote, in a child process on loopback, for the bridge tests: Mosquitto (Debian's), ActiveMQ
 * Artemis and Apache Kafka (their Maven Central distributions, unpacked by the {@code testing/} modules). It keeps
 * its data directory, so {@link #kill} then {@link #start} is a crash and a restart.
 */
final class RemoteBroker implements AutoCloseable {
    private final String name;
    private final List<String> command;
    private final Path dir;
    final int port;
    /** Whether the port speaks TLS (a Kafka broker with an SSL listener). */
    private boolean tls;
    private Process process;

    private RemoteBroker(String name, List<String> command, Path dir, int port) {
        this.name = name;
        this.command = command;
        this.dir = dir;
        this.port = port;
    }

    /** Mosquitto on {@code port}, persistent, anonymous clients allowed; {@code extra} lines added to its configuration. */
    static RemoteBroker mosquitto(Path dir, int port, String extra) throws IOException {
        Path mosquitto = Path.of("/usr/sbin/mosquitto");
        if (!Files.isExecutable(mosquitto)) {
            String why = "Mosquitto is not installed here (apt-get install mosquitto; .ci/run installs it)";
            if (System.getenv("OMNIBUS_REQUIRE_NATIVE_CLIENTS") != null) { // CI: missing is a failure, not a skip
                throw new AssertionError(why);
            }
            throw new org.opentest4j.TestAbortedException(why);
        }
        Files.createDirectories(dir);
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, "listener " + port + " 127.0.0.1\nallow_anonymous true\npersistence true\n"
                + "user " + System.getProperty("user.name") + "\n" // started as root, it would drop to a user that cannot read the test's files
                + "persistence_location " + dir + "/\nmax_queued_messages 100000\n" + extra + "\n");
        return new RemoteBroker("mosquitto", List.of(mosquitto.toString(), "-c", conf.toString()), dir, port).start();
    }

    /**
     * ActiveMQ Artemis with one AMQP acceptor on {@code port}, anonymous access, its persistent journal (a message is
     * synced before it is accepted), addresses made on first use as anycast queues; {@code addressSettings}: more
     * {@code <address-setting>} elements.
     */
    static RemoteBroker artemis(Path dir, int port, String addressSettings) throws Exception {
        Path dist;
        try (var d = Files.list(GatewayProcess.ROOT.resolve("testing/artemis/target/dist"))) {
            dist = d.filter(p -> p.getFileName().toString().startsWith("apache-artemis-")).findFirst().orElseThrow();
        }
        Files.createDirectories(dir);
        Path instance = dir.resolve("instance");
        Process create = new ProcessBuilder(dist.resolve("bin/artemis").toString(), "create", instance.toString(),
                "--silent", "--user", "test", "--password", "test", "--allow-anonymous", "--no-web", "--no-autotune",
                "--no-hornetq-acceptor", "--no-stomp-acceptor")
                .redirectErrorStream(true).redirectOutput(dir.resolve("create.log").toFile()).start();
        if (!create.waitFor(120, TimeUnit.SECONDS) || create.exitValue() != 0) {
            throw new AssertionError("artemis create failed: " + Files.readString(dir.resolve("create.log")));
        }
        Path brokerXml = instance.resolve("etc/broker.xml");
        String xml = Files.readString(brokerXml);
        xml = xml.replaceFirst("(?s)<acceptors>.*?</acceptors>", "<acceptors><acceptor name=\"amqp\">tcp://127.0.0.1:" + port
                + "?protocols=AMQP;amqpCredits=100;amqpLowCredits=30</acceptor></acceptors>");
        xml = xml.replaceFirst("<address-settings>", "<address-settings>" + addressSettings
                + "<address-setting match=\"#\"><default-address-routing-type>ANYCAST</default-address-routing-type>"
                + "<default-queue-routing-type>ANYCAST</default-queue-routing-type>"
                + "<auto-create-queues>true</auto-create-queues><auto-create-addresses>true</auto-create-addresses>"
                + "</address-setting>");
        Files.writeString(brokerXml, xml);
        return new RemoteBroker("artemis", List.of(instance.resolve("bin/artemis").toString(), "run"), dir, port).start();
    }

    /** Apache Kafka in KRaft mode, one combined broker and controller, on {@code port} (and {@code port + 1}). */
    static RemoteBroker kafka(Path dir, int port, int controllerPort) throws Exception {
        return kafkaCluster(dir, new int[] {port}, new int[] {controllerPort}).get(0);
    }

    /**
     * An Apache Kafka cluster in KRaft mode on loopback: node {@code i} a combined broker and controller on
     * {@code ports[i]} (its controller on {@code controllerPorts[i]}), every node a voter. Internal topics are
     * replicated as far as the cluster allows (3 with 3 nodes, {@code min.insync.replicas} 2), as a production
     * cluster's would be. Each node keeps its data directory: {@link #kill} then {@link #start} is a broker crash.
     * In {@code settings}' values, {@code {port}} is the node's port, {@code {controller}} its controller's and
     * {@code {node}} its number (1 to n).
     */
    static List<RemoteBroker> kafkaCluster(Path dir, int[] ports, int[] controllerPorts) throws Exception {
        return kafkaCluster(dir, ports, controllerPorts, java.util.Map.of());
    }

    /** As {@link #kafkaCluster(Path, int[], int[])}, with {@code settings} added to (or replacing) each broker's. */
    static List<RemoteBroker> kafkaCluster(Path dir, int[] ports, int[] controllerPorts, java.util.Map<String, String> settings)
            throws Exception {
        Path lib = GatewayProcess.ROOT.resolve("testing/kafka-broker/target/lib");
        int n = ports.length;
        int replicas = Math.min(3, n);
        int insync = Math.max(1, replicas - 1);
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < n; i++) {
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(controllerPorts[i]);
        }
        List<RemoteBroker> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path nodeDir = n == 1 ? dir : dir.resolve("node-" + (i + 1));
            Files.createDirectories(nodeDir);
            Path props = nodeDir.resolve("server.properties");
            java.util.Map<String, String> config = new java.util.LinkedHashMap<>();
            for (String line : String.join("\n",
                    "process.roles=broker,controller", "node.id=" + (i + 1),
                    "controller.quorum.voters=" + voters,
                    "listeners=PLAINTEXT://127.0.0.1:" + ports[i] + ",CONTROLLER://127.0.0.1:" + controllerPorts[i],
                    "advertised.listeners=PLAINTEXT://127.0.0.1:" + ports[i], "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "log.dirs=" + nodeDir.resolve("logs"), "num.partitions=1",
                    "default.replication.factor=" + replicas, "min.insync.replicas=" + insync,
                    "offsets.topic.replication.factor=" + replicas, "offsets.topic.num.partitions=1",
                    "transaction.state.log.replication.factor=" + replicas, "transaction.state.log.min.isr=" + insync,
                    "transaction.state.log.num.partitions=1",
                    "group.initial.rebalance.delay.ms=0", "auto.create.topics.enable=true").split("\n")) {
                config.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
            int port = ports[i];
            int controller = controllerPorts[i];
            int number = i + 1;
            settings.forEach((k, v) -> config.put(k, v.replace("{port}", Integer.toString(port))
                    .replace("{controller}", Integer.toString(controller)).replace("{node}", Integer.toString(number))));
            StringBuilder text = new StringBuilder();
            config.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
            Files.writeString(props, text);
            // Kafka 4 logs with log4j 2: warnings and errors on the output, which a broker that exits at start shows
            Files.writeString(nodeDir.resolve("log4j2.properties"), "status = warn\n"
                    + "appender.out.type = Console\nappender.out.name = OUT\n"
                    + "appender.out.layout.type = PatternLayout\nappender.out.layout.pattern = %p %m (%c)%n\n"
                    + "rootLogger.level = WARN\nrootLogger.appenderRef.out.ref = OUT\n");
            List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            java.addAll(n == 1 ? List.of("-Xmx512m") : List.of("-Xmx384m", "-XX:+UseSerialGC")); // three share 2 cores
            java.addAll(List.of("-Dlog4j2.configurationFile=" + nodeDir.resolve("log4j2.properties"), "-cp", lib + "/*"));
            List<String> format = new ArrayList<>(java);
            format.addAll(List.of("kafka.tools.StorageTool", "format", "-t", "bridge-test-cluster-0001", "-c", props.toString()));
            Process f = new ProcessBuilder(format).redirectErrorStream(true).redirectOutput(nodeDir.resolve("format.log").toFile()).start();
            if (!f.waitFor(120, TimeUnit.SECONDS) || f.exitValue() != 0) {
                throw new AssertionError("kafka storage format failed: " + Files.readString(nodeDir.resolve("format.log")));
            }
            List<String> run = new ArrayList<>(java);
            run.addAll(List.of("kafka.Kafka", props.toString()));
            RemoteBroker node = new RemoteBroker("kafka", run, nodeDir, ports[i]);
            node.tls = config.getOrDefault("listeners", "").contains("SSL://"); // SSL or SASL_SSL
            nodes.add(node);
        }
        for (RemoteBroker b : nodes) { // the voters find each other: all of them start before any waits
            b.launch();
        }
        for (RemoteBroker b : nodes) {
            b.awaitPort();
        }
        return nodes;
    }

    /** Starts (or starts again) and waits until its port takes connections. */
    RemoteBroker start() throws IOException {
        launch();
        return awaitPort();
    }

    private void launch() throws IOException {
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile())).start();
    }

    private RemoteBroker awaitPort() {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited: " + Files.readString(dir.resolve(name + ".log")));
            }
            // a Kafka broker takes connections before it serves them all (until then its API versions lack METADATA
            // and INIT_PRODUCER_ID, and clients give up with "not supported")
            return name.equals("kafka") ? servesMetadata() : accepts();
        });
        return this;
    }

    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** ApiVersions v0 (answered before any SASL exchange): does the broker list METADATA (3) and INIT_PRODUCER_ID (22) yet? */
    private boolean servesMetadata() {
        try (Socket s = tls ? trustingAnyone().createSocket() : new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            s.setSoTimeout(2_000);
            java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
            out.writeInt(2 + 2 + 4 + 2); // api key 18, version 0, correlation id, null client id
            out.writeShort(18);
            out.writeShort(0);
            out.writeInt(1);
            out.writeShort(-1);
            out.flush();
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            in.readInt(); // size
            in.readInt(); // correlation id
            if (in.readShort() != 0) {
                return false;
            }
            java.util.Set<Short> keys = new java.util.HashSet<>();
            for (int n = in.readInt(); n > 0; n--) {
                keys.add(in.readShort());
                in.readShort();
                in.readShort();
            }
            return keys.contains((short) 3) && keys.contains((short) 22);
        } catch (Exception e) {
            return false;
        }
    }

    /** TLS sockets that accept any certificate: only to see whether a test broker serves yet. */
    private static javax.net.ssl.SSLSocketFactory trustingAnyone() throws Exception {
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {
            }

            @Override
            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        return context.getSocketFactory();
    }

    /** {@code kill -9}: the process and its children, at once. */
    void kill() throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> !accepts());
    }

    static int freePort() throws IOException {
        return GatewayProcess.freePort();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            kill();
        }
    }
}
