package io.omnibus.core.store.file;

import io.omnibus.core.store.AddressWidths;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.TopicPartition;
import io.omnibus.core.store.file.FileStoreOptions.Fsync;
import io.omnibus.core.store.file.WriteOps.Append;
import io.omnibus.core.store.file.WriteOps.Change;
import io.omnibus.core.store.file.WriteOps.Group;
import io.omnibus.core.store.file.WriteOps.Op;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * {@link FileMessageStore}'s writes, on its writer thread: a run of queued operations written to the commit log in one
 * append, their records given offsets and indexed, all of it taken back when any part fails (no offset is used twice,
 * nothing unindexed is acknowledged), and each acknowledged once durable as the fsync policy says: at once, or when
 * the next {@link #sync} (the group commit the writer's loop times) covers it. Writer thread only, but for
 * {@link #failure} and {@link #broken}.
 */
final class LogWriter {
    private static final Logger LOG = LoggerFactory.getLogger(FileMessageStore.class);

    private final FileStoreOptions options;
    private final CommitLog log;
    private final ConcurrentHashMap<TopicPartition, PartitionIndex> indexes;
    /** Per address, one more than the highest partition number in {@link #indexes} ({@link #indexed}). */
    private final AddressWidths widths;
    /** Bytes appended to the commit log, records' framing included (the store's meter). */
    private final LongAdder appendedBytes;
    /** Where each fsync's duration goes (nanoseconds). */
    private final LongConsumer fsyncs;
    /** Partitions whose index file is open for writing, least recently written first. */
    private final java.util.LinkedHashMap<PartitionIndex, Boolean> openIndexes = new java.util.LinkedHashMap<>(16, 0.75f, true);
    /** Written, and waiting for an fsync to be acknowledged, in the order written. */
    private final List<Op> waitingForSync = new ArrayList<>();
    private long unsyncedBytes;
    private long firstUnsyncedAt;
    /** Deferred changes ({@link Change#deferred}) are written that no fsync has covered yet. */
    private boolean deferredWritten;
    /** When the first of them was written ({@link System#nanoTime}: a wall clock stepped back must not hold them). */
    private long deferredSince;
    /** The last write error, while writes are failing; null when healthy. */
    private volatile IOException failure;
    /** A failed write could not be taken back: only a restart (recovery) makes writing safe again. */
    private volatile boolean broken;

    LogWriter(FileStoreOptions options, CommitLog log, ConcurrentHashMap<TopicPartition, PartitionIndex> indexes,
              AddressWidths widths, LongAdder appendedBytes, LongConsumer fsyncs) {
        this.options = options;
        this.log = log;
        this.indexes = indexes;
        this.widths = widths;
        this.appendedBytes = appendedBytes;
        this.fsyncs = fsyncs;
    }

    IOException failure() {
        return failure;
    }

    boolean broken() {
        return broken;
    }

    /** Whether written operations wait for an fsync. */
    boolean waiting() {
        return !waitingForSync.isEmpty();
    }

    /** When the first write an fsync has not covered yet was made (ms), while {@link #waiting}. */
    long firstUnsyncedAt() {
        return firstUnsyncedAt;
    }

    /** Whether deferred changes are written and an fsync is due for them ({@code fsync-interval} after the first). */
    boolean deferredDue() {
        return deferredDueIn() == 0;
    }

    /** Milliseconds until an fsync is due for the deferred changes written (0: now), or {@link Long#MAX_VALUE}. */
    long deferredDueIn() {
        if (!deferredWritten) {
            return Long.MAX_VALUE;
        }
        return millisUntil(deferredSince + options.fsyncInterval().toNanos());
    }

    /** Whole milliseconds, rounded up, until {@code deadline} ({@link System#nanoTime}); 0 when it has passed. */
    static long millisUntil(long deadline) {
        long left = deadline - System.nanoTime();
        return left <= 0 ? 0 : (left + 999_999) / 1_000_000;
    }

    /** The bytes written since the last fsync that wait for one. */
    long unsyncedBytes() {
        return unsyncedBytes;
    }

    /** Every index file open for writing was just forced and closed (a checkpoint). */
    void forgetOpenIndexes() {
        openIndexes.clear();
    }

    /**
     * Writes {@code writes} (appends, groups, state changes, in queue order) with one append to the commit log; each
     * is acknowledged now or queued for the next {@link #sync}, or failed with the whole run.
     */
    void write(List<Op> writes) {
        long endBefore = log.end();
        Map<TopicPartition, Long> next = new HashMap<>();
        int count = 0;
        for (Op op : writes) {
            if (op instanceof Group g) {
                count += 1 + g.changes.length;
                for (Append a : g.parts) {
                    count += a.records.length;
                }
            } else {
                count += op instanceof Append a ? a.records.length + (a.marker == null ? 0 : 1) : 1;
            }
        }
        ByteBuffer[] records = new ByteBuffer[count];
        int k = 0;
        for (Op op : writes) {
            if (op instanceof Group g) {
                Record.seal(g.marker, -1);
                records[k++] = g.marker;
                for (Append a : g.parts) {
                    k = place(a, next, records, k);
                }
                for (Change c : g.changes) {
                    Record.seal(c.record, -1);
                    records[k++] = c.record;
                }
            } else if (op instanceof Append a) {
                if (a.marker != null) {
                    Record.seal(a.marker, -1);
                    records[k++] = a.marker;
                }
                k = place(a, next, records, k);
            } else {
                Change c = (Change) op;
                if (c.subscriptionFilter != null) {
                    c.starts = ends(indexes, widths, c.subscriptionFilter, next);
                }
                Record.seal(c.record, -1);
                records[k++] = c.record;
            }
        }
        long[] positions;
        long endBeforeAppend = log.end();
        try {
            positions = log.append(records, records.length);
            appendedBytes.add(log.end() - endBeforeAppend);
        } catch (IOException e) {
            rollBack(endBefore, e);
            failAll(writes, e);
            return;
        }
        java.util.Set<PartitionIndex> touched = new java.util.LinkedHashSet<>();
        try {
            long now = System.currentTimeMillis();
            k = 0;
            for (Op op : writes) {
                if (op instanceof Group g) {
                    k++; // the marker
                    for (Append a : g.parts) {
                        k = index(a, positions, k, now, touched);
                    }
                    k += g.changes.length;
                } else if (op instanceof Append a) {
                    k = index(a, positions, k + (a.marker == null ? 0 : 1), now, touched);
                } else {
                    k++;
                }
            }
            for (PartitionIndex idx : touched) {
                idx.flush();
                openIndexes.put(idx, Boolean.TRUE);
            }
            // many partitions (one topic per device) must not exhaust the process's file descriptors
            while (openIndexes.size() > options.maxOpenIndexFiles()) {
                var eldest = openIndexes.entrySet().iterator();
                PartitionIndex idle = eldest.next().getKey();
                eldest.remove();
                idle.releaseChannel();
            }
        } catch (IOException e) {
            // the batch is taken back whole: no offset is used twice, nothing unindexed is acknowledged
            touched.forEach(PartitionIndex::rollback);
            rollBack(endBefore, e);
            failAll(writes, e);
            return;
        }
        for (Op op : writes) {
            if (op instanceof Change c) {
                c.apply.run();
            } else if (op instanceof Group g) {
                for (Change c : g.changes) {
                    c.apply.run();
                }
            }
        }
        if (failure != null && !broken) {
            LOG.info("store {}: writes succeed again", options.dir());
            failure = null;
        }
        long now = System.currentTimeMillis();
        for (Op op : writes) {
            if (op instanceof Change c && c.deferred) {
                if (options.fsync() != Fsync.OS && !deferredWritten) {
                    deferredWritten = true;
                    deferredSince = System.nanoTime();
                }
                complete(op); // no one waits
                continue;
            }
            boolean durableWrite = op instanceof Append a ? a.durable : !(op instanceof Group g) || g.durable;
            if (options.fsync() == Fsync.OS || (!durableWrite && waitingForSync.isEmpty())) {
                complete(op); // nothing earlier waits: completions stay in offset order
            } else {
                if (waitingForSync.isEmpty()) {
                    firstUnsyncedAt = now;
                }
                waitingForSync.add(op);
                unsyncedBytes += op.bytes;
            }
        }
    }

    /** Gives the records of {@code a} their offsets and places them in {@code records} from {@code k}. */
    private int place(Append a, Map<TopicPartition, Long> next, ByteBuffer[] records, int k) {
        long offset = next.computeIfAbsent(a.tp, tp -> {
            PartitionIndex idx = indexes.get(tp);
            return idx == null ? 0L : idx.next();
        });
        a.offset = offset;
        for (ByteBuffer r : a.records) {
            Record.seal(r, offset);
            offset += Record.messages(r);
            records[k++] = r;
        }
        next.put(a.tp, offset);
        return k;
    }

    /** Indexes the records of {@code a}, written at {@code positions} from {@code k}. */
    private int index(Append a, long[] positions, int k, long now, java.util.Set<PartitionIndex> touched)
            throws IOException {
        PartitionIndex idx = indexes.get(a.tp);
        if (idx == null) {
            idx = new PartitionIndex(options.dir().resolve("index"), a.tp, options.indexEntriesPerFile());
            indexed(indexes, widths, idx);
        }
        if (touched.add(idx)) {
            idx.mark();
        }
        for (ByteBuffer r : a.records) {
            for (int m = Record.messages(r); m > 0; m--) { // a batch's messages share its record
                idx.append(positions[k], r.limit(), now);
            }
            k++;
        }
        return k;
    }

    private void rollBack(long endBefore, IOException cause) {
        markFailed(cause);
        try {
            log.truncate(endBefore);
        } catch (IOException e) {
            // records of a failed batch may stay in the log; writing on could give their offsets to others
            broken = true;
            LOG.error("store {}: cannot cut a failed write back out of the log; no more writes until a restart",
                    options.dir(), e);
        }
    }

    void markFailed(IOException e) {
        if (failure == null) {
            LOG.error("store {}: write failed, producers get errors until it succeeds again: {}", options.dir(), e.toString());
        }
        failure = e;
    }

    /** Makes everything written durable, then acknowledges what waited for it; fails those when it cannot. */
    void sync() throws IOException {
        if (waitingForSync.isEmpty() && !deferredWritten) {
            return;
        }
        deferredWritten = false; // covered, or lost with the failure (they are not waited for)
        try {
            long began = System.nanoTime();
            log.force();
            fsyncs.accept(System.nanoTime() - began);
        } catch (IOException e) {
            markFailed(e);
            failAll(waitingForSync, e);
            waitingForSync.clear();
            unsyncedBytes = 0;
            throw e;
        }
        for (Op op : waitingForSync) {
            complete(op);
        }
        waitingForSync.clear();
        unsyncedBytes = 0;
    }

    private static void complete(Op op) {
        if (op instanceof Append a) {
            a.promise.complete(a.offset);
        } else if (op instanceof Group g) {
            long[] offsets = new long[g.parts.length];
            for (int i = 0; i < offsets.length; i++) {
                offsets[i] = g.parts[i].offset;
            }
            g.promise.complete(offsets);
        } else if (op instanceof Change c) {
            c.promise.complete();
        }
    }

    static void failAll(List<Op> ops, IOException e) {
        for (Op op : ops) {
            if (op instanceof Append a) {
                a.promise.tryFail(e);
            } else if (op instanceof Group g) {
                g.promise.tryFail(e);
            } else if (op instanceof Change c) {
                c.promise.tryFail(e);
            } else if (op instanceof WriteOps.Control c) {
                c.promise.tryFail(e);
            }
        }
    }

    /** Adds a partition's index, and notes how many partitions its address has at least. */
    static void indexed(Map<TopicPartition, PartitionIndex> indexes, AddressWidths widths, PartitionIndex idx) {
        indexes.put(idx.tp, idx);
        widths.add(idx.tp);
    }

    /**
     * Where each partition {@code filter} matches ends now: {@code pending} holds the next offsets of partitions
     * earlier records of the batch being written went to, {@code indexes} the rest (found through {@code widths}).
     */
    static Map<TopicPartition, CursorState> ends(Map<TopicPartition, PartitionIndex> indexes, AddressWidths widths,
                                                 String filter, Map<TopicPartition, Long> pending) {
        Map<TopicPartition, CursorState> out = new HashMap<>();
        widths.forEachMatching(filter, tp -> {
            PartitionIndex idx = indexes.get(tp);
            if (idx != null) {
                out.put(tp, new CursorState(idx.next(), List.of()));
            }
        });
        if (!pending.isEmpty()) {
            io.omnibus.core.spi.TopicFilter f = io.omnibus.core.spi.TopicFilter.of(filter);
            pending.forEach((tp, next) -> {
                if (f.matches(tp.address())) {
                    out.put(tp, new CursorState(next, List.of()));
                }
            });
        }
        return out;
    }
}
