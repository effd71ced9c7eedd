package io.omnibus.server;

import io.vertx.core.json.JsonObject;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The active node of a Kafka store frozen ({@code kill -STOP}: a long collector pause, a stalled VM) for longer than its
 * session timeout, against a real Apache Kafka (KRaft, Maven Central's jars). The standby takes the active role through
 * Kafka's group membership and serves; the frozen node, resumed, finds it lost the role and exits with status 3 instead
 * of serving beside the new active node; a persistent MQTT session made on the frozen node gets every PUBACKed message
 * (published before the pause to the old node and during it to the new one) from the new node.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class KafkaPauseIT {
    @TempDir
    Path dir;

    private record Node(int admin, int mqtt, Path config) {
    }

    private Node node(String name, int kafkaPort) throws Exception {
        Path d = dir.resolve(name);
        java.nio.file.Files.createDirectories(d);
        int admin = GatewayProcess.freePort();
        int mqtt = GatewayProcess.freePort();
        return new Node(admin, mqtt, GatewayYaml.kafkaStore("127.0.0.1:" + kafkaPort, "replication-factor: 1",
                "node-id: " + name, "session-timeout: 6s").admin("127.0.0.1", admin).mqtt(mqtt).write(d));
    }

    private GatewayProcess run(Node n, String name) throws Exception {
        return GatewayProcess.run(Map.of(), "start", "--config", n.config().toString(), "--data-dir",
                dir.resolve(name).resolve("data").toString());
    }

    private static String role(Node n) throws Exception {
        return new JsonObject(new AdminHttp(n.admin()).send("GET", "/health").body()).getJsonObject("store")
                .getString("role");
    }

    private static void signal(GatewayProcess g, String which) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + which, Long.toString(g.process.pid())).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -" + which).isZero();
    }

    private static List<String> publish(String uri, String client, String prefix, int count) throws Exception {
        List<String> acked = new ArrayList<>();
        MqttClient pub = new MqttClient(uri, client, new MemoryPersistence());
        pub.connect();
        for (int i = 0; i < count; i++) {
            String body = prefix + i;
            pub.publish("pause/line", body.getBytes(StandardCharsets.UTF_8), 1, false); // returns once PUBACKed
            acked.add(body);
        }
        pub.disconnect();
        pub.close();
        return acked;
    }

    @Test
    void aFrozenActiveNodeLosesItsRoleToTheStandbyAndExitsWhenItWakes() throws Exception {
        RemoteBroker kafka = RemoteBroker.kafka(dir.resolve("kafka"), RemoteBroker.freePort(), RemoteBroker.freePort());
        try {
            Node a = node("node-a", kafka.port);
            Node b = node("node-b", kafka.port);
            try (GatewayProcess gwA = run(a, "node-a")) {
                gwA.awaitReady();
                try (GatewayProcess gwB = run(b, "node-b")) {
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> "standby".equals(role(b)));
                    String onA = "tcp://127.0.0.1:" + a.mqtt();
                    String onB = "tcp://127.0.0.1:" + b.mqtt();
                    MqttConnectOptions persistent = new MqttConnectOptions();
                    persistent.setCleanSession(false);
                    MqttClient sub = new MqttClient(onA, "sub", new MemoryPersistence());
                    sub.connect(persistent);
                    sub.subscribe("pause/#", 1);
                    sub.disconnect();
                    sub.close();
                    List<String> acked = new ArrayList<>(publish(onA, "before", "before-", 200));

                    signal(gwA, "STOP");
                    long frozen = System.nanoTime();
                    try {
                        gwB.awaitReady(); // the standby serves once the frozen node's session expired
                        assertThat(role(b)).isEqualTo("active");
                        long takeover = (System.nanoTime() - frozen) / 1_000_000;
                        acked.addAll(publish(onB, "during", "during-", 200));
                        signal(gwA, "CONT");
                        long resumed = System.nanoTime();
                        int status = gwA.waitForExit(60);
                        long exited = (System.nanoTime() - resumed) / 1_000_000;
                        assertThat(status).as("the resumed node's exit status; stderr %s", gwA.stderr()).isEqualTo(3);
                        assertThat(gwA.stderr()).contains("the active one of the Kafka store");
                        assertThat(role(b)).as("the new active node keeps its role").isEqualTo("active");

                        List<String> got = new CopyOnWriteArrayList<>();
                        MqttClient again = new MqttClient(onB, "sub", new MemoryPersistence());
                        again.setCallback(Received.mqtt(got));
                        again.connect(persistent);
                        await().atMost(Duration.ofSeconds(60)).until(() -> new HashSet<>(got).containsAll(acked));
                        again.disconnect();
                        again.close();
                        System.out.println("KafkaPauseIT: the standby served " + takeover + " ms after the active node froze; "
                                + "the frozen node exited with status 3 " + exited + " ms after it resumed; the session got "
                                + got.size() + " messages for " + acked.size() + " PUBACKed (duplicates "
                                + (got.size() - new HashSet<>(got).size()) + ")");
                    } finally {
                        if (gwA.process.isAlive()) {
                            signal(gwA, "CONT"); // so that close() can end it
                        }
                    }
                }
            }
        } finally {
            kafka.close();
        }
    }
}
