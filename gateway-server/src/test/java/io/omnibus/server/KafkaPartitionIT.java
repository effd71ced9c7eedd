package io.omnibus.server;

import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The active gateway node cut off from the Kafka cluster while its clients still reach it: a network partition, not
 * a crash. The active node runs in a network namespace of its own (a veth pair to this host); the Kafka broker
 * listens on an address added to this host's loopback, which the namespace reaches through the veth. The cut is a
 * blackhole route to the broker's address inside the namespace: the node's packets to Kafka vanish (Kafka's answers to
 * what it had sent still arrive), its clients' connections stay up. The standby on this host takes over once the
 * cut-off node's session expired. The cut-off node cannot acknowledge anything (every acknowledgement needs the
 * cluster), and once no broker answered it for a session timeout it stops by itself, with status 3, while the cut
 * lasts: its clients move to the new active node without waiting for the network to heal. Every PUBACKed message
 * reaches the persistent session.
 *
 * <p>A partial cut: three brokers, each on an address of its own, and the active node cut off from one of them, the
 * nodes' group's coordinator, while it reaches the other two (the endpoints topic led by one of them). The coordinator
 * expires its session, the standby takes over and says so in the endpoints topic, where the cut-off node reads it and
 * stops. Needs root (ip netns), as
 * CI runs.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class KafkaPartitionIT {
    @TempDir
    Path dir;

    private final int net = ThreadLocalRandom.current().nextInt(1, 250);
    private final String ns = "omni" + net;
    private final String hostSide = "omnih" + net;
    private final String nsSide = "omnin" + net;
    private final String hostIp = "10.213." + net + ".1";
    private final String nodeIp = "10.213." + net + ".2";
    /** The addresses the Kafka brokers advertise, one each (added to this host's loopback): 10.214.net.1 to .3. */
    private String kafkaIp(int broker) {
        return "10.214." + net + "." + broker;
    }

    private static void sh(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).as("%s: %s", String.join(" ", command), out)
                .isTrue();
    }

    private void inNamespace(String... command) throws Exception {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(command));
        sh(c.toArray(String[]::new));
    }

    @BeforeEach
    void network() throws Exception {
        sh("ip", "netns", "add", ns);
        sh("ip", "link", "add", hostSide, "type", "veth", "peer", "name", nsSide);
        sh("ip", "link", "set", nsSide, "netns", ns);
        sh("ip", "addr", "add", hostIp + "/30", "dev", hostSide);
        sh("ip", "link", "set", hostSide, "up");
        inNamespace("ip", "addr", "add", nodeIp + "/30", "dev", nsSide);
        inNamespace("ip", "link", "set", nsSide, "up");
        inNamespace("ip", "link", "set", "lo", "up");
        inNamespace("ip", "route", "add", "default", "via", hostIp);
        for (int broker = 1; broker <= 3; broker++) {
            sh("ip", "addr", "add", kafkaIp(broker) + "/32", "dev", "lo");
        }
    }

    @AfterEach
    void removeNetwork() throws Exception {
        new ProcessBuilder("ip", "netns", "del", ns).start().waitFor(30, TimeUnit.SECONDS); // and the veth pair
        for (int broker = 1; broker <= 3; broker++) {
            new ProcessBuilder("ip", "addr", "del", kafkaIp(broker) + "/32", "dev", "lo").start()
                    .waitFor(30, TimeUnit.SECONDS);
        }
    }

    private record Node(String host, int admin, int mqtt, Path config) {
        String mqttUri() {
            return "tcp://" + host + ":" + mqtt;
        }

        JsonObject store() throws Exception {
            return new JsonObject(new AdminHttp(host, admin).send("GET", "/health").body()).getJsonObject("store");
        }

        String role() throws Exception {
            return store().getString("role");
        }
    }

    private Node node(String name, String host, String bootstrap, String... storeKeys) throws Exception {
        Path d = dir.resolve(name);
        java.nio.file.Files.createDirectories(d);
        int admin = GatewayProcess.freePort();
        int mqtt = GatewayProcess.freePort();
        List<String> keys = new ArrayList<>(List.of(storeKeys));
        keys.addAll(List.of("node-id: " + name, "session-timeout: 6s"));
        return new Node(host, admin, mqtt, GatewayYaml.kafkaStore(bootstrap, keys.toArray(String[]::new))
                .admin(host, admin).host(host).allowAnonymous().mqtt(mqtt).write(d));
    }

    @Test
    void anActiveNodeCutOffFromKafkaStopsByItselfAndLosesNoAcknowledgedMessage() throws Exception {
        RemoteBroker kafka = RemoteBroker.kafkaCluster(dir.resolve("kafka"), new int[] {RemoteBroker.freePort()},
                new int[] {RemoteBroker.freePort()}, Map.of("listeners",
                        "PLAINTEXT://0.0.0.0:{port},CONTROLLER://127.0.0.1:{controller}",
                        "advertised.listeners", "PLAINTEXT://" + kafkaIp(1) + ":{port}")).get(0);
        try {
            Node a = node("node-a", nodeIp, kafkaIp(1) + ":" + kafka.port, "replication-factor: 1");
            Node b = node("node-b", "127.0.0.1", kafkaIp(1) + ":" + kafka.port, "replication-factor: 1");
            try (GatewayProcess gwA = activeInNamespace(a)) {
                try (GatewayProcess gwB = standby(b, a)) {
                    subscribeOffline(a);
                    MqttAsyncClient pub = publisher(a, b);
                    AckedLoad load = new AckedLoad(pub, "cut/line", 2);
                    Set<String> acked = load.acked;
                    await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 500);

                    inNamespace("ip", "route", "add", "blackhole", kafkaIp(1) + "/32");
                    long cut = System.nanoTime();
                    int atCut = acked.size();
                    gwB.awaitReady(); // the cut-off node's session expired: the standby takes over
                    long takeover = (System.nanoTime() - cut) / 1_000_000;
                    assertThat(b.role()).isEqualTo("active");
                    // new clients reach the new active node; the cut-off one cannot acknowledge anything
                    List<String> acknowledged = new ArrayList<>(acked);
                    MqttClient other = new MqttClient(b.mqttUri(), "other", new MemoryPersistence());
                    other.connect();
                    for (int i = 0; i < 100; i++) {
                        String body = "during-" + i;
                        other.publish("cut/other", body.getBytes(StandardCharsets.UTF_8), 1, false);
                        acknowledged.add(body);
                    }
                    other.disconnect();
                    other.close();
                    // the cut-off node stops by itself while the cut lasts
                    long exited = exitsByItself(gwA, cut, "no broker of the cluster answered this node");
                    int ackedDuringCut = acked.size() - atCut;
                    movesOnAndStops(load); // the cut still there
                    acknowledged.addAll(acked);
                    inNamespace("ip", "route", "del", "blackhole", kafkaIp(1) + "/32");

                    List<String> got = drainSession(b, acknowledged);
                    pub.disconnectForcibly(100, 100, false);
                    System.out.println("KafkaPartitionIT: the standby served " + takeover + " ms after the cut; the "
                            + "cut-off node PUBACKed " + ackedDuringCut + " more after the cut (Kafka's answers to what "
                            + "it had sent before it still reached it) and exited with status 3 " + exited
                            + " ms after the cut; " + new HashSet<>(acknowledged).size()
                            + " PUBACKed, the session got " + got.size() + " (duplicates "
                            + (got.size() - new HashSet<>(got).size()) + ")");
                }
            }
        } finally {
            kafka.close();
        }
    }

    /** node-a in the network namespace, started first: the active node. */
    private GatewayProcess activeInNamespace(Node a) throws Exception {
        GatewayProcess gw = GatewayProcess.runUnder(List.of("ip", "netns", "exec", ns), Map.of(), "start", "--config",
                a.config().toString(), "--data-dir", dir.resolve("node-a/data").toString());
        try {
            gw.awaitReady();
            return gw;
        } catch (Throwable t) {
            gw.close();
            throw t;
        }
    }

    /**
     * node-b on this host, once it is a standby and the active node sees it in the nodes' group (not alone, so a cut
     * stops the active node).
     */
    private GatewayProcess standby(Node b, Node active) throws Exception {
        GatewayProcess gw = GatewayProcess.run(Map.of(), "start", "--config", b.config().toString(), "--data-dir",
                dir.resolve("node-b/data").toString());
        try {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> "standby".equals(b.role()));
            await().atMost(Duration.ofSeconds(60)).until(() -> active.store().getJsonArray("nodes").size() == 2);
            return gw;
        } catch (Throwable t) {
            gw.close();
            throw t;
        }
    }

    /** The persistent session {@code sub}, subscribed to {@code cut/#} on {@code node}, then offline. */
    private static void subscribeOffline(Node node) throws Exception {
        MqttClient sub = new MqttClient(node.mqttUri(), "sub", new MemoryPersistence());
        sub.connect(persistent());
        sub.subscribe("cut/#", 1);
        sub.disconnect();
        sub.close();
    }

    private static MqttConnectOptions persistent() {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        return o;
    }

    /** A QoS 1 publisher on {@code first}, with both nodes in its failover list. */
    private static MqttAsyncClient publisher(Node first, Node second) throws Exception {
        MqttAsyncClient pub = new MqttAsyncClient(first.mqttUri(), "pub", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setServerURIs(new String[] {first.mqttUri(), second.mqttUri()});
        o.setAutomaticReconnect(true);
        o.setMaxReconnectDelay(500);
        o.setMaxInflight(64);
        pub.connect(o).waitForCompletion(10_000);
        return pub;
    }

    /**
     * The cut-off node stops by itself while the cut lasts, with status 3 and {@code why} in its log; when, in
     * milliseconds after the cut.
     */
    private static long exitsByItself(GatewayProcess node, long cut, String why) throws Exception {
        int status = node.waitForExit(120);
        long exited = (System.nanoTime() - cut) / 1_000_000;
        assertThat(status).as("the cut-off node's exit status; stderr:\n%s", GatewayProcess.lastLines(node.err, 40))
                .isEqualTo(3);
        assertThat(node.stderr()).contains(why);
        return exited;
    }

    /** The publisher, moved to the other node by its failover list, has 200 more acknowledged there; then it stops. */
    private static void movesOnAndStops(AckedLoad load) throws InterruptedException {
        int atExit = load.acked.size();
        await().atMost(Duration.ofSeconds(60)).until(() -> load.acked.size() >= atExit + 200);
        load.close();
    }

    /** The persistent session resumed on {@code node} until it got every acknowledged message; what it got. */
    private static List<String> drainSession(Node node, List<String> acknowledged) throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        MqttClient drain = new MqttClient(node.mqttUri(), "sub", new MemoryPersistence());
        drain.setCallback(Received.mqtt(got));
        drain.connect(persistent());
        try {
            await().atMost(Duration.ofSeconds(120)).until(() -> new HashSet<>(got).containsAll(acknowledged));
        } catch (org.awaitility.core.ConditionTimeoutException t) {
            Set<String> missing = new HashSet<>(acknowledged);
            missing.removeAll(got);
            throw new AssertionError("lost " + missing.size() + " of " + new HashSet<>(acknowledged).size()
                    + " acknowledged messages, e.g. " + missing.stream().limit(10).toList(), t);
        }
        drain.disconnect();
        drain.close();
        return got;
    }

    @Test
    void anActiveNodeThatStillReachesSomeBrokersButNotTheGroupsCoordinatorLearnsOfItsSuccessorAndStops()
            throws Exception {
        int[] ports = {RemoteBroker.freePort(), RemoteBroker.freePort(), RemoteBroker.freePort()};
        int[] controllers = {RemoteBroker.freePort(), RemoteBroker.freePort(), RemoteBroker.freePort()};
        List<RemoteBroker> cluster = RemoteBroker.kafkaCluster(dir.resolve("kafka"), ports, controllers, Map.of(
                "listeners", "PLAINTEXT://0.0.0.0:{port},CONTROLLER://127.0.0.1:{controller}",
                "advertised.listeners", "PLAINTEXT://10.214." + net + ".{node}:{port}"));
        try {
            String bootstrap = kafkaIp(1) + ":" + ports[0] + "," + kafkaIp(2) + ":" + ports[1] + "," + kafkaIp(3) + ":"
                    + ports[2];
            Node a = node("node-a", nodeIp, bootstrap);
            Node b = node("node-b", "127.0.0.1", bootstrap);
            try (GatewayProcess gwA = activeInNamespace(a);
                 Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                try (GatewayProcess gwB = standby(b, a)) {
                    subscribeOffline(a);
                    MqttAsyncClient pub = publisher(a, b);
                    AckedLoad load = new AckedLoad(pub, "cut/part", 6); // six topics, their leaders spread
                    Set<String> acked = load.acked;
                    await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 500);

                    // the broker to cut: the nodes' group's coordinator, which must not lead the endpoints topic
                    int coordinator = admin.describeConsumerGroups(List.of("omnibus.nodes")).all().get()
                            .get("omnibus.nodes").coordinator().id();
                    TopicPartition endpoints = new TopicPartition("omnibus.endpoints", 0);
                    if (leader(admin, endpoints) == coordinator) {
                        int other = coordinator % 3 + 1;
                        List<Integer> replicas = new ArrayList<>(List.of(other));
                        for (int broker = 1; broker <= 3; broker++) {
                            if (broker != other) {
                                replicas.add(broker);
                            }
                        }
                        admin.alterPartitionReassignments(Map.of(endpoints,
                                Optional.of(new NewPartitionReassignment(replicas)))).all().get();
                        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                            if (leader(admin, endpoints) == other) { // metadata may trail an election already made
                                return true;
                            }
                            try {
                                admin.electLeaders(ElectionType.PREFERRED, Set.of(endpoints)).all().get();
                            } catch (java.util.concurrent.ExecutionException e) {
                                if (!(e.getCause() instanceof ElectionNotNeededException)) {
                                    throw e;
                                }
                            }
                            return leader(admin, endpoints) == other;
                        });
                    }
                    int endpointsLeader = leader(admin, endpoints);

                    inNamespace("ip", "route", "add", "blackhole", kafkaIp(coordinator) + "/32");
                    long cut = System.nanoTime();
                    int atCut = acked.size();
                    gwB.awaitReady(); // the cut-off node's session expired at the coordinator: the standby takes over
                    long takeover = (System.nanoTime() - cut) / 1_000_000;
                    int ackedBeforeTakeover = acked.size() - atCut; // all of them the cut-off node's
                    assertThat(b.role()).isEqualTo("active");
                    // the cut-off node reads the new active node's record from the endpoints topic's leader, which it
                    // still reaches, and stops while the cut lasts
                    long exited = exitsByItself(gwA, cut, "node node-b says it became the active node");
                    movesOnAndStops(load);
                    List<String> acknowledged = new ArrayList<>(acked);
                    inNamespace("ip", "route", "del", "blackhole", kafkaIp(coordinator) + "/32");

                    List<String> got = drainSession(b, acknowledged);
                    pub.disconnectForcibly(100, 100, false);
                    System.out.println("KafkaPartitionIT: node-a cut off from broker " + coordinator + " (the nodes' "
                            + "group's coordinator) of 3, reaching broker " + endpointsLeader + " (the endpoints "
                            + "topic's leader); the cut-off node PUBACKed " + ackedBeforeTakeover + " more before the "
                            + "standby served, " + takeover + " ms after the cut; it exited with status 3 " + exited
                            + " ms after the cut; " + new HashSet<>(acknowledged).size() + " PUBACKed, the session got "
                            + got.size() + " (duplicates " + (got.size() - new HashSet<>(got).size()) + ")");
                }
            }
        } finally {
            for (RemoteBroker k : cluster) {
                k.close();
            }
        }
    }

    private static int leader(Admin admin, TopicPartition tp) throws Exception {
        return admin.describeTopics(List.of(tp.topic())).allTopicNames().get().get(tp.topic()).partitions()
                .get(tp.partition()).leader().id();
    }
}
