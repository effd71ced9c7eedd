package io.omnibus.store.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;

/**
 * Which node of those sharing a topic prefix is the active one, decided by Kafka's own group membership: every node
 * joins the consumer group {@code <prefix>nodes} on the one-partition state topic, and the member that is assigned
 * that partition is active. The cooperative sticky assignor leaves it with the active node while that node lives,
 * however many standbys join; when it dies (its session times out) or leaves, the group gives the partition to a
 * standby. The partition is paused: membership is all this consumer is for, it reads nothing.
 *
 * <p>A node that loses the partition (its session expired, or it was revoked) must stop serving at once: another node
 * may be active already. {@code lost} runs on the lease's thread.
 */
final class KafkaLease implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaLease.class);

    private final CompletableFuture<Void> acquired = new CompletableFuture<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final String topic;
    private final String group;
    private final Runnable lost;
    private volatile boolean closing;
    private volatile String memberId = "";
    /** The group's generation in which this node got the active role; -1 before. */
    private volatile int generation = -1;

    KafkaLease(Properties client, String group, String topic, Duration sessionTimeout, Runnable lost) {
        this.topic = topic;
        this.group = group;
        this.lost = lost;
        Properties p = new Properties();
        p.putAll(client);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Long.toString(sessionTimeout.toMillis()));
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Long.toString(Math.max(100, sessionTimeout.toMillis() / 5)));
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, client.getProperty(ConsumerConfig.CLIENT_ID_CONFIG, "omnibus") + "-lease");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        thread = new Thread(this::run, "omnibus-kafka-lease");
        thread.setDaemon(true);
    }

    /** Joins the group; completes once this node is the active one (which may be never: a standby waits). */
    CompletableFuture<Void> acquire() {
        thread.start();
        return acquired;
    }

    /** This node's member id in the group, as of its last assignment. */
    String memberId() {
        return memberId;
    }

    /**
     * The nodes' group's generation in which this node became the active one (-1 before): a node that takes the role
     * over later does so in a later generation.
     */
    int generation() {
        return generation;
    }

    /**
     * Whether the group, as its coordinator has it, gives this node the state partition (this node is the active
     * one); null when the group could not be asked.
     */
    Boolean holdsRole(org.apache.kafka.clients.admin.Admin admin) {
        String me = memberId; // the lease's consumer is its thread's only: not asked from here
        TopicPartition p0 = new TopicPartition(topic, 0);
        try {
            var members = admin.describeConsumerGroups(List.of(group),
                            new org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions().timeoutMs(10_000))
                    .all().get(10, java.util.concurrent.TimeUnit.SECONDS).get(group).members();
            return members.stream().anyMatch(m -> m.consumerId().equals(me)
                    && m.assignment().topicPartitions().contains(p0));
        } catch (Exception e) {
            LOG.warn("Kafka store: the nodes' group {} could not be described: {}", group, e.toString());
            return null;
        }
    }

    boolean active() {
        return acquired.isDone() && !acquired.isCompletedExceptionally();
    }

    private void run() {
        TopicPartition p0 = new TopicPartition(topic, 0);
        try {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    memberId = consumer.groupMetadata().memberId();
                    consumer.pause(partitions);
                    if (partitions.contains(p0) && !acquired.isDone()) {
                        generation = consumer.groupMetadata().generationId();
                        LOG.info("Kafka store: this node is the active one (it holds {} of group {})", p0,
                                consumer.groupMetadata().groupId());
                        acquired.complete(null);
                    }
                }

                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    if (partitions.contains(p0)) {
                        end("revoked");
                    }
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    if (partitions.contains(p0)) {
                        end("lost (the session expired)");
                    }
                }
            });
            while (!closing) {
                consumer.poll(Duration.ofMillis(200));
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            if (!closing) {
                LOG.error("Kafka store: the active-node lease failed", e);
                if (!acquired.isDone()) {
                    acquired.completeExceptionally(e);
                } else {
                    end("failed: " + e);
                }
            }
        } finally {
            consumer.close(Duration.ofSeconds(5)); // leaves the group: a standby takes over without waiting for a timeout
        }
    }

    private void end(String why) {
        if (closing || !acquired.isDone()) {
            return;
        }
        LOG.error("Kafka store: this node's active role was {}; another node may be active now, so this one stops", why);
        lost.run();
    }

    @Override
    public void close() throws InterruptedException {
        closing = true;
        acquired.completeExceptionally(new IllegalStateException("the store closed before this node became active"));
        consumer.wakeup();
        thread.join(10_000);
    }
}
