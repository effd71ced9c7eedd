package io.omnibus.store.kafka;

import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The messages last appended to each partition, kept in memory so that a subscription a little behind (a consumer
 * slower for a moment than its producers) reads them from here, not with a fetch from the Kafka cluster: what the
 * page cache does for the file store. Per partition it holds one run of consecutive offsets; an append that does not
 * follow the run (after a transaction's marker, say) starts a new one. At most {@code maxBytes} in all: an append past
 * it drops the oldest messages of its own partition.
 *
 * <p>A read is answered only from the run's offsets, consecutively from the offset asked for; anything else is
 * fetched from Kafka. Appends to a partition come in offset order from the producer's one I/O thread; reads from
 * any thread.
 */
final class TailCache {
    private static final int OVERHEAD = 160;

    private static final class Run {
        final ConcurrentSkipListMap<Long, StoredMessage> entries = new ConcurrentSkipListMap<>();
        long next = -1;
        long bytes;
    }

    private final long maxBytes;
    private final ConcurrentHashMap<TopicPartition, Run> runs = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();

    TailCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** A message the cluster acknowledged, in offset order per partition. */
    void appended(StoredMessage m) {
        if (maxBytes <= 0) {
            return;
        }
        Run run = runs.computeIfAbsent(m.partition(), k -> new Run());
        if (m.offset() != run.next) {
            drop(run, Integer.MAX_VALUE); // not consecutive: a new run
        }
        long size = m.envelope().payloadSize() + OVERHEAD;
        run.entries.put(m.offset(), m);
        run.next = m.offset() + 1;
        run.bytes += size;
        bytes.addAndGet(size);
        while (bytes.get() > maxBytes && run.entries.size() > 1) {
            drop(run, 1);
        }
    }

    private void drop(Run run, int count) {
        for (int i = 0; i < count; i++) {
            Map.Entry<Long, StoredMessage> first = run.entries.pollFirstEntry();
            if (first == null) {
                return;
            }
            long size = first.getValue().envelope().payloadSize() + OVERHEAD;
            run.bytes -= size;
            bytes.addAndGet(-size);
        }
    }

    /** Up to {@code max} messages from {@code from} on, consecutive; null when the cache does not hold {@code from}. */
    List<StoredMessage> read(TopicPartition tp, long from, int max) {
        Run run = runs.get(tp);
        if (run == null || !run.entries.containsKey(from)) {
            return null;
        }
        List<StoredMessage> out = new ArrayList<>(Math.min(max, 1024));
        long expect = from;
        for (StoredMessage m : run.entries.tailMap(from).values()) {
            if (m.offset() != expect || out.size() >= max) {
                break; // a run started anew meanwhile: the rest comes from Kafka
            }
            out.add(m);
            expect++;
        }
        return out.isEmpty() ? null : out;
    }

    /** The partition's messages were removed (truncated, retention): none of them is served any more. */
    void forget(TopicPartition tp) {
        Run run = runs.remove(tp);
        if (run != null) {
            bytes.addAndGet(-run.bytes);
        }
    }

    long bytes() {
        return bytes.get();
    }
}
