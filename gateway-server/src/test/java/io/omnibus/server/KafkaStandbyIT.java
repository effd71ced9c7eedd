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

import java.nio.charset.StandardCharsets;
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
 * Any node serves any client: three gateway nodes on one Kafka store, one active and two standbys, each client given
 * one node only (no failover list). The standbys pass their clients' connections on to the active node. As the
 * cluster issue's test has it: QoS 1 publishers on node 1, a persistent MQTT session on node 2, one Qpid JMS queue
 * with a consumer on node 2 and one on node 3, a kafka-clients group through node 3. Every PUBACKed message reaches the
 * session and the Kafka group, each queue message one of the two JMS consumers. Then the active node is killed with
 * {@code kill -9}: the clients reconnect to the node they know, which serves or passes them on to the node that took
 * over, and nothing acknowledged is lost. The killed node, started again, is a standby that passes its clients on too.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class KafkaStandbyIT {
    @TempDir
    Path dir;

    private static MqttConnectOptions reconnecting(boolean clean, String... uris) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setServerURIs(uris);
        o.setCleanSession(clean);
        o.setAutomaticReconnect(true);
        o.setMaxReconnectDelay(500);
        o.setMaxInflight(64);
        return o;
    }

    private static MessageConsumer jmsConsumer(ClusterNode n, List<String> sink, List<Connection> opened) throws Exception {
        // one node in the failover list: the client reconnects to the same node, whatever its role then
        Connection c = new JmsConnectionFactory("failover:(amqp://127.0.0.1:" + n.amqp()
                + ")?failover.maxReconnectAttempts=-1&failover.maxReconnectDelay=500").createConnection();
        opened.add(c);
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = s.createConsumer(s.createQueue("any/#"));
        Received.jms(consumer, sink);
        c.start();
        return consumer;
    }

    @Test
    void clientsOfStandbysAreServedByTheActiveNodeAcrossItsDeath() throws Exception {
        Map<String, List<String>> received = new ConcurrentHashMap<>();
        for (String s : List.of("session", "jms-b", "jms-c", "kafka")) {
            received.put(s, new CopyOnWriteArrayList<>());
        }
        RemoteBroker kafka = RemoteBroker.kafka(dir.resolve("kafka"), RemoteBroker.freePort(), RemoteBroker.freePort());
        List<Connection> jms = new CopyOnWriteArrayList<>();
        try {
            // the standbys name each client in a PROXY header; with no proxy-protocol key, the node serving honours
            // the headers of the nodes its Kafka cluster has in the nodes' group (all on 127.0.0.1)
            ClusterNode a = ClusterNode.make(dir, "node-a", "127.0.0.1:" + kafka.port, "replication-factor: 1",
                    "standby-proxy-protocol: true");
            ClusterNode b = ClusterNode.make(dir, "node-b", "127.0.0.1:" + kafka.port, "replication-factor: 1",
                    "standby-proxy-protocol: true");
            ClusterNode c = ClusterNode.make(dir, "node-c", "127.0.0.1:" + kafka.port, "replication-factor: 1",
                    "standby-proxy-protocol: true");
            // MQTT over WebSocket too, passed on with its header as the TCP ports' connections are
            int wsA = GatewayProcess.freePort();
            Map<String, String> envA = webSocket(wsA);
            Map<String, String> envB = webSocket(GatewayProcess.freePort());
            Map<String, String> envC = webSocket(GatewayProcess.freePort());
            // node-a is killed on purpose below; closing it then is harmless, and a failure before leaves no process
            try (GatewayProcess gwA = a.run(envA); GatewayProcess gwB = runAfter(gwA, b, envB);
                 GatewayProcess gwC = c.run(envC)) {
                for (ClusterNode standby : List.of(b, c)) {
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                            .until(() -> "standby".equals(standby.store().getString("role")));
                }
                MqttClient session = new MqttClient(b.mqttUri(), "session", new MemoryPersistence());
                session.setCallback(Received.mqtt(received.get("session")));
                // the first connection may come before the standby learnt where the active node listens: it retries
                MqttConnectOptions fromTwo = reconnecting(false, b.mqttUri());
                fromTwo.setSocketFactory(new io.omnibus.core.harness.BoundSockets("127.0.0.2"));
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                    session.connect(fromTwo);
                    return true;
                });
                session.subscribe("any/#", 1);
                // the active node sees the session's client as itself (127.0.0.2), not as node-b (127.0.0.1)
                io.vertx.core.json.JsonArray onA = new io.vertx.core.json.JsonArray(new AdminHttp(a.admin())
                        .send("GET", "/api/connections").body());
                assertThat(onA.stream().map(o -> (io.vertx.core.json.JsonObject) o)
                        .filter(o -> "session".equals(o.getString("clientId"))).map(o -> o.getString("remoteAddress")))
                        .singleElement().asString().matches("/?127\\.0\\.0\\.2:\\d+");
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                        .until(() -> jmsConsumer(b, received.get("jms-b"), jms) != null);
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                        .until(() -> jmsConsumer(c, received.get("jms-c"), jms) != null);
                // node-b's health: the node it passes connections on to, and how many (the session and a JMS consumer)
                await().atMost(Duration.ofSeconds(30)).until(() -> b.store().getJsonObject("forwarding")
                        .getInteger("connections") >= 2);
                assertThat(b.store().getJsonObject("forwarding").getString("to")).startsWith("node-a (");
                // node-b's admin API answers for the cluster: node-a, serving, answers what node-b is asked
                java.net.http.HttpResponse<String> viaB = new AdminHttp(b.admin()).send("GET", "/api/connections");
                assertThat(viaB.statusCode()).isEqualTo(200);
                assertThat(viaB.headers().firstValue("X-Omnibus-Served-By")).hasValue("node-a");
                assertThat(new io.vertx.core.json.JsonArray(viaB.body()).stream()
                        .map(o -> ((io.vertx.core.json.JsonObject) o).getString("clientId"))).contains("session");
                java.net.http.HttpResponse<String> gone = new AdminHttp(c.admin()).send("DELETE", "/api/topics/no-such");
                assertThat(gone.statusCode()).isEqualTo(404); // an action, answered by node-a
                assertThat(gone.headers().firstValue("X-Omnibus-Served-By")).hasValue("node-a");
                GroupConsumer group = new GroupConsumer("any.*", "127.0.0.1:" + c.kafka(), received.get("kafka"));

                MqttAsyncClient pub = new MqttAsyncClient(a.mqttUri(), "pub", new MemoryPersistence());
                pub.connect(reconnecting(true, a.mqttUri(), b.mqttUri())).waitForCompletion(10_000);
                AckedLoad load = new AckedLoad(pub, "any/line", 3);
                Set<String> acked = load.acked;
                await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 1000);
                // every acknowledged message so far reached each subscriber, each queue message one consumer
                Set<String> before = Set.copyOf(acked);
                for (String s : List.of("session", "kafka")) {
                    await().atMost(Duration.ofSeconds(60)).until(() -> received.get(s).containsAll(before));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    Set<String> both = new HashSet<>(received.get("jms-b"));
                    both.addAll(received.get("jms-c"));
                    return both.containsAll(before);
                });
                List<String> onB = List.copyOf(received.get("jms-b"));
                List<String> onC = List.copyOf(received.get("jms-c"));
                assertThat(onB).as("the queue's consumer on node-b").isNotEmpty().doesNotHaveDuplicates();
                assertThat(onC).as("the queue's consumer on node-c").isNotEmpty().doesNotHaveDuplicates();
                assertThat(new HashSet<>(onB)).as("messages both queue consumers got").doesNotContainAnyElementsOf(onC);
                assertThat(gwB.out).noneMatch(l -> l.startsWith("omnibus: ready"));
                assertThat(gwC.out).noneMatch(l -> l.startsWith("omnibus: ready"));

                gwA.process.destroyForcibly(); // kill -9 of the active node, under load
                gwA.process.waitFor(30, TimeUnit.SECONDS);
                int atKill = acked.size();
                await().atMost(Duration.ofSeconds(120)).until(() -> ClusterNode.ready(gwB) || ClusterNode.ready(gwC));
                ClusterNode active = ClusterNode.ready(gwB) ? b : c;
                await().atMost(Duration.ofSeconds(120)).until(() -> acked.size() >= atKill + 1000);
                load.close();

                // node-a again, a standby now: its clients reach the node that took over
                try (GatewayProcess gwA2 = a.run(envA)) {
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                            .until(() -> "standby".equals(a.store().getString("role")));
                    MqttClient late = new MqttClient(a.mqttUri(), "late", new MemoryPersistence());
                    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                        late.connect();
                        return true;
                    });
                    late.publish("any/late", "late".getBytes(StandardCharsets.UTF_8), 1, false); // returns once PUBACKed
                    acked.add("late");
                    late.disconnect();
                    late.close();
                    MqttClient overWs = new MqttClient("ws://127.0.0.1:" + wsA + "/mqtt", "over-ws", new MemoryPersistence());
                    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                        overWs.connect();
                        return true;
                    });
                    overWs.publish("any/ws", "over-ws".getBytes(StandardCharsets.UTF_8), 1, false);
                    acked.add("over-ws");
                    overWs.disconnect();
                    overWs.close();
                    for (Map.Entry<String, List<String>> e : Map.of("session", received.get("session"),
                            "kafka", received.get("kafka")).entrySet()) {
                        awaitAll(e.getKey(), e.getValue(), acked);
                    }
                    List<String> queue = new CopyOnWriteArrayList<>(received.get("jms-b"));
                    await().atMost(Duration.ofSeconds(120)).until(() -> {
                        queue.clear();
                        queue.addAll(received.get("jms-b"));
                        queue.addAll(received.get("jms-c"));
                        return queue.containsAll(acked);
                    });
                    assertThat(gwA2.out).noneMatch(l -> l.startsWith("omnibus: ready"));
                    StringBuilder report = new StringBuilder("KafkaStandbyIT: " + acked.size() + " PUBACKed, " + atKill
                            + " before node-a's kill; " + active.name() + " took over");
                    received.forEach((k, v) -> report.append("; ").append(k).append(": received ").append(v.size())
                            .append(", duplicates ").append(v.size() - new HashSet<>(v).size()));
                    System.out.println(report);
                }
                group.close();
                session.disconnect();
                session.close();
            }
        } finally {
            for (Connection j : jms) {
                try {
                    j.close();
                } catch (Exception ignored) {
                    // the node went away
                }
            }
            kafka.close();
        }
    }

    /** A node's MQTT WebSocket listener on {@code port}. */
    private static Map<String, String> webSocket(int port) {
        return Map.of("OMNIBUS_MQTT_WEBSOCKET_ENABLED", "true", "OMNIBUS_MQTT_WEBSOCKET_PORT", Integer.toString(port));
    }

    /** Runs {@code node} once {@code first} is ready (the first node is the active one). */
    private static GatewayProcess runAfter(GatewayProcess first, ClusterNode node, Map<String, String> env)
            throws Exception {
        first.awaitReady();
        return node.run(env);
    }

    private static void awaitAll(String who, List<String> got, Set<String> acked) {
        try {
            await().atMost(Duration.ofSeconds(120)).until(() -> new HashSet<>(got).containsAll(acked));
        } catch (org.awaitility.core.ConditionTimeoutException t) {
            Set<String> missing = new HashSet<>(acked);
            missing.removeAll(got);
            throw new AssertionError(who + " lost " + missing.size() + " of " + acked.size()
                    + " acknowledged messages, e.g. " + missing.stream().limit(10).toList(), t);
        }
    }
}
