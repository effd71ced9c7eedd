package io.omnibus.server;

import io.omnibus.core.spi.DispatchPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private GatewayConfig load(String yaml, Map<String, String> env) throws Exception {
        Path f = dir.resolve("g.yaml");
        Files.writeString(f, yaml);
        return new ConfigLoader(env, Adapters.discover(getClass().getClassLoader())).load(f, null);
    }

    @Test
    void theShippedFileLoadsWithTheDocumentedDefaults() {
        GatewayConfig c = new ConfigLoader(Map.of(), Adapters.discover(getClass().getClassLoader()))
                .load(Path.of("../config/gateway.yaml"), null);
        assertThat(c.adapters().get("mqtt").enabled()).isTrue();
        assertThat(c.admin().port()).isEqualTo(8080);
        assertThat(c.store().dir()).isEqualTo(Path.of("data"));
        assertThat(c.store().fsync()).isEqualTo("group");
        assertThat(c.adapters().get("mqtt").port()).isEqualTo(1883);
        assertThat(c.adapters().get("amqp").port()).isEqualTo(5672);
        assertThat(c.adapters().get("kafka").port()).isEqualTo(9092);
        assertThat(c.adapters().get("kafka").section().getString("advertised-host", null)).isEqualTo("localhost");
        assertThat(c.adapters().get("openmessaging").port()).isEqualTo(9876);
        assertThat(c.broker().defaults().dispatch()).isEqualTo(DispatchPolicy.ROUND_ROBIN);
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.eventLoops()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.workerThreads()).isEqualTo(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
    }

    @Test
    void theEventLoopsAreConfiguredAndAtLeastOne() throws Exception {
        assertThat(load("server:\n  event-loops: 3\n", Map.of()).eventLoops()).isEqualTo(3);
        assertThatThrownBy(() -> load("server:\n  event-loops: 0\n", Map.of()))
                .hasMessageContaining("server.event-loops");
    }

    @Test
    void theWorkerThreadsAreConfiguredAndAtLeastOne() throws Exception {
        assertThat(load("server:\n  worker-threads: 7\n", Map.of()).workerThreads()).isEqualTo(7);
        assertThatThrownBy(() -> load("server:\n  worker-threads: 0\n", Map.of()))
                .hasMessageContaining("server.worker-threads");
    }

    @Test
    void anEmptyFileMeansAllDefaults() throws Exception {
        GatewayConfig c = load("", Map.of());
        assertThat(c.admin().port()).isEqualTo(8080);
        assertThat(c.adapters().get("mqtt").enabled()).isFalse();
        assertThat(c.store().type()).isEqualTo("file");
    }

    @Test
    void environmentOverridesScalarKeysByTheDocumentedRule() throws Exception {
        GatewayConfig c = load("admin:\n  port: 9000\n", Map.of(
                "OMNIBUS_ADMIN_PORT", "9100",
                "OMNIBUS_KAFKA_ADVERTISED_HOST", "gw.example",
                "OMNIBUS_BROKER_DEFAULTS_MAX_DELIVERIES", "3",
                "OMNIBUS_STORE_FSYNC", "every-write",
                "OMNIBUS_HOME", "/opt/omnibus",
                "PATH", "/usr/bin"));
        assertThat(c.admin().port()).isEqualTo(9100);
        assertThat(c.adapters().get("kafka").section().getString("advertised-host", null)).isEqualTo("gw.example");
        assertThat(c.broker().defaults().maxDeliveries()).isEqualTo(3);
        assertThat(c.store().fsync()).isEqualTo("every-write");
    }

    @Test
    void securityKeysLoadAndTheirMistakesAreNamed() throws Exception {
        String tls = "../config/examples/tls/";
        // TLS switched on from the environment alone, the plain port off (YAML's bare off is false)
        GatewayConfig c = load("mqtt:\n  enabled: true\n  port: off\n", Map.of("OMNIBUS_MQTT_TLS_ENABLED", "true",
                "OMNIBUS_MQTT_TLS_CERT", tls + "server.pem", "OMNIBUS_MQTT_TLS_KEY", tls + "server-key.pem",
                "OMNIBUS_ALLOW_ANONYMOUS", "true"));
        assertThat(c.adapters().get("mqtt").port()).isEqualTo(-1);
        assertThat(c.users().allowsAnonymous()).isTrue();
        assertThat(c.users().loopbackOnly()).isFalse();
        assertThat(load("", Map.of()).users().loopbackOnly()).isTrue(); // the safe default
        assertThat(load("", Map.of()).authorizer().enforced()).isFalse();

        assertThatThrownBy(() -> load("mqtt:\n  enabled: true\n  port: off\n", Map.of()))
                .isInstanceOf(ConfigFileException.class).hasMessageContaining("mqtt.port");
        assertThatThrownBy(() -> load("amqp:\n  enabled: true\n  tls: {enabled: true, cert: nowhere.pem, key: k.pem}\n",
                Map.of())).isInstanceOf(ConfigFileException.class).hasMessageContaining("amqp.tls.cert");
        assertThatThrownBy(() -> load("kafka:\n  enabled: true\n  tls: {enabled: true, cert: " + tls + "server.pem, key: "
                + tls + "server-key.pem, client-auth: require}\n", Map.of()))
                .isInstanceOf(ConfigFileException.class).hasMessageContaining("kafka.tls.client-auth");
        assertThatThrownBy(() -> load("acl:\n  - {users: [a], publish: [\"a/#/b\"]}\n", Map.of()))
                .isInstanceOf(ConfigFileException.class).hasMessageContaining("acl[0].publish");
        assertThatThrownBy(() -> load("admin:\n  tokens: [{user: ci, token-sha256: abc}]\n", Map.of()))
                .isInstanceOf(ConfigFileException.class).hasMessageContaining("admin.tokens[0].token-sha256");
    }

    /**
     * Every key docs/configuration.md documents for a section or an adapter is settable from the environment: the
     * settable keys are the model's own, so a documented key the reading code does not know fails here too.
     */
    @Test
    void everyDocumentedKeyCanBeSetFromTheEnvironment() throws Exception {
        java.util.Set<String> settable = new ConfigLoader(Map.of(), Adapters.discover(getClass().getClassLoader())).settableKeys();
        java.util.List<String> documented = documentedKeys();
        assertThat(documented).hasSizeGreaterThan(100).contains("mqtt.max-packet-size", "amqp.max-frame-size",
                "broker.defaults.read-ahead", "mqtt.websocket.path", "kafka.tls.keystore-password", "admin.tls.cert");
        java.util.List<String> lists = java.util.List.of("admin.tokens", "mqtt.websocket.allowed-origins");
        java.util.List<String> missing = documented.stream().filter(k -> !lists.contains(k) && !settable.contains(k)).toList();
        assertThat(missing).as("documented keys no environment variable can set").isEmpty();
        // lists, and keys a section does not have, are not offered
        assertThat(settable).doesNotContain("acl", "users", "addresses", "bridges", "admin.tokens",
                "admin.max-connections-per-address").contains("mqtt.max-connections-per-address");
        for (String key : documented) {
            if (lists.contains(key)) {
                continue;
            }
            // set from the environment alone, the key reaches the model without a warning (values may be invalid)
            ConfigLoader loader = new ConfigLoader(Map.of(ConfigLoader.envName(key), "x"),
                    Adapters.discover(getClass().getClassLoader()));
            Path f = dir.resolve("empty.yaml");
            Files.writeString(f, "");
            try {
                loader.load(f, null);
            } catch (ConfigFileException e) {
                // a bad value is reported as the variable's, not the file's
                assertThat(e.file()).as(key).isEqualTo("environment variable " + ConfigLoader.envName(key));
            }
            assertThat(loader.warnings()).as(key).isEmpty();
        }
    }

    /** The dotted keys in docs/configuration.md's tables: {@code a.b} / {@code .c} rows, {@code x.tls.*}, policy keys. */
    private static java.util.List<String> documentedKeys() throws java.io.IOException {
        java.util.List<String> keys = new java.util.ArrayList<>();
        String section = "";
        java.util.regex.Pattern code = java.util.regex.Pattern.compile("`([a-z.*-]+)`");
        for (String line : Files.readAllLines(Path.of("../docs/configuration.md"))) {
            if (line.startsWith("#")) {
                section = line;
                continue;
            }
            if (!line.startsWith("| `") || section.contains("Metrics") || section.contains("addresses")
                    || section.contains("subscriptions") || section.contains("bridges") || section.contains("Environment")) {
                continue;
            }
            String first = line.substring(1, line.indexOf('|', 1));
            String last = null;
            java.util.regex.Matcher m = code.matcher(first);
            while (m.find()) {
                String k = m.group(1);
                if (section.contains("Delivery policy")) {
                    k = "broker.defaults." + k;
                } else if (k.startsWith(".") && last != null) {
                    k = last.substring(0, last.lastIndexOf('.')) + k;
                }
                last = k;
                if (k.endsWith(".tls.*")) {
                    String prefix = k.substring(0, k.length() - 1);
                    for (String t : java.util.List.of("enabled", "port", "cert", "key", "keystore", "keystore-password", "ca",
                            "client-auth", "identity", "protocols", "reload-check", "handshake-timeout")) {
                        keys.add(prefix + t);
                    }
                } else if (k.contains(".") || section.contains("users") || section.contains("shutdown")) {
                    keys.add(k);
                }
            }
        }
        keys.removeAll(java.util.List.of("broker.defaults.*", "users", "acl"));
        return keys;
    }

    @Test
    void aBadValueFromTheEnvironmentNamesTheVariable() {
        assertThatThrownBy(() -> load("mqtt:\n  enabled: true\n", Map.of("OMNIBUS_MQTT_MAX_PACKET_SIZE", "lots")))
                .isInstanceOf(ConfigFileException.class)
                .satisfies(e -> {
                    ConfigFileException c = (ConfigFileException) e;
                    assertThat(c.file()).isEqualTo("environment variable OMNIBUS_MQTT_MAX_PACKET_SIZE");
                    assertThat(c.problem()).contains("mqtt.max-packet-size").contains("lots");
                });
    }

    @Test
    void tuningKeysAbsentFromTheFileAreSetFromTheEnvironment() throws Exception {
        GatewayConfig c = load("mqtt:\n  enabled: true\n", Map.of("OMNIBUS_MQTT_MAX_PACKET_SIZE", "64KiB",
                "OMNIBUS_AMQP_MAX_FRAME_SIZE", "1MiB", "OMNIBUS_BROKER_DEFAULTS_READ_AHEAD", "50"));
        assertThat(c.adapters().get("mqtt").section().getSize("max-packet-size", 0, 0, Long.MAX_VALUE)).isEqualTo(65_536);
        assertThat(c.adapters().get("amqp").section().getSize("max-frame-size", 0, 0, Long.MAX_VALUE)).isEqualTo(1 << 20);
        assertThat(c.broker().defaults().readAhead()).isEqualTo(50);
    }

    @Test
    void everyAdaptersTrustedProxiesMayComeFromTheEnvironment() throws Exception {
        GatewayConfig c = load("mqtt:\n  enabled: true\n  proxy-protocol: [10.0.0.0/8]\n",
                Map.of("OMNIBUS_KAFKA_PROXY_PROTOCOL", "192.168.0.0/16, 127.0.0.1",
                        "OMNIBUS_STORE_KAFKA_STANDBY_PROXY_PROTOCOL", "true"));
        io.omnibus.core.transport.ProxyProtocol.Sources mqtt = io.omnibus.core.transport.ProxyProtocol.Sources.read(
                c.adapters().get("mqtt").section(), "proxy-protocol");
        io.omnibus.core.transport.ProxyProtocol.Sources kafka = io.omnibus.core.transport.ProxyProtocol.Sources.read(
                c.adapters().get("kafka").section(), "proxy-protocol");
        assertThat(mqtt.trusts(new java.net.InetSocketAddress("10.1.2.3", 1))).isTrue();
        assertThat(kafka.trusts(new java.net.InetSocketAddress("192.168.4.5", 1))).isTrue();
        assertThat(kafka.trusts(new java.net.InetSocketAddress("127.0.0.1", 1))).isTrue();
        assertThat(kafka.trusts(new java.net.InetSocketAddress("10.1.2.3", 1))).isFalse();
        assertThatThrownBy(() -> load("amqp:\n  proxy-protocol: [lb.example.com]\n", Map.of()))
                .hasMessageContaining("amqp.proxy-protocol").hasMessageContaining("not an IP address");
        assertThat(new ConfigLoader(Map.of(), Adapters.discover(getClass().getClassLoader())).settableKeys()).contains("store.kafka.standby-proxy-protocol",
                "mqtt.proxy-protocol", "amqp.proxy-protocol", "kafka.proxy-protocol", "openmessaging.proxy-protocol");
    }

    @Test
    void includedFilesAddUsersAndAddressesAndMayNotOverride() throws Exception {
        Files.writeString(dir.resolve("users.yaml"), "users:\n  - username: ops\n    password-hash: \""
                + io.omnibus.core.config.StaticUsers.verifiers("secret").get(0) + "\"\n"
                + "addresses:\n  - match: orders/#\n    partitions: 4\n");
        Files.writeString(dir.resolve("more.yaml"), "addresses:\n  - match: sensors/#\n    queue: true\n");
        GatewayConfig c = load("include: users.yaml\naddresses:\n  - match: logs/#\n    partitions: 2\n",
                Map.of("OMNIBUS_INCLUDE", dir.resolve("more.yaml").toString()));
        assertThat(c.users().hasUsers()).isTrue();
        assertThat(c.broker().addressRule(io.omnibus.core.spi.Address.of("orders/eu")).partitions()).isEqualTo(4);
        assertThat(c.broker().addressRule(io.omnibus.core.spi.Address.of("logs/app")).partitions()).isEqualTo(2);
        assertThat(c.broker().addressRule(io.omnibus.core.spi.Address.of("sensors/a")).queue()).isTrue();

        Files.writeString(dir.resolve("clash.yaml"), "admin:\n  port: 9001\n");
        assertThatThrownBy(() -> load("include: [clash.yaml]\nadmin:\n  port: 9000\n", Map.of()))
                .isInstanceOf(ConfigFileException.class)
                .hasMessageContaining("admin.port").hasMessageContaining("clash.yaml");
    }

    @Test
    void unknownOverridesAreReportedNotApplied() throws Exception {
        Path f = dir.resolve("g.yaml");
        Files.writeString(f, "");
        ConfigLoader loader = new ConfigLoader(Map.of("OMNIBUS_ADMIN_PROT", "1"), Map.of());
        loader.load(f, null);
        assertThat(loader.warnings()).containsExactly("OMNIBUS_ADMIN_PROT is ignored: it names no configuration key");
    }

    @Test
    void theKafkaStoreNeedsBootstrapServersAndPassesClientSettingsOn() throws Exception {
        GatewayConfig c = load("""
                store:
                  type: kafka
                  kafka:
                    bootstrap-servers: k1:9092,k2:9092
                    replication-factor: 3
                    min-insync-replicas: 2
                    properties:
                      security.protocol: SASL_SSL
                      sasl.mechanism: SCRAM-SHA-512
                      linger.ms: 5
                """, Map.of("OMNIBUS_STORE_KAFKA_NODE_ID", "gw-1"));
        GatewayConfig.KafkaStoreConfig k = c.store().kafka();
        assertThat(c.store().type()).isEqualTo("kafka");
        assertThat(k.bootstrapServers()).isEqualTo("k1:9092,k2:9092");
        assertThat(k.replicationFactor()).isEqualTo(3);
        assertThat(k.minInsyncReplicas()).isEqualTo(2);
        assertThat(k.nodeId()).isEqualTo("gw-1");
        assertThat(k.topicPrefix()).isEqualTo("omnibus.");
        assertThat(k.readers()).isEqualTo(2);
        assertThat(k.properties()).containsEntry("security.protocol", "SASL_SSL").containsEntry("linger.ms", "5");

        GatewayConfig defaults = load("store:\n  type: kafka\n  kafka:\n    bootstrap-servers: k:9092\n", Map.of());
        assertThat(defaults.store().kafka().replicationFactor()).as("the cluster's default").isNull();
        assertThat(defaults.store().kafka().minInsyncReplicas()).isNull();
        assertThat(defaults.store().kafka().nodeId()).as("made unique at start").isNull();

        assertThatThrownBy(() -> load("store:\n  type: kafka\n", Map.of()))
                .hasMessageContaining("store.kafka.bootstrap-servers: store.type kafka needs the Kafka cluster's bootstrap servers");
        assertThatThrownBy(() -> load("store:\n  kafka:\n    bootstrap-servers: k:1\n    topic-prefix: 'a/b'\n", Map.of()))
                .hasMessageContaining("store.kafka.topic-prefix");
        assertThatThrownBy(() -> load("store:\n  kafka:\n    bootstrap-servers: k:1\n    replication: 3\n", Map.of()))
                .hasMessageContaining("store.kafka.replication: unknown key");
    }

    @Test
    void dataDirOptionOverridesStoreDir() throws Exception {
        Path f = dir.resolve("g.yaml");
        Files.writeString(f, "store:\n  dir: /var/lib/x\n");
        GatewayConfig c = new ConfigLoader(Map.of(), Map.of()).load(f, Path.of("/tmp/d"));
        assertThat(c.store().dir()).isEqualTo(Path.of("/tmp/d"));
    }

    /** The file is read from the YAML parser's tokens: what Jackson's databind made of it before, value for value. */
    @Test
    void theFileReadsAsDatabindReadIt() throws Exception {
        String yaml = """
                # a comment
                plain: text
                quoted: "yes"
                single: 'a: b'
                flag: true
                off: false
                small: 42
                negative: -7
                large: 9000000000
                huge: 123456789012345678901234567890
                ratio: 0.25
                exponent: 1.5e3
                nothing: null
                tilde: ~
                empty:
                hex: 0x1F
                folded: >
                  one
                  two
                list: [1, "two", 3.0, false, null]
                nested:
                  - name: a
                    values: {x: 1, y: [a, b]}
                  - name: b
                binary: !!binary aGVsbG8=
                twice: first
                twice: second
                """;
        Map<String, Object> ours = ConfigLoader.parse(yaml);
        Object databind = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readValue(yaml, Object.class);
        assertThat(ours).usingRecursiveComparison().isEqualTo(databind);
        assertThat(ours.get("large")).isInstanceOf(Long.class);
        assertThat(ours.get("huge")).isInstanceOf(java.math.BigInteger.class);
        assertThat((byte[]) ours.get("binary")).asString().isEqualTo("hello");
        assertThat(ours.get("twice")).isEqualTo("second"); // a key given twice: the last one, as before
        assertThat(ConfigLoader.parse("")).isEmpty();
        assertThat(ConfigLoader.parse("# nothing but a comment\n")).isEmpty();
        assertThatThrownBy(() -> ConfigLoader.parse("a: [1, 2\n"))
                .isInstanceOf(com.fasterxml.jackson.core.JsonProcessingException.class);
    }

    @Test
    void errorsNameTheFileAndTheKey() {
        assertThatThrownBy(() -> load("store:\n  fsync: sometimes\n", Map.of()))
                .isInstanceOf(ConfigFileException.class)
                .hasMessageContaining("g.yaml: store.fsync: expected one of [every-write, group, os], got 'sometimes'");
        assertThatThrownBy(() -> load("admin: 8080\n", Map.of()))
                .hasMessageContaining("admin: expected a mapping of keys, got '8080'");
        assertThatThrownBy(() -> load("line:\n  enabled: true\n  colour: red\n", Map.of()))
                .hasMessageContaining("line.colour: unknown key");
        assertThatThrownBy(() -> load("- a\n- b\n", Map.of()))
                .hasMessageContaining("expected a mapping of keys at the top of the file");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), Map.of()).load(dir.resolve("missing.yaml"), null))
                .hasMessageContaining("missing.yaml: file not found");
    }

    @Test
    void bridgesAreReadWithTheirDefaultsAndEveryWrongKeyIsNamed() throws Exception {
        GatewayConfig c = load("""
                bridges:
                  - name: to-artemis
                    direction: out
                    local: "sensors/#"
                    remote: {url: "amqps://broker.example:5671", capability: queue, tls: {ca-file: /etc/ca.pem}}
                  - name: from-kafka
                    direction: in
                    remote: {url: "kafka://k1:9092,k2", address: payments, group: g}
                """, Map.of());
        assertThat(c.bridges()).hasSize(2);
        io.omnibus.server.bridge.BridgeConfig out = c.bridges().get(0);
        assertThat(out.outbound()).isTrue();
        assertThat(out.remoteAddress()).isEqualTo("{address}");
        assertThat(out.remote().tls()).isTrue();
        assertThat(out.remote().caFile()).isEqualTo("/etc/ca.pem");
        assertThat(out.remote().inFlight()).isEqualTo(100);
        assertThat(out.remote().hosts()).containsExactly("broker.example:5671");
        io.omnibus.server.bridge.BridgeConfig in = c.bridges().get(1);
        assertThat(in.local()).isEqualTo("{address}");
        assertThat(in.remote().hosts()).containsExactly("k1:9092", "k2:9092");

        String base = "bridges:\n  - {name: b, direction: out, local: \"a/#\", remote: {url: \"%s\"%s}}\n";
        assertThatThrownBy(() -> load(base.formatted("stomp://h", ""), Map.of()))
                .hasMessageContaining("bridges[0].remote.url: no bridge connector for 'stomp://'");
        assertThatThrownBy(() -> load(base.formatted("mqtt://h", ", qos: 3"), Map.of()))
                .hasMessageContaining("bridges[0].remote.qos: must be between 0 and 2");
        assertThatThrownBy(() -> load(base.formatted("mqtt://h", ", group: x"), Map.of()))
                .hasMessageContaining("bridges[0].remote.group: unknown key");
        assertThatThrownBy(() -> load(base.formatted("ws://h", ""), Map.of()))
                .hasMessageContaining("MQTT over WebSocket is not supported");
        assertThatThrownBy(() -> load(base.formatted("mqtt://user:pw@h", ""), Map.of()))
                .hasMessageContaining("credentials go in remote.username");
        assertThatThrownBy(() -> load("bridges:\n  - {name: b, local: x, remote: {url: \"mqtt://h\"}}\n", Map.of()))
                .hasMessageContaining("bridges[0].direction: is required");
        assertThatThrownBy(() -> load("bridges:\n  - {name: b, direction: in, remote: {url: \"mqtt://h\"}}\n", Map.of()))
                .hasMessageContaining("bridges[0].remote.address: an inbound bridge needs");
        assertThatThrownBy(() -> load(("bridges:\n  - {name: b, direction: out, local: x, remote: {url: \"mqtt://h\"}}\n"
                + "  - {name: b, direction: out, local: y, remote: {url: \"mqtt://h\"}}\n"), Map.of()))
                .hasMessageContaining("bridges[1].name: two bridges are named 'b'");
    }
}
