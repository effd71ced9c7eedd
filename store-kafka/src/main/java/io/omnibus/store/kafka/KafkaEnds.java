package io.omnibus.store.kafka;

import io.omnibus.core.store.AddressWidths;
import io.omnibus.core.store.TopicPartition;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import io.omnibus.core.spi.Address;
import org.apache.kafka.common.PartitionInfo;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ObjLongConsumer;

/**
 * Where each partition's log ends in Kafka, against where this node's appends ended it. A partition that ends
 * further grew by another node's appends: a node that lost the active role while its producer held messages, sent
 * when it froze and woke or its network cut healed (it may even have acknowledged them). Without this the active node
 * would deliver them only after its own next append to that partition. Used on the store's background thread only, every
 * {@value #INTERVAL_MILLIS} ms.
 *
 * <p>Every {@value #DISCOVER_EVERY} rounds it also looks for what this node does not know at all: a data topic that
 * node made (an address it published to first), or partitions it added to a topic. A topic's address comes from its
 * registry record in the state topic, written before its first message; the partitions found are compared like the
 * others from their start.
 */
final class KafkaEnds {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaEnds.class);
    static final long INTERVAL_MILLIS = 2_000;
    static final int DISCOVER_EVERY = 5;
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<TopicPartition, PartitionLog> logs;
    private final AddressWidths widths;
    private final KafkaTopics topics;
    private final String dataTopicPrefix;
    /** Data topics with records the registry did not name at the last look: made outside the gateway. */
    private final Set<String> unregistered = new HashSet<>();
    private int round;

    /** @param consumer a {@code read_committed} consumer of this class's own: its ends are the committed ones */
    KafkaEnds(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, PartitionLog> logs, AddressWidths widths,
              KafkaTopics topics, String topicPrefix) {
        this.consumer = consumer;
        this.logs = logs;
        this.widths = widths;
        this.topics = topics;
        this.dataTopicPrefix = topicPrefix + "a.";
    }

    /**
     * Compares, and tells {@code grew} (when set) of each partition that ends further than this node's appends. A
     * partition with appends of this node in flight is left for the next round: its end moves with their answers.
     */
    void refresh(ObjLongConsumer<TopicPartition> grew) {
        if (grew == null) {
            return;
        }
        if (++round % DISCOVER_EVERY == 0) {
            try {
                discover();
            } catch (RuntimeException e) {
                LOG.debug("Kafka store: looking for topics another node made failed: {}", e.toString());
            }
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
                long from = log.end.get();
                LOG.info("Kafka store: {} grew to {} by appends of another node (this node's appends ended at {})", tp,
                        end, from);
                log.ended(end);
                grew.accept(tp, from);
            }
        });
    }

    /**
     * Topics and partitions the cluster has and this node does not know: each found partition gets a log from its
     * start, which the comparison then finds grown by what it holds.
     */
    private void discover() {
        Map<String, List<PartitionInfo>> existing = consumer.listTopics(TIMEOUT);
        Map<String, Address> known = new HashMap<>();
        topics.all().forEach((address, t) -> known.put(t.name, address));
        Map<String, Integer> unknown = new HashMap<>();
        Map<String, Integer> grown = new HashMap<>(); // topic name to partitions, of topics to be (better) known
        Map<String, Address> addresses = new HashMap<>(known);
        existing.forEach((name, partitions) -> {
            if (!name.startsWith(dataTopicPrefix) || partitions.isEmpty()) {
                return;
            }
            Address a = known.get(name);
            if (a == null) {
                unknown.put(name, partitions.size());
            } else if (partitions.size() > topics.get(a).partitions) {
                grown.put(name, partitions.size());
            }
        });
        // only topics with records: a node registers a topic before its first record, so the registry names every
        // such topic a node made; an empty one may be between its creation and its registration (this node's too)
        withRecords(unknown);
        unregistered.retainAll(unknown.keySet());
        if (!unregistered.containsAll(unknown.keySet())) {
            Map<String, String> registry = KafkaState.readRegistry(consumer, topics.stateTopic(), TIMEOUT);
            unknown.forEach((name, count) -> {
                String address = registry.get(name);
                if (address == null) {
                    unregistered.add(name);
                } else {
                    LOG.info("Kafka store: topic {} ({} partitions) of address {} was made by another node", name,
                            count, address);
                    addresses.put(name, Address.of(address));
                    grown.put(name, count);
                }
            });
        }
        if (grown.isEmpty()) {
            return;
        }
        Map<org.apache.kafka.common.TopicPartition, TopicPartition> added = new HashMap<>();
        grown.forEach((name, count) -> {
            Address address = addresses.get(name);
            KafkaTopics.Topic t = topics.found(address, name, count);
            for (int p = 0; p < count; p++) {
                TopicPartition tp = new TopicPartition(address, p);
                if (!logs.containsKey(tp)) {
                    added.put(new org.apache.kafka.common.TopicPartition(t.name, p), tp);
                }
            }
        });
        consumer.beginningOffsets(added.keySet(), TIMEOUT).forEach((k, start) -> {
            PartitionLog log = new PartitionLog();
            log.start = start;
            log.ended(start);
            TopicPartition tp = added.get(k);
            widths.add(tp); // before the log is seen, as the store's own appends note theirs
            logs.putIfAbsent(tp, log);
        });
    }

    /** Leaves in {@code unknown} the topics any partition of which holds or held records. */
    private void withRecords(Map<String, Integer> unknown) {
        if (unknown.isEmpty()) {
            return;
        }
        List<org.apache.kafka.common.TopicPartition> all = new java.util.ArrayList<>();
        unknown.forEach((name, count) -> {
            for (int p = 0; p < count; p++) {
                all.add(new org.apache.kafka.common.TopicPartition(name, p));
            }
        });
        Set<String> used = new HashSet<>();
        consumer.endOffsets(all, TIMEOUT).forEach((k, end) -> {
            if (end != null && end > 0) {
                used.add(k.topic());
            }
        });
        unknown.keySet().retainAll(used);
    }

    /** From any thread: a refresh waiting for the cluster gives up. */
    void wakeup() {
        consumer.wakeup();
    }

    void close() {
        consumer.close(Duration.ZERO);
    }
}
