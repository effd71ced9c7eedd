package io.omnibus.store.kafka;

import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.RetentionFloor;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Age retention on the Kafka store, as the file store has it (docs/storage.md): an address's messages older than its
 * {@code retention-age} go, but only those every durable subscription of the partition has acknowledged. Kafka's own
 * {@code retention.ms} would remove a backlog nobody had read yet (a persistent session offline past the age), so the
 * store's topics have none ({@code -1}) and the active node deletes records itself ({@code deleteRecords}), every
 * {@code store.checkpoint-interval}. Size retention stays Kafka's ({@code retention.bytes}): as in the file store it
 * removes what the limit needs, read or not, and a subscription that reaches the gap counts what it lost.
 *
 * <p>Runs on a thread of its own with a consumer of its own: the calls wait for the cluster, and while it is away they
 * must not hold up the store's other work.
 */
final class KafkaRetention {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaRetention.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final Admin admin;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaTopics topics;
    private final Map<TopicPartition, PartitionLog> logs;
    private final java.util.function.Function<io.omnibus.core.spi.Address, KafkaStoreOptions.Retention> retention;
    private final Supplier<Map<SubscriptionRecord, Map<TopicPartition, CursorState>>> durables;
    /** Topics whose {@code retention.ms} this node made -1 (those an earlier version made with one). */
    private final Set<String> ageless = new HashSet<>();
    /** Per partition, the offset below which Kafka confirmed the deletion: a failed one is asked again. */
    private final Map<TopicPartition, Long> deleted = new HashMap<>();

    KafkaRetention(Admin admin, KafkaConsumer<byte[], byte[]> consumer, KafkaTopics topics,
                   Map<TopicPartition, PartitionLog> logs,
                   java.util.function.Function<io.omnibus.core.spi.Address, KafkaStoreOptions.Retention> retention,
                   Supplier<Map<SubscriptionRecord, Map<TopicPartition, CursorState>>> durables) {
        this.admin = admin;
        this.consumer = consumer;
        this.topics = topics;
        this.logs = logs;
        this.retention = retention;
        this.durables = durables;
    }

    /** One pass over every known partition whose address has an age limit. */
    void run() {
        long now = System.currentTimeMillis();
        Map<org.apache.kafka.common.TopicPartition, Long> before = new HashMap<>();
        Map<org.apache.kafka.common.TopicPartition, TopicPartition> ours = new HashMap<>();
        // each end taken before asking Kafka for the cut-off offsets: a message appended after that is at or past it,
        // so a partition whose records were all older is cut at this end, never at one that moved meanwhile
        Map<TopicPartition, Long> ends = new HashMap<>();
        logs.forEach((tp, log) -> {
            KafkaStoreOptions.Retention r = retention.apply(tp.address());
            KafkaTopics.Topic t = topics.get(tp.address());
            if (r.age() != null && !r.age().isZero() && t != null && tp.partition() < t.partitions) {
                org.apache.kafka.common.TopicPartition k = new org.apache.kafka.common.TopicPartition(t.name, tp.partition());
                before.put(k, now - r.age().toMillis());
                ours.put(k, tp);
                ends.put(tp, log.end.get());
            }
        });
        if (before.isEmpty()) {
            return;
        }
        try {
            withoutKafkaAge(ours.keySet());
            // the first offset at or after each cut-off time (records carry their append time); none: all are older
            Map<org.apache.kafka.common.TopicPartition, OffsetAndTimestamp> firstKept = consumer.offsetsForTimes(before, TIMEOUT);
            Map<SubscriptionRecord, Map<TopicPartition, CursorState>> subscriptions = durables.get();
            Map<org.apache.kafka.common.TopicPartition, RecordsToDelete> deletes = new HashMap<>();
            Map<TopicPartition, Long> starts = new HashMap<>();
            RetentionFloor floor = new RetentionFloor();
            subscriptions.forEach(floor::add);
            ours.forEach((k, tp) -> {
                OffsetAndTimestamp kept = firstKept.get(k);
                long cut = Math.min(kept != null ? Math.min(kept.offset(), ends.get(tp)) : ends.get(tp),
                        floor.needed(tp));
                if (cut > deleted.getOrDefault(tp, 0L)) {
                    deletes.put(k, RecordsToDelete.beforeOffset(cut));
                    starts.put(tp, cut);
                }
            });
            if (deletes.isEmpty()) {
                return;
            }
            // the start moves first: readers stepping past it count nothing as lost (it was all acknowledged)
            starts.forEach((tp, start) -> {
                PartitionLog log = logs.get(tp);
                log.start = Math.max(log.start, start);
            });
            admin.deleteRecords(deletes).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            starts.forEach((tp, start) -> deleted.merge(tp, start, Math::max));
            // debug: with traffic every pass removes some (messages keep crossing the age), an info line each would flood
            LOG.debug("Kafka store: retention removed the acknowledged messages older than their age from {} partition(s)",
                    deletes.size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (org.apache.kafka.common.errors.WakeupException e) {
            // closing
        } catch (Exception e) { // the cluster away: the next pass
            LOG.debug("Kafka store: retention pass failed: {}", e.toString());
        }
    }

    /** Sets {@code retention.ms} to -1 on topics this node has not checked yet (an earlier version set the age there). */
    private void withoutKafkaAge(Set<org.apache.kafka.common.TopicPartition> partitions) throws Exception {
        Map<ConfigResource, java.util.Collection<AlterConfigOp>> ops = new HashMap<>();
        for (org.apache.kafka.common.TopicPartition k : partitions) {
            if (!ageless.contains(k.topic())) {
                ops.put(new ConfigResource(ConfigResource.Type.TOPIC, k.topic()), List.of(new AlterConfigOp(
                        new ConfigEntry(TopicConfig.RETENTION_MS_CONFIG, "-1"), AlterConfigOp.OpType.SET)));
            }
        }
        if (!ops.isEmpty()) {
            admin.incrementalAlterConfigs(ops).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            ops.keySet().forEach(r -> ageless.add(r.name()));
        }
    }

    /** From any thread: a pass waiting for the cluster gives up. */
    void wakeup() {
        consumer.wakeup();
    }

    /** On the pass's thread. */
    void close() {
        consumer.close(Duration.ZERO);
    }
}
