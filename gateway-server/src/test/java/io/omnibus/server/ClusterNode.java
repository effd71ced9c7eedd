package io.omnibus.server;

import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A gateway node of a test's Kafka store, run as a child process: its ports, chosen before it starts so that clients
 * can list every node, its configuration (6 s session timeout) and its data directory under {@code dir}.
 */
record ClusterNode(String name, Path dir, int admin, int mqtt, int amqp, int kafka, Path config) {
    /** A node {@code name} of the store at {@code bootstrap}, with more {@code store.kafka} keys. */
    static ClusterNode make(Path testDir, String name, String bootstrap, String... kafkaKeys) throws Exception {
        Path d = Files.createDirectories(testDir.resolve(name));
        int admin = GatewayProcess.freePort();
        int mqtt = GatewayProcess.freePort();
        int amqp = GatewayProcess.freePort();
        int kafka = GatewayProcess.freePort();
        List<String> keys = new ArrayList<>(List.of(kafkaKeys));
        keys.add("node-id: " + name);
        keys.add("session-timeout: 6s");
        return new ClusterNode(name, d, admin, mqtt, amqp, kafka, GatewayYaml.kafkaStore(bootstrap,
                keys.toArray(String[]::new)).admin("127.0.0.1", admin).mqtt(mqtt).amqp(amqp).kafka(kafka)
                .with("shutdown:\n  timeout: 5s").write(d));
    }

    GatewayProcess run() throws Exception {
        return run(Map.of());
    }

    /** Runs the node with {@code env} added to its environment ({@code OMNIBUS_*} overrides). */
    GatewayProcess run(Map<String, String> env) throws Exception {
        return GatewayProcess.run(env, "start", "--config", config.toString(), "--data-dir",
                dir.resolve("data").toString());
    }

    String mqttUri() {
        return "tcp://127.0.0.1:" + mqtt;
    }

    /** The store section of the node's {@code /health}. */
    JsonObject store() throws Exception {
        return new JsonObject(new AdminHttp(admin).send("GET", "/health").body()).getJsonObject("store");
    }

    static boolean ready(GatewayProcess g) {
        return g.out.stream().anyMatch(l -> l.startsWith("omnibus: ready"));
    }
}
