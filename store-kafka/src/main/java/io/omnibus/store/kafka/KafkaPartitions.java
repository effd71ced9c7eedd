package io.omnibus.store.kafka;

import io.omnibus.core.store.AddressWidths;
import io.omnibus.core.store.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.KafkaConsumer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The Kafka store's partitions' logs ({@link PartitionLog}: first and committed end offsets, appends not yet
 * answered), by partition, and the address widths a subscription's filter is matched against. Read by the event
 * loops; written by the appends' callbacks, the periodic passes ({@link KafkaEnds}, {@link KafkaRetention}), the
 * readers and the control thread.
 */
final class KafkaPartitions {
    final ConcurrentHashMap<TopicPartition, PartitionLog> logs = new ConcurrentHashMap<>();
    final AddressWidths widths = new AddressWidths();
    /** Messages gone from a partition's start by the cluster's retention, not by a truncation of ours. */
    private final LongAdder dropped = new LongAdder();

    /** The partition's log, made on first use. */
    PartitionLog log(TopicPartition tp) {
        PartitionLog log = logs.get(tp);
        if (log == null) {
            // noted before the log is seen: a subscription made meanwhile finds every partition an append can reach
            log = logs.computeIfAbsent(tp, k -> {
                widths.add(k);
                return new PartitionLog();
            });
        }
        return log;
    }

    long start(TopicPartition tp) {
        PartitionLog log = logs.get(tp);
        return log == null ? 0 : log.start;
    }

    long end(TopicPartition tp) {
        PartitionLog log = logs.get(tp);
        return log == null ? 0 : log.end.get();
    }

    Set<TopicPartition> all() {
        return Set.copyOf(logs.keySet());
    }

    int count() {
        return logs.size();
    }

    long droppedByRetention() {
        return dropped.sum();
    }

    /** What the store's readers need to know of the partitions: their topics, their ends, and where starts moved. */
    KafkaReaders.Logs forReaders(KafkaTopics topics) {
        return new KafkaReaders.Logs() {
            @Override
            public String topic(TopicPartition tp) {
                KafkaTopics.Topic t = topics.get(tp.address());
                return t == null || tp.partition() >= t.partitions ? null : t.name;
            }

            @Override
            public long end(TopicPartition tp) {
                return KafkaPartitions.this.end(tp);
            }

            @Override
            public void startMoved(TopicPartition tp, long start) {
                movedStart(tp, start);
            }
        };
    }

    /** A reader found the partition's first records gone: the cluster's retention dropped them. */
    void movedStart(TopicPartition tp, long start) {
        PartitionLog log = log(tp);
        long before = log.start;
        if (start > before) {
            log.start = start;
            log.ended(start);
            dropped.add(start - before);
        }
    }

    /** Where the partitions {@code filter} matches end now (as far as their appends are answered), those not empty. */
    Map<TopicPartition, Long> endsMatching(String filter) {
        Map<TopicPartition, Long> ends = new HashMap<>();
        widths.forEachMatching(filter, tp -> {
            PartitionLog log = logs.get(tp);
            long end = log == null ? 0 : log.end.get();
            if (log != null && end > log.start) {
                ends.put(tp, end);
            }
        });
        return ends;
    }

    /** Every known topic's partitions' first and committed end offsets (the consumer reads {@code read_committed}). */
    void load(KafkaTopics topics, KafkaConsumer<byte[], byte[]> consumer) {
        Map<org.apache.kafka.common.TopicPartition, TopicPartition> all = new HashMap<>();
        topics.all().forEach((address, t) -> {
            for (int p = 0; p < t.partitions; p++) {
                all.put(new org.apache.kafka.common.TopicPartition(t.name, p), new TopicPartition(address, p));
            }
        });
        if (all.isEmpty()) {
            return;
        }
        Duration timeout = Duration.ofSeconds(30);
        Map<org.apache.kafka.common.TopicPartition, Long> starts = consumer.beginningOffsets(all.keySet(), timeout);
        Map<org.apache.kafka.common.TopicPartition, Long> ends = consumer.endOffsets(all.keySet(), timeout);
        all.forEach((k, tp) -> {
            PartitionLog log = log(tp);
            log.start = starts.get(k);
            log.ended(ends.get(k));
        });
    }

    /**
     * Deletes the partition's records up to its end: the end it has now ({@code end} -1), or only if it ends at
     * {@code end} with no append unanswered (false if not). On the control thread: it waits for the cluster.
     */
    boolean truncate(TopicPartition partition, long end, KafkaTopics topics, Admin admin, TailCache cache) throws Exception {
        PartitionLog log = log(partition);
        KafkaTopics.Topic t = topics.get(partition.address());
        if (end >= 0 && (log.pending.get() > 0 || log.end.get() != end)) {
            return false;
        }
        if (t == null || partition.partition() >= t.partitions) {
            return true;
        }
        org.apache.kafka.common.TopicPartition ktp = new org.apache.kafka.common.TopicPartition(t.name, partition.partition());
        long to = end >= 0 ? end : admin.listOffsets(Map.of(ktp, OffsetSpec.latest())).partitionResult(ktp)
                .get(30, TimeUnit.SECONDS).offset();
        admin.deleteRecords(Map.of(ktp, RecordsToDelete.beforeOffset(to))).all().get(30, TimeUnit.SECONDS);
        cache.forget(partition);
        log.start = Math.max(log.start, to);
        log.ended(to);
        return true;
    }
}
