package io.omnibus.store.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The Kafka cluster as this node sees it, checked every {@value #INTERVAL_MILLIS} ms on a thread of its own from the
 * start (a standby shows it too): whether the cluster answers, the brokers that answered, the nodes in the nodes'
 * group and which of them is active (the member holding the state topic's partition). Every call times out with its
 * check, so none is left pending to hold up closing.
 */
final class KafkaHealth {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaHealth.class);
    static final long INTERVAL_MILLIS = 5_000;

    private final Admin admin;
    private final String bootstrapServers;
    private final String group;
    private final TopicPartition statePartition;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            r -> KafkaMessageStore.daemon(r, "omnibus-kafka-health"));
    private volatile boolean reachable;
    private volatile List<String> brokers = List.of();
    /** The active node's client id and host as the group shows them; empty while none is. */
    private volatile String activeNode = "";
    /** The active node's member id in the group and its host; null while none is. */
    private volatile String activeMember;
    private volatile String activeHost;
    /** Every member of the nodes' group (node id and host) at the last look; kept while the cluster does not answer. */
    private volatile List<String> nodes = List.of();
    /** The IP addresses the nodes' group's members connect from, at the last look; kept while the cluster is silent. */
    private volatile List<String> hosts = List.of();

    KafkaHealth(Admin admin, KafkaStoreOptions options) {
        this.admin = admin;
        this.bootstrapServers = options.bootstrapServers();
        this.group = options.topicPrefix() + "nodes";
        this.statePartition = new TopicPartition(options.topicPrefix() + "state", 0);
    }

    void start() {
        thread.scheduleWithFixedDelay(this::check, 0, INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    boolean reachable() {
        return reachable;
    }

    List<String> brokers() {
        return brokers;
    }

    String activeNode() {
        return activeNode;
    }

    /** The active node's member id in the nodes' group; null while none is. */
    String activeMember() {
        return activeMember;
    }

    /** The host the group sees the active node connect from; null while none is. */
    String activeHost() {
        return activeHost;
    }

    /** The nodes' group's members, this node's among them once it joined: node id and host, as last seen. */
    List<String> nodes() {
        return nodes;
    }

    /** The IP addresses the nodes' group's members connect to the cluster from, as last seen. */
    List<String> hosts() {
        return hosts;
    }

    /** How many members besides this node the nodes' group had at the last look (this node being one of them). */
    int otherNodes() {
        return Math.max(0, nodes.size() - 1);
    }

    /** Checks now on the health thread, not waiting for the next round. */
    void checkSoon() {
        try {
            thread.execute(this::check);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closing
        }
    }

    private void check() {
        try {
            brokers = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) INTERVAL_MILLIS)).nodes()
                    .get(INTERVAL_MILLIS, TimeUnit.MILLISECONDS).stream()
                    .map(n -> n.id() + "@" + n.host() + ":" + n.port()).sorted().toList();
            lookAtGroup();
            if (!reachable) {
                LOG.info("Kafka store: the cluster at {} answers again", bootstrapServers);
            }
            reachable = true;
        } catch (Exception e) {
            if (reachable) {
                LOG.warn("Kafka store: the cluster at {} does not answer: {}", bootstrapServers, e.toString());
            }
            reachable = false;
        }
    }

    /** The group's members, and the one holding the state topic's partition (the active node). */
    private void lookAtGroup() throws Exception {
        var description = admin.describeConsumerGroups(List.of(group),
                        new DescribeConsumerGroupsOptions().timeoutMs((int) INTERVAL_MILLIS)).all()
                .get(INTERVAL_MILLIS, TimeUnit.MILLISECONDS).get(group);
        var active = description.members().stream()
                .filter(m -> m.assignment().topicPartitions().contains(statePartition)).findFirst();
        activeMember = active.map(org.apache.kafka.clients.admin.MemberDescription::consumerId).orElse(null);
        activeHost = active.map(KafkaHealth::host).orElse(null);
        activeNode = active.map(KafkaHealth::name).orElse("");
        nodes = description.members().stream().map(KafkaHealth::name).sorted().toList();
        hosts = description.members().stream().map(KafkaHealth::address).distinct().toList();
    }

    /** A member's client id (and so its node id) and host. */
    private static String name(org.apache.kafka.clients.admin.MemberDescription m) {
        String id = m.clientId(); // omnibus-<node-id>-lease unless client.id was configured
        if (id.startsWith("omnibus-") && id.endsWith("-lease")) {
            id = id.substring("omnibus-".length(), id.length() - "-lease".length());
        }
        return id + " (" + host(m) + ")";
    }

    /** A member's IP address: its host as the group shows it ("/10.0.0.5", or "name/10.0.0.5" once looked up). */
    private static String address(org.apache.kafka.clients.admin.MemberDescription m) {
        return m.host().substring(m.host().lastIndexOf('/') + 1);
    }

    private static String host(org.apache.kafka.clients.admin.MemberDescription m) {
        return m.host().replaceFirst("^/", "");
    }

    void close() {
        thread.shutdownNow();
    }
}
