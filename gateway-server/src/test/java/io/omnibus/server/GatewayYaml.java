package io.omnibus.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A gateway configuration file for tests that run the gateway as a process: the admin API on loopback (port 0 unless
 * set), every protocol off unless turned on with its port, the store and anything else as YAML. One place for what
 * the tests' configurations share, so that each test states only what it is about.
 */
final class GatewayYaml {
    private String adminHost = "127.0.0.1";
    private int adminPort;
    private String host;
    private boolean anonymous;
    private String store = "";
    private final Map<String, Integer> protocols = new LinkedHashMap<>();
    private final Map<String, String> protocolKeys = new LinkedHashMap<>();
    private final List<String> more = new ArrayList<>();

    private GatewayYaml() {
        for (String p : List.of("mqtt", "amqp", "kafka", "openmessaging")) {
            protocols.put(p, null);
        }
    }

    /** The {@code store} section: its keys as YAML lines indented from zero ({@code "type: file\nfsync: group"}). */
    static GatewayYaml store(String storeKeys) {
        GatewayYaml y = new GatewayYaml();
        y.store = "store:\n" + indent(storeKeys, "  ");
        return y;
    }

    /**
     * The Kafka store on {@code bootstrap}; {@code kafkaKeys} are more keys of {@code store.kafka}, as YAML lines
     * indented from zero ({@code "node-id: a"}, {@code "properties:\n  security.protocol: SSL"}).
     */
    static GatewayYaml kafkaStore(String bootstrap, String... kafkaKeys) {
        GatewayYaml y = new GatewayYaml();
        StringBuilder s = new StringBuilder("store:\n  type: kafka\n  kafka:\n    bootstrap-servers: ").append(bootstrap)
                .append('\n');
        for (String k : kafkaKeys) {
            s.append(indent(k, "    "));
        }
        y.store = s.toString();
        return y;
    }

    /** More keys of the {@code store} section itself ({@code "retention-age: 2s"}), after the others. */
    GatewayYaml storeKeys(String yaml) {
        store = store + indent(yaml, "  ");
        return this;
    }

    private static String indent(String yaml, String by) {
        StringBuilder s = new StringBuilder();
        yaml.lines().filter(l -> !l.isBlank()).forEach(l -> s.append(by).append(l).append('\n'));
        return s.toString();
    }

    GatewayYaml admin(String host, int port) {
        this.adminHost = host;
        this.adminPort = port;
        return this;
    }

    /** The address the protocols' listeners bind (their default otherwise). */
    GatewayYaml host(String host) {
        this.host = host;
        return this;
    }

    /** Clients without credentials let in from anywhere, not only from loopback. */
    GatewayYaml allowAnonymous() {
        this.anonymous = true;
        return this;
    }

    /** MQTT on {@code port}, without its WebSocket listener; {@code keys}: more of its keys, one per line. */
    GatewayYaml mqtt(int port, String... keys) {
        protocols.put("mqtt", port);
        protocolKeys.put("mqtt", String.join("\n", keys));
        return this;
    }

    GatewayYaml amqp(int port) {
        protocols.put("amqp", port);
        return this;
    }

    /** The Kafka wire protocol on {@code port}, advertising loopback. */
    GatewayYaml kafka(int port) {
        protocols.put("kafka", port);
        return this;
    }

    /** More top-level YAML ({@code "shutdown:\n  timeout: 5s"}). */
    GatewayYaml with(String yaml) {
        more.add(yaml.endsWith("\n") ? yaml : yaml + "\n");
        return this;
    }

    String yaml() {
        StringBuilder s = new StringBuilder();
        if (anonymous) {
            s.append("allow-anonymous: true\n");
        }
        s.append("admin:\n  host: ").append(adminHost).append("\n  port: ").append(adminPort).append('\n');
        s.append(store);
        protocols.forEach((name, port) -> {
            s.append(name).append(":\n  enabled: ").append(port != null).append('\n');
            if (port != null) {
                if (host != null) {
                    s.append("  host: ").append(host).append('\n');
                }
                s.append("  port: ").append(port).append('\n');
                s.append(indent(protocolKeys.getOrDefault(name, ""), "  "));
                switch (name) {
                    case "mqtt" -> s.append("  websocket:\n    enabled: false\n");
                    case "kafka" -> s.append("  advertised-host: ").append(host != null ? host : "127.0.0.1").append('\n');
                    default -> { }
                }
            }
        });
        more.forEach(s::append);
        return s.toString();
    }

    /** Writes {@code gateway.yaml} into {@code dir} (made if missing). */
    Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        return GatewayProcess.writeConfig(dir, yaml());
    }
}
