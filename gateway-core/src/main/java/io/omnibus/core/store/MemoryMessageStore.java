package io.omnibus.core.store;

import io.omnibus.core.spi.Envelope;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Keeps everything in memory: nothing survives the process. Each partition keeps at most
 * {@code maxMessages} messages and {@code maxBytes} bytes; older ones are dropped first and
 * counted in {@link #droppedByRetention()}. Appends complete at once.
 *
 * <p>One writer per partition (its broker context), any number of readers: the log of a
 * partition is a concurrent sorted map and its end offset is published after the entry.
 */
public final class MemoryMessageStore implements MessageStore {
    private final long maxMessages;
    private final long maxBytes;
    private final ConcurrentHashMap<TopicPartition, PartitionLog> logs = new ConcurrentHashMap<>();
    /** Per address, one more than its highest partition number in {@link #logs}: a new subscription's partitions. */
    private final AddressWidths widths = new AddressWidths();
    private final ConcurrentHashMap<String, Durable> subscriptions = new ConcurrentHashMap<>();
    private final LongAdder dropped = new LongAdder();
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, byte[]>> states = new ConcurrentHashMap<>();
    private volatile boolean open;

    private static final class PartitionLog {
        final ConcurrentSkipListMap<Long, StoredMessage> entries = new ConcurrentSkipListMap<>();
        final AtomicLong end = new AtomicLong();
        long bytes;
        long count; // ConcurrentSkipListMap.size() walks the map
    }

    private record Durable(SubscriptionRecord record, Map<TopicPartition, CursorState> cursors) {
    }

    public MemoryMessageStore(long maxMessages, long maxBytes) {
        if (maxMessages < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
    }

    @Override
    public String type() {
        return "memory";
    }

    /** A batch's messages are kept with the batch they came in, which a reader of its protocol may send on. */
    @Override
    public boolean keepsBatches() {
        return true;
    }

    @Override
    public boolean healthy() {
        return open;
    }

    @Override
    public Future<Void> open() {
        open = true;
        return Future.succeededFuture();
    }

    @Override
    public Future<Long> append(TopicPartition partition, Envelope envelope) {
        return append(partition, envelope, null);
    }

    /** Appends a message, of {@code batch} (kept as it came) when not null. */
    private Future<Long> append(TopicPartition partition, Envelope envelope, io.omnibus.core.spi.WireBatch batch) {
        if (!open) {
            return Future.failedFuture(new IllegalStateException("store is closed"));
        }
        PartitionLog log = log(partition);
        long offset = log.end.get();
        int size = envelope.estimatedSize();
        log.entries.put(offset, new StoredMessage(partition, offset, envelope, System.currentTimeMillis(), batch));
        log.bytes += size;
        log.count++;
        log.end.set(offset + 1);
        while (log.count > maxMessages || (log.bytes > maxBytes && log.count > 1)) {
            Map.Entry<Long, StoredMessage> first = log.entries.pollFirstEntry();
            log.bytes -= first.getValue().envelope().estimatedSize();
            log.count--;
            dropped.increment();
        }
        return Future.succeededFuture(offset);
    }

    @Override
    public Future<Long> appendAll(TopicPartition partition, List<Envelope> envelopes) {
        if (!open) {
            return Future.failedFuture(new IllegalStateException("store is closed"));
        }
        PartitionLog log = log(partition);
        long first = log.end.get();
        io.omnibus.core.spi.WireBatch batch = envelopes instanceof io.omnibus.core.spi.WireBatch b ? b.at(first) : null;
        for (Envelope e : envelopes) {
            append(partition, e, batch);
        }
        return Future.succeededFuture(first);
    }

    @Override
    public void appendAtomically(List<PartitionBatch> batches, List<StateChange> changes, List<CursorChange> cursors,
                                 io.vertx.core.Promise<long[]> done) {
        if (!open) {
            done.fail(new IllegalStateException("store is closed"));
            return;
        }
        long[] offsets = new long[batches.size()];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = appendAll(batches.get(i).partition(), batches.get(i).envelopes()).result();
        }
        for (StateChange c : changes) {
            putState(c.namespace(), c.key(), c.value());
        }
        for (CursorChange c : cursors) {
            saveCursor(c.subscription(), c.partition(), c.state());
        }
        done.complete(offsets);
    }

    @Override
    public Future<List<StoredMessage>> read(TopicPartition partition, long fromOffset, int max) {
        PartitionLog log = logs.get(partition);
        if (log == null || max <= 0) {
            return Future.succeededFuture(List.of());
        }
        List<StoredMessage> out = new ArrayList<>(Math.min(max, 256));
        for (StoredMessage m : log.entries.tailMap(fromOffset).values()) {
            out.add(m);
            if (out.size() == max) {
                break;
            }
        }
        return Future.succeededFuture(out);
    }

    @Override
    public Future<Void> truncate(TopicPartition partition) {
        PartitionLog log = logs.get(partition);
        if (log != null) {
            log.entries.clear();
            log.bytes = 0;
            log.count = 0;
        }
        return Future.succeededFuture();
    }

    @Override
    public Future<Boolean> truncateIfEndsAt(TopicPartition partition, long end) {
        // called on the partition's context, where its appends are made, and written at once: the end counts them all
        if (endOffset(partition) != end) {
            return Future.succeededFuture(false);
        }
        return truncate(partition).map(true);
    }

    @Override
    public long startOffset(TopicPartition partition) {
        PartitionLog log = logs.get(partition);
        if (log == null) {
            return 0;
        }
        Map.Entry<Long, StoredMessage> first = log.entries.firstEntry();
        return first == null ? log.end.get() : first.getKey();
    }

    @Override
    public long endOffset(TopicPartition partition) {
        PartitionLog log = logs.get(partition);
        return log == null ? 0 : log.end.get();
    }

    @Override
    public Set<TopicPartition> partitions() {
        return Set.copyOf(logs.keySet());
    }

    /** The log of {@code partition}, made (and its address's width noted, before it is seen) when missing. */
    private PartitionLog log(TopicPartition partition) {
        PartitionLog log = logs.get(partition);
        return log != null ? log : logs.computeIfAbsent(partition, p -> {
            widths.add(p);
            return new PartitionLog();
        });
    }

    @Override
    public Future<Void> saveSubscription(SubscriptionRecord record) {
        // a new subscription starts at the end of every partition it matches (what a file store restart sees too);
        // its partitions come from the addresses held, not from matching the filter against every partition
        ConcurrentHashMap<TopicPartition, CursorState> cursors = new ConcurrentHashMap<>();
        widths.forEachMatching(record.filter(), tp -> {
            PartitionLog log = logs.get(tp);
            if (log != null) {
                cursors.put(tp, new CursorState(log.end.get(), List.of()));
            }
        });
        subscriptions.putIfAbsent(record.name(), new Durable(record, cursors));
        return Future.succeededFuture();
    }

    @Override
    public Future<Void> deleteSubscription(String name) {
        subscriptions.remove(name);
        return Future.succeededFuture();
    }

    @Override
    public void saveCursor(String subscription, TopicPartition partition, CursorState state) {
        Durable d = subscriptions.get(subscription);
        if (d != null) {
            d.cursors().put(partition, state);
        }
    }

    @Override
    public Future<Map<SubscriptionRecord, Map<TopicPartition, CursorState>>> subscriptions() {
        Map<SubscriptionRecord, Map<TopicPartition, CursorState>> out = new java.util.LinkedHashMap<>();
        subscriptions.values().forEach(d -> out.put(d.record(), Map.copyOf(d.cursors())));
        return Future.succeededFuture(out);
    }

    @Override
    public Future<Void> putState(String namespace, String key, byte[] value) {
        ConcurrentHashMap<String, byte[]> ns = states.computeIfAbsent(namespace, n -> new ConcurrentHashMap<>());
        if (value == null) {
            ns.remove(key);
        } else {
            ns.put(key, value.clone());
        }
        return Future.succeededFuture();
    }

    @Override
    public Map<String, byte[]> states(String namespace) {
        return Map.copyOf(states.getOrDefault(namespace, new ConcurrentHashMap<>()));
    }

    @Override
    public byte[] state(String namespace, String key) {
        Map<String, byte[]> ns = states.get(namespace);
        return ns == null ? null : ns.get(key);
    }

    @Override
    public Future<Void> flush() {
        return Future.succeededFuture();
    }

    @Override
    public Future<Void> close() {
        open = false;
        return Future.succeededFuture();
    }

    @Override
    public long droppedByRetention() {
        return dropped.sum();
    }
}
