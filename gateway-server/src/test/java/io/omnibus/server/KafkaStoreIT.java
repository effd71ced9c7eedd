package io.omnibus.server;

import io.vertx.core.json.JsonObject;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code store.type: kafka} against a real Apache Kafka (KRaft, Maven Central's jars): JMS transactions (a Kafka
 * transaction each) and the Kafka cluster going away and coming back under load, checked by what clients receive.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class KafkaStoreIT {
    @TempDir
    Path dir;

    private RemoteBroker kafka;
    private int mqttPort;
    private int amqpPort;
    private Path cfg;

    @BeforeEach
    void start() throws Exception {
        kafka = RemoteBroker.kafka(dir.resolve("kafka"), RemoteBroker.freePort(), RemoteBroker.freePort());
        mqttPort = GatewayProcess.freePort();
        amqpPort = GatewayProcess.freePort();
        cfg = GatewayYaml.kafkaStore("127.0.0.1:" + kafka.port, "replication-factor: 1",
                "properties:\n  delivery.timeout.ms: 120000").mqtt(mqttPort).amqp(amqpPort)
                .with("shutdown:\n  timeout: 5s").write(dir);
    }

    @AfterEach
    void stop() throws Exception {
        kafka.close();
    }

    private GatewayProcess gateway(String data) throws Exception {
        GatewayProcess gw = GatewayProcess.run(Map.of(), "start", "--config", cfg.toString(), "--data-dir",
                dir.resolve(data).toString());
        gw.awaitReady();
        return gw;
    }

    /**
     * Transacted JMS sessions, the default of Spring's JMS support: a producer commits some transactions and rolls
     * others back, with plain sends in between; a transacted consumer commits what it took. After {@code kill -9} a
     * gateway with an empty data directory delivers the rest: every committed message once, nothing rolled back,
     * nothing the consumer committed again.
     */
    @Test
    void jmsTransactionsAreKafkaTransactionsThatSurviveTheNode() throws Exception {
        Set<String> expected = new HashSet<>();
        List<String> consumed = new ArrayList<>();
        try (GatewayProcess gw = gateway("data-1")) {
            Connection c = new JmsConnectionFactory("amqp://127.0.0.1:" + amqpPort).createConnection();
            c.start();
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            Session plain = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = tx.createQueue("orders");
            MessageProducer txProducer = tx.createProducer(q);
            MessageProducer plainProducer = plain.createProducer(plain.createQueue("orders"));
            for (int t = 0; t < 20; t++) {
                for (int i = 0; i < 5; i++) {
                    txProducer.send(tx.createTextMessage("tx" + t + "-" + i));
                }
                if (t % 2 == 0) {
                    tx.commit();
                    for (int i = 0; i < 5; i++) {
                        expected.add("tx" + t + "-" + i);
                    }
                } else {
                    tx.rollback();
                }
                plainProducer.send(plain.createTextMessage("plain" + t)); // between transactions' markers
                expected.add("plain" + t);
            }
            Session txIn = c.createSession(true, Session.SESSION_TRANSACTED);
            MessageConsumer in = txIn.createConsumer(txIn.createQueue("orders"));
            List<String> batch = new ArrayList<>();
            while (consumed.size() < 35) {
                TextMessage m = (TextMessage) in.receive(30_000);
                assertThat(m).as("message %d of the queue", consumed.size() + batch.size()).isNotNull();
                batch.add(m.getText());
                if (batch.size() == 7) {
                    txIn.commit();
                    consumed.addAll(batch);
                    batch.clear();
                }
            }
            gw.process.destroyForcibly(); // kill -9, with messages taken and not committed
            gw.process.waitFor(30, TimeUnit.SECONDS);
            try {
                c.close();
            } catch (Exception gone) {
                // the gateway is gone
            }
        }
        List<String> rest = new ArrayList<>();
        try (GatewayProcess gw = gateway("data-2")) {
            Connection c = new JmsConnectionFactory("amqp://127.0.0.1:" + amqpPort).createConnection();
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer in = s.createConsumer(s.createQueue("orders"));
            while (consumed.size() + rest.size() < expected.size()) {
                TextMessage m = (TextMessage) in.receive(30_000);
                assertThat(m).as("after the restart, message %d of %d", consumed.size() + rest.size(), expected.size())
                        .isNotNull();
                rest.add(m.getText());
            }
            c.close();
        }
        List<String> all = new ArrayList<>(consumed);
        all.addAll(rest);
        assertThat(all).as("each committed message once: consumed before the kill %s, after %s", consumed, rest)
                .doesNotHaveDuplicates().hasSize(expected.size());
        assertThat(new HashSet<>(all)).isEqualTo(expected);
    }

    /**
     * The Kafka cluster stops under QoS 1 load and starts again: PUBACKs wait for it, {@code /health} says the store
     * is down meanwhile, and every PUBACKed message reaches the subscriber.
     */
    @Test
    void theKafkaClusterGoneForAWhileLosesNoAcknowledgedMessage() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        try (GatewayProcess gw = gateway("data")) {
            AdminHttp admin = new AdminHttp(adminPort(gw));
            MqttClient sub = new MqttClient("tcp://127.0.0.1:" + mqttPort, "sub", new MemoryPersistence());
            sub.setCallback(Received.mqtt(got));
            MqttConnectOptions persistent = new MqttConnectOptions();
            persistent.setCleanSession(false);
            persistent.setMaxInflight(1000);
            sub.connect(persistent);
            sub.subscribe("plant/#", 1);

            MqttAsyncClient pub = new MqttAsyncClient("tcp://127.0.0.1:" + mqttPort, "pub", new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMaxInflight(64);
            o.setConnectionTimeout(0);
            pub.connect(o).waitForCompletion(10_000);
            AckedLoad load = new AckedLoad(pub, "plant/line", 4);
            Set<String> acked = load.acked;
            await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 1000);
            kafka.kill();
            await().atMost(Duration.ofSeconds(60)).until(() -> "DOWN".equals(store(admin).getString("status")));
            int whileDown = acked.size();
            kafka.start();
            try {
                await().atMost(Duration.ofSeconds(120)).until(() -> acked.size() >= whileDown + 1000);
            } catch (org.awaitility.core.ConditionTimeoutException stalled) {
                throw new AssertionError("PUBACKs did not resume after the cluster came back: " + acked.size()
                        + " PUBACKed, " + whileDown + " before it went away; the publisher "
                        + (pub.isConnected() ? "connected" : "disconnected") + "\n" + gw.diagnose(), stalled);
            }
            load.close(); // what was in flight is answered
            await().atMost(Duration.ofSeconds(60)).until(() -> "UP".equals(store(admin).getString("status")));
            await().atMost(Duration.ofSeconds(120)).until(() -> new HashSet<>(got).containsAll(acked));
            System.out.println("KafkaStoreIT: " + acked.size() + " PUBACKed, " + whileDown + " before the cluster "
                    + "went away; received " + got.size() + " (" + new HashSet<>(got).size() + " distinct)");
            pub.disconnect().waitForCompletion(10_000);
            sub.disconnect();
        }
    }

    /**
     * A persistent session subscribes to a filter that matches a topic with messages already stored, and gets none
     * published since. The node is then killed and another one started on the same cluster (an empty data directory:
     * a takeover). The session gets what was published after it subscribed, and nothing from before, as on one node:
     * a subscription's place in each partition it matched when it was made is stored with it.
     */
    @Test
    void aSessionGetsNothingPublishedBeforeItSubscribedFromTheNodeThatTookOver() throws Exception {
        MqttConnectOptions persistent = new MqttConnectOptions();
        persistent.setCleanSession(false);
        String uri = "tcp://127.0.0.1:" + mqttPort;
        try (GatewayProcess gw = gateway("data")) {
            MqttClient pub = new MqttClient(uri, "early-pub", new MemoryPersistence());
            pub.connect();
            for (int i = 0; i < 5; i++) {
                pub.publish("early/line", ("before-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false);
            }
            pub.disconnect();
            pub.close();
            MqttClient sub = new MqttClient(uri, "early", new MemoryPersistence());
            sub.connect(persistent);
            sub.subscribe("early/#", 1);
            sub.disconnect();
            sub.close();
        } // kill -9
        List<String> got = new CopyOnWriteArrayList<>();
        try (GatewayProcess gw = gateway("data-2")) {
            MqttClient pub = new MqttClient(uri, "early-pub", new MemoryPersistence());
            pub.connect();
            pub.publish("early/line", "after".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false);
            pub.disconnect();
            pub.close();
            MqttClient sub = new MqttClient(uri, "early", new MemoryPersistence());
            sub.setCallback(Received.mqtt(got));
            sub.connect(persistent);
            // one partition, read in order: what came before "after" has arrived by the time it has
            await().atMost(Duration.ofSeconds(30)).until(() -> got.contains("after"));
            assertThat(got).as("the session's messages after the takeover").containsExactly("after");
            sub.disconnect();
            sub.close();
        }
    }

    /**
     * A message another node appended to a partition (a node that lost the active role, whose producer sent what it
     * held when it woke) reaches this node's durable subscription by itself: not only once this node appends to that
     * partition again.
     */
    @Test
    void aMessageAnotherNodeAppendedReachesTheDurableSubscriptionWithoutALaterPublish() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        try (GatewayProcess gw = gateway("data")) {
            MqttClient sub = new MqttClient("tcp://127.0.0.1:" + mqttPort, "late", new MemoryPersistence());
            sub.setCallback(Received.mqtt(got));
            MqttConnectOptions persistent = new MqttConnectOptions();
            persistent.setCleanSession(false);
            sub.connect(persistent);
            sub.subscribe("late/line", 1);
            MqttClient pub = new MqttClient("tcp://127.0.0.1:" + mqttPort, "late-pub", new MemoryPersistence());
            pub.connect();
            pub.publish("late/line", "from this node".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false);
            pub.disconnect();
            pub.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> got.contains("from this node"));

            io.omnibus.store.kafka.ForeignAppends.append("127.0.0.1:" + kafka.port, "omnibus.", "late/line", 0,
                    "from another node");
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> got.contains("from another node"));
            } catch (org.awaitility.core.ConditionTimeoutException t) {
                throw new AssertionError("the other node's message did not arrive; got " + got + "\n" + gw.diagnose(), t);
            }
            assertThat(gw.stderr()).contains("grew to 2 by appends of another node");
            sub.disconnect();
            sub.close();
        }
    }

    /**
     * An active node cut off from the nodes' group's coordinator but not from every broker (a partial cut) is not told
     * that the group gave its role to another node. The topic where a node that became active says where it listens
     * tells it: another node's records are written by hand here, one of an earlier generation of the group (a dead
     * node's send arriving late), which must not stop this node, then one of a later generation, which stops it with
     * status 3, naming that node.
     */
    @Test
    void anActiveNodeStopsOnceTheEndpointsTopicShowsANodeThatBecameActiveAfterIt() throws Exception {
        stopsOnceOthersWrite((bootstrap, own) -> {
            io.omnibus.store.kafka.ForeignEndpoints.announce(bootstrap, "omnibus.", "earlier", own - 1);
            io.omnibus.store.kafka.ForeignEndpoints.announce(bootstrap, "omnibus.", "later", own + 1);
        }, "node later says it became the active node", "node earlier says");
    }

    /**
     * Kafka deletes the nodes' group about 10 minutes after its last member left, and generations then start at 1
     * again: a node that becomes active in the new group may have a generation no later than that of a node cut off
     * from the old one that still serves. The record it writes where it listens is in a transaction of the active
     * role's transactional id, which only a node that took the id after this one can commit: that stops this node,
     * whatever its generation. One written the same way but aborted (a fenced node's) must not.
     */
    @Test
    void anActiveNodeStopsOnceASuccessorWritesInTheRolesTransactionWhateverItsGeneration() throws Exception {
        stopsOnceOthersWrite((bootstrap, own) -> {
            io.omnibus.store.kafka.ForeignEndpoints.announceInTransaction(bootstrap, "omnibus.", "fenced", own + 1,
                    false);
            io.omnibus.store.kafka.ForeignEndpoints.announceInTransaction(bootstrap, "omnibus.", "successor", 1, true);
        }, "node successor says it became the active node (generation 1", "node fenced says");
    }

    /**
     * Node "first" serves; once its own record is in the endpoints topic, {@code others} write theirs (given the
     * bootstrap servers and the generation in which "first" became active); it must exit with status 3, its log
     * showing {@code stoppedBy} and not {@code notStoppedBy}.
     */
    private void stopsOnceOthersWrite(java.util.function.ObjIntConsumer<String> others, String stoppedBy,
                                      String notStoppedBy) throws Exception {
        String bootstrap = "127.0.0.1:" + kafka.port;
        try (GatewayProcess gw = GatewayProcess.run(Map.of("OMNIBUS_STORE_KAFKA_NODE_ID", "first"), "start", "--config",
                cfg.toString(), "--data-dir", dir.resolve("data").toString())) {
            gw.awaitReady();
            int[] own = {-1};
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> (own[0] = io.omnibus.store.kafka.ForeignEndpoints.generationOf(bootstrap, "omnibus.",
                            "first")) >= 1);
            others.accept(bootstrap, own[0]);
            assertThat(gw.waitForExit(60)).as(gw.stderr()).isEqualTo(Main.EXIT_LEASE_LOST);
            assertThat(gw.stderr()).contains(stoppedBy).doesNotContain(notStoppedBy);
        }
    }

    /**
     * What another node appended where this node routed nothing to a durable subscription reaches it too: on an
     * address this node knows and the subscription got nothing from yet, and on an address this node does not know at
     * all (the other node made its topic, as for an address it was the first to publish to).
     */
    @Test
    void anotherNodesMessagesOnPartitionsAndAddressesThisNodeDidNotServeReachTheSubscription() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        try (GatewayProcess gw = gateway("data")) {
            String uri = "tcp://127.0.0.1:" + mqttPort;
            MqttClient pub = new MqttClient(uri, "quiet-pub", new MemoryPersistence());
            pub.connect();
            pub.publish("quiet/old", "before the subscription".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1,
                    false);
            pub.disconnect();
            pub.close();
            MqttClient sub = new MqttClient(uri, "quiet", new MemoryPersistence());
            sub.setCallback(Received.mqtt(got));
            MqttConnectOptions persistent = new MqttConnectOptions();
            persistent.setCleanSession(false);
            sub.connect(persistent);
            sub.subscribe("quiet/#", 1);

            String bootstrap = "127.0.0.1:" + kafka.port;
            io.omnibus.store.kafka.ForeignAppends.append(bootstrap, "omnibus.", "quiet/old", 0, "known address");
            io.omnibus.store.kafka.ForeignAppends.appendToNewAddress(bootstrap, "omnibus.", "quiet/new", "new address");
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> got.containsAll(List.of("known address",
                        "new address")));
            } catch (org.awaitility.core.ConditionTimeoutException t) {
                throw new AssertionError("the other node's messages did not all arrive; got " + got + "\n"
                        + gw.diagnose(), t);
            }
            assertThat(got).as("nothing from before the subscription").containsExactlyInAnyOrder("known address",
                    "new address");
            assertThat(gw.stderr()).contains("of address quiet/new was made by another node");
            sub.disconnect();
            sub.close();
        }
    }

    /**
     * Age retention waits for durable subscriptions, as the file store's does (docs/storage.md): messages older than
     * {@code retention-age} that nobody subscribed to go from Kafka, while those a persistent MQTT session, offline
     * meanwhile, has not received stay until it has them, and then go too. Kafka's own {@code retention.ms} would have
     * removed them unread.
     */
    @Test
    void ageRetentionKeepsWhatADurableSubscriptionHasNotReceived() throws Exception {
        cfg = GatewayYaml.kafkaStore("127.0.0.1:" + kafka.port, "replication-factor: 1").mqtt(mqttPort)
                .storeKeys("retention-age: 2s\ncheckpoint-interval: 500ms").write(dir);
        String bootstrap = "127.0.0.1:" + kafka.port;
        List<String> got = new CopyOnWriteArrayList<>();
        try (GatewayProcess gw = gateway("data");
             org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                     Map.of("bootstrap.servers", bootstrap))) {
            MqttConnectOptions persistent = new MqttConnectOptions();
            persistent.setCleanSession(false);
            MqttClient keeper = new MqttClient("tcp://127.0.0.1:" + mqttPort, "keeper", new MemoryPersistence());
            keeper.connect(persistent);
            keeper.subscribe("kept/#", 1);
            keeper.disconnect(); // the session stays, offline

            MqttClient pub = new MqttClient("tcp://127.0.0.1:" + mqttPort, "ret-pub", new MemoryPersistence());
            pub.connect();
            for (int i = 0; i < 5; i++) {
                pub.publish("kept/a", ("kept " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false);
                pub.publish("free/a", ("free " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false);
            }
            pub.disconnect();
            pub.close();

            // the store's topics are <prefix>a.<address>, '/' as '.' (docs/cluster.md)
            await().atMost(Duration.ofSeconds(60)).until(() -> firstOffset(admin, "omnibus.a.free.a") == 5);
            assertThat(firstOffset(admin, "omnibus.a.kept.a")).isZero(); // the same passes, older than the age too

            keeper.setCallback(Received.mqtt(got));
            keeper.connect(persistent);
            await().atMost(Duration.ofSeconds(30)).until(() -> got.size() >= 5);
            assertThat(got).containsExactly("kept 0", "kept 1", "kept 2", "kept 3", "kept 4");
            // received and acknowledged: now the age lets them go
            await().atMost(Duration.ofSeconds(60)).until(() -> firstOffset(admin, "omnibus.a.kept.a") == 5);
            keeper.disconnect();
            keeper.close();
        }
    }

    private static long firstOffset(org.apache.kafka.clients.admin.Admin admin, String topic) throws Exception {
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(topic, 0);
        return admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.earliest())).partitionResult(tp)
                .get(10, TimeUnit.SECONDS).offset();
    }

    private static JsonObject store(AdminHttp admin) throws Exception {
        return new JsonObject(admin.send("GET", "/health").body()).getJsonObject("store");
    }

    private static int adminPort(GatewayProcess gw) {
        String ready = gw.awaitReady();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("admin (?:on )?[^ ]*:(\\d+)").matcher(ready);
        if (!m.find()) {
            throw new AssertionError("no admin port in " + ready);
        }
        return Integer.parseInt(m.group(1));
    }
}
