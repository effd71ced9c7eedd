package io.omnibus.server;

import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three gateway nodes on one Kafka store: a real Apache Kafka cluster of three KRaft brokers, the store's topics made
 * with the cluster's defaults (replication factor 3, {@code min.insync.replicas} 2). One node is active, two are
 * standbys. Under QoS 1 load, one Kafka broker is killed with {@code kill -9}; then the active gateway node is. One of
 * the standbys takes over through Kafka's group membership, the other stays a standby, and the clients' own failover
 * lists (Paho's server URIs, Qpid JMS's {@code failover:}, kafka-clients' bootstrap list) take them there. Every PUBACKed message reaches the persistent
 * MQTT session that was offline (created on the dead node, drained from the new one), the online MQTT subscriber, the
 * JMS queue consumer and the Kafka group consumer: lost = 0.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class KafkaClusterIT {
    @TempDir
    Path dir;

    @Test
    void aKafkaBrokerThenTheActiveNodeKilledUnderLoadLoseNoAcknowledgedMessage() throws Exception {
        Map<String, List<String>> received = new ConcurrentHashMap<>();
        for (String s : List.of("offline", "online", "jms", "kafka")) {
            received.put(s, new CopyOnWriteArrayList<>());
        }
        int[] ports = {RemoteBroker.freePort(), RemoteBroker.freePort(), RemoteBroker.freePort()};
        int[] controllers = {RemoteBroker.freePort(), RemoteBroker.freePort(), RemoteBroker.freePort()};
        List<RemoteBroker> cluster = RemoteBroker.kafkaCluster(dir.resolve("kafka"), ports, controllers);
        try {
            String bootstrap = java.util.Arrays.stream(ports).mapToObj(p -> "127.0.0.1:" + p)
                    .collect(java.util.stream.Collectors.joining(","));
            ClusterNode a = ClusterNode.make(dir, "node-a", bootstrap);
            ClusterNode b = ClusterNode.make(dir, "node-b", bootstrap);
            ClusterNode c = ClusterNode.make(dir, "node-c", bootstrap);
            GatewayProcess gwA = a.run();
            gwA.awaitReady();
            try (GatewayProcess gwB = b.run(); GatewayProcess gwC = c.run()) {
                for (ClusterNode standby : List.of(b, c)) {
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                            .until(() -> "standby".equals(standby.store().getString("role")));
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> standby.store().getString("active-node").startsWith("node-a "));
                }
                assertThat(a.store().getString("role")).isEqualTo("active");
                // every node's view of its peers: the nodes' group
                await().atMost(Duration.ofSeconds(30)).until(() -> a.store().getJsonArray("nodes").size() == 3);
                assertThat(a.store().getJsonArray("nodes").stream().map(Object::toString).toList())
                        .anyMatch(n -> n.startsWith("node-b ")).anyMatch(n -> n.startsWith("node-c "));
                // a standby's admin API: node-a answers it
                var api = new AdminHttp(b.admin()).send("GET", "/api/subscriptions");
                assertThat(api.statusCode()).isEqualTo(200);
                assertThat(api.headers().firstValue("X-Omnibus-Served-By")).hasValue("node-a");
                assertThat(gwB.out).noneMatch(l -> l.startsWith("omnibus: ready"));
                assertThat(gwC.out).noneMatch(l -> l.startsWith("omnibus: ready"));

                String[] mqttNodes = {"tcp://127.0.0.1:" + a.mqtt(), "tcp://127.0.0.1:" + b.mqtt(),
                        "tcp://127.0.0.1:" + c.mqtt()};
                MqttClient offline = new MqttClient(mqttNodes[0], "offline", new MemoryPersistence());
                offline.connect(persistent(mqttNodes));
                offline.subscribe("fail/#", 1);
                offline.disconnect();
                offline.close();

                MqttClient online = new MqttClient(mqttNodes[0], "online", new MemoryPersistence());
                online.setCallback(Received.mqtt(received.get("online")));
                online.connect(persistent(mqttNodes));
                online.subscribe("fail/#", 1);

                Connection jms = new JmsConnectionFactory("failover:(amqp://127.0.0.1:" + a.amqp() + ",amqp://127.0.0.1:"
                        + b.amqp() + ",amqp://127.0.0.1:" + c.amqp() + ")?failover.maxReconnectAttempts=-1")
                        .createConnection();
                Session session = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageConsumer consumer = session.createConsumer(session.createQueue("fail/#"));
                Received.jms(consumer, received.get("jms"));
                jms.start();
                GroupConsumer group = new GroupConsumer("fail.*", "127.0.0.1:" + a.kafka() + ",127.0.0.1:" + b.kafka()
                        + ",127.0.0.1:" + c.kafka(), received.get("kafka"));

                MqttAsyncClient pub = new MqttAsyncClient(mqttNodes[0], "pub", new MemoryPersistence());
                MqttConnectOptions o = new MqttConnectOptions();
                o.setServerURIs(mqttNodes);
                o.setAutomaticReconnect(true);
                o.setMaxReconnectDelay(500);
                o.setMaxInflight(64);
                pub.connect(o).waitForCompletion(10_000);
                AckedLoad load = new AckedLoad(pub, "fail/line", 3);
                Set<String> acked = load.acked;

                await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 1000);
                // kill -9 of a Kafka broker under load: the one coordinating the nodes' group, the hardest for the lease
                int coordinator;
                try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                        Map.of("bootstrap.servers", bootstrap))) {
                    coordinator = admin.describeConsumerGroups(List.of("omnibus.nodes")).all().get(30, TimeUnit.SECONDS)
                            .get("omnibus.nodes").coordinator().id();
                }
                cluster.get(coordinator - 1).kill();
                int atBrokerKill = acked.size();
                await().atMost(Duration.ofSeconds(120)).until(() -> acked.size() >= atBrokerKill + 1000);
                assertThat(gwA.process.isAlive()).as("the active node kept its role through the coordinator's death")
                        .isTrue();
                assertThat(a.store().getString("role")).isEqualTo("active");
                assertThat(b.store().getString("role")).isEqualTo("standby");
                assertThat(c.store().getString("role")).isEqualTo("standby");
                gwA.process.destroyForcibly(); // kill -9 of the active node, under load
                gwA.process.waitFor(30, TimeUnit.SECONDS);
                long killed = System.nanoTime();
                int atKill = acked.size();
                Map<String, Integer> receivedAtKill = new java.util.TreeMap<>();
                received.forEach((k, v) -> receivedAtKill.put(k, v.size()));
                gwA.err.stream().filter(l -> l.contains("WARN") || l.contains("ERROR"))
                        .forEach(l -> System.out.println("node-a: " + l));
                // one of the standbys takes over, the group decides which; the other stays a standby
                await().atMost(Duration.ofSeconds(120)).until(() -> ClusterNode.ready(gwB) || ClusterNode.ready(gwC));
                long takeover = (System.nanoTime() - killed) / 1_000_000;
                boolean bTook = ClusterNode.ready(gwB);
                ClusterNode x = bTook ? b : c;
                ClusterNode y = bTook ? c : b;
                GatewayProcess gwX = bTook ? gwB : gwC;
                String xName = bTook ? "node-b" : "node-c";
                gwX.err.stream().filter(l -> l.contains("Kafka store")).forEach(l -> System.out.println(xName + ": " + l));
                GatewayProcess gwY = bTook ? gwC : gwB;
                String yName = bTook ? "node-c" : "node-b";
                gwY.err.stream().filter(l -> l.contains("Kafka store") || l.contains("ERROR"))
                        .forEach(l -> System.out.println(yName + ": " + l));
                assertThat(gwY.process.isAlive()).as("the other standby, %s, runs; its output:%n%s%n%s", yName,
                        String.join("\n", gwY.out), gwY.stderr()).isTrue();
                assertThat(x.store().getString("role")).isEqualTo("active");
                await().atMost(Duration.ofSeconds(30)).until(() -> x.store().getString("active-node").startsWith(xName + " "));
                await().atMost(Duration.ofSeconds(30)).until(() -> y.store().getString("active-node").startsWith(xName + " "));
                assertThat(y.store().getString("role")).as("the other standby").isEqualTo("standby");
                await().atMost(Duration.ofSeconds(120)).until(() -> acked.size() >= atKill + 1000);
                load.close();

                MqttClient drain = new MqttClient(mqttNodes[1], "offline", new MemoryPersistence());
                // persistent(mqttNodes) lists every node: Paho goes to the one that serves
                drain.setCallback(Received.mqtt(received.get("offline")));
                drain.connect(persistent(mqttNodes));
                for (Map.Entry<String, List<String>> e : received.entrySet()) {
                    try {
                        await().atMost(Duration.ofSeconds(120)).until(() -> new HashSet<>(e.getValue()).containsAll(acked));
                    } catch (org.awaitility.core.ConditionTimeoutException t) {
                        Set<String> missing = new HashSet<>(acked);
                        missing.removeAll(e.getValue());
                        throw new AssertionError(e.getKey() + " lost " + missing.size() + " of " + acked.size()
                                + " acknowledged messages, e.g. " + missing.stream().limit(10).toList(), t);
                    }
                }
                StringBuilder report = new StringBuilder("KafkaClusterIT: " + acked.size() + " PUBACKed, "
                        + atBrokerKill + " before the kill of Kafka broker " + coordinator + " (the nodes' group coordinator), "
                        + atKill + " before the active node's; " + xName + " was ready " + takeover + " ms after it; "
                        + "received before it " + receivedAtKill);
                received.forEach((k, v) -> report.append("; ").append(k).append(": received ").append(v.size())
                        .append(", duplicates ").append(v.size() - new HashSet<>(v).size()));
                System.out.println(report);
                for (List<String> got : received.values()) {
                    // redelivery is bounded by what was in flight at the kill (Qpid JMS prefetches 1,000)
                    assertThat(got.size() - new HashSet<>(got).size()).as(report.toString()).isLessThanOrEqualTo(2000);
                }
                drain.disconnect();

                // the killed node, started again, is a standby; the active one stopped cleanly hands over at once, to
                // one of the two standbys
                try (GatewayProcess again = a.run()) {
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                            .until(() -> "standby".equals(a.store().getString("role")));
                    gwX.process.toHandle().destroy(); // SIGTERM (Process.destroy would also close its output's pipes)
                    long stopped = System.nanoTime();
                    await().atMost(Duration.ofSeconds(60))
                            .until(() -> ClusterNode.ready(again) || ClusterNode.ready(gwY));
                    long handover = (System.nanoTime() - stopped) / 1_000_000;
                    int status = gwX.waitForExit(30);
                    assertThat(status).as("the stopped node's exit status; its output:\n%s\n%s", tail(gwX.stdout()),
                            tail(gwX.stderr())).isZero();
                    int before = received.get("online").size();
                    MqttClient last = new MqttClient(mqttNodes[0], "last", new MemoryPersistence());
                    MqttConnectOptions anyNode = new MqttConnectOptions();
                    anyNode.setServerURIs(mqttNodes);
                    last.connect(anyNode);
                    last.publish("fail/last", "after the handover".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false);
                    last.disconnect();
                    await().atMost(Duration.ofSeconds(60)).until(() -> received.get("online").contains("after the handover"));
                    System.out.println("KafkaClusterIT: after SIGTERM of the active node, "
                            + (ClusterNode.ready(again) ? "the restarted node-a" : "the other standby") + " was ready "
                            + handover + " ms later; the online subscriber got " + (received.get("online").size() - before)
                            + " message(s) through it");
                }
                group.close();
                jms.close();
                try { // reconnecting after the handover, or not: either way the test is over
                    online.disconnectForcibly(100, 100, false);
                    pub.disconnectForcibly(100, 100, false);
                } catch (org.eclipse.paho.client.mqttv3.MqttException e) {
                    // nothing to disconnect
                }
            } finally {
                gwA.close();
            }
        } finally {
            for (RemoteBroker k : cluster) {
                k.close();
            }
        }
    }

    private static MqttConnectOptions persistent(String[] nodes) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        o.setMaxInflight(1000);
        o.setServerURIs(nodes);
        o.setAutomaticReconnect(true);
        o.setMaxReconnectDelay(500);
        return o;
    }

    private static String tail(String output) {
        String[] lines = output.split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - 40), lines.length));
    }
}
