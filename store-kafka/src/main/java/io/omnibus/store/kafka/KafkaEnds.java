package io.omnibus.store.kafka;

import io.omnibus.core.store.TopicPartition;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Where each partition's log ends in Kafka, against where this node's appends ended it. A partition that ends
 * further grew by another node's appends: a node that lost the active role while its producer held messages, sent
 * when it froze and woke or its network cut healed (it may even have acknowledged them). Without this the active node
 * would deliver them only after its own next append to that partition. Used on the store's background thread only, every
 * {@value #INTERVAL_MILLIS} ms.
 */
final class KafkaEnds {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaEnds.class);
    static final long INTERVAL_MILLIS = 2_000;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<TopicPartition, PartitionLog> logs;
    private final KafkaTopics topics;

    /** @param consumer a {@code read_committed} consumer of this class's own: its ends are the committed ones */
    KafkaEnds(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, PartitionLog> logs, KafkaTopics topics) {
        this.consumer = consumer;
        this.logs = logs;
        this.topics = topics;
    }

    /**
     * Compares, and tells {@code grew} (when set) of each partition that ends further than this node's appends. A
     * partition with appends of this node in flight is left for the next round: its end moves with their answers.
     */
    void refresh(Consumer<TopicPartition> grew) {
        if (grew == null) {
            return;
        }
        Map<org.apache.kafka.common.TopicPartition, TopicPartition> idle = new HashMap<>();
        logs.forEach((tp, log) -> {
            KafkaTopics.Topic t = topics.get(tp.address());
            if (log.pending.get() == 0 && t != null && tp.partition() < t.partitions) {
                idle.put(new org.apache.kafka.common.TopicPartition(t.name, tp.partition()), tp);
            }
        });
        if (idle.isEmpty()) {
            return;
        }
        Map<org.apache.kafka.common.TopicPartition, Long> committed;
        try {
            committed = consumer.endOffsets(idle.keySet(), Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            return; // the cluster away: the next round
        }
        committed.forEach((k, end) -> {
            TopicPartition tp = idle.get(k);
            PartitionLog log = logs.get(tp);
            // an append answered meanwhile moved the end before its count went down: compared after it
            if (end != null && log != null && log.pending.get() == 0 && end > log.end.get()) {
                LOG.info("Kafka store: {} grew to {} by appends of another node (this node's appends ended at {})", tp,
                        end, log.end.get());
                log.ended(end);
                grew.accept(tp);
            }
        });
    }

    /** From any thread: a refresh waiting for the cluster gives up. */
    void wakeup() {
        consumer.wakeup();
    }

    void close() {
        consumer.close(Duration.ZERO);
    }
}
