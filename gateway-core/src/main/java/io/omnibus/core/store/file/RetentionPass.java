package io.omnibus.core.store.file;

import io.omnibus.core.spi.Address;
import io.omnibus.core.store.RetentionFloor;
import io.omnibus.core.store.TopicPartition;

import java.io.IOException;
import java.util.Collection;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/** Retention, run by the store's writer at each checkpoint: which messages of each partition may go. */
final class RetentionPass {
    private final Function<Address, FileStoreOptions.Retention> retention;
    private final LongAdder dropped = new LongAdder();
    /** How many times a pass moved a partition's start (writer thread). */
    private long moves;

    RetentionPass(Function<Address, FileStoreOptions.Retention> retention) {
        this.retention = retention;
    }

    /** How many times a pass moved a partition's start so far: a pass that moved none changed nothing. */
    long moves() {
        return moves;
    }

    /** Messages dropped so far that a durable cursor had not acknowledged (size retention forces them out). */
    long dropped() {
        return dropped.sum();
    }

    /**
     * Moves each partition's start past what its retention lets go: by age only what every durable
     * cursor has passed, by size whatever the limit needs (counting what a cursor had not reached).
     * Returns the lowest log position a partition still needs ({@code Long.MAX_VALUE} when none does).
     */
    long apply(Collection<PartitionIndex> indexes, Collection<StoreState.Durable> subscriptions) throws IOException {
        long now = System.currentTimeMillis();
        long minLive = Long.MAX_VALUE;
        RetentionFloor floor = new RetentionFloor();
        for (StoreState.Durable d : subscriptions) {
            floor.add(d.record(), d.cursors());
        }
        for (PartitionIndex idx : indexes) {
            FileStoreOptions.Retention r = retention.apply(idx.tp.address());
            long needed = floor.needed(idx.tp);
            long start = idx.start();
            long dropBytes = 0;
            long over = r.maxBytes() > 0 ? idx.bytes() - r.maxBytes() : 0;
            long cutoff = r.maxAge().isZero() ? Long.MIN_VALUE : now - r.maxAge().toMillis();
            // the first entry (kept by the index while its start stays) says whether anything goes: most often
            // nothing does, and the partition's index file is not opened
            long[] first = start < idx.next() ? idx.startEntry() : new long[0];
            boolean more = first.length > 0 && goes(first[1], first[2], over > 0, start, needed, cutoff);
            while (more && start < idx.next()) {
                // one entry more than is looked at: a batch's messages share one record, whose bytes go with its last
                long[] entries = idx.read(start, 1025);
                if (entries.length == 0) {
                    break;
                }
                int looked = Math.min(entries.length, 1024 * 3);
                for (int e = 0; e < looked; e += 3) {
                    long size = entries[e + 1];
                    boolean bySize = dropBytes < over;
                    if (!goes(size, entries[e + 2], bySize, start, needed, cutoff)) {
                        more = false;
                        break;
                    }
                    if (bySize && start >= needed && size > 0) {
                        dropped.increment(); // a cursor still needed it
                    }
                    boolean lastOfRecord = e + 3 >= entries.length || entries[e + 3] != entries[e];
                    dropBytes += lastOfRecord ? size : 0;
                    start++;
                }
            }
            if (start > idx.start()) {
                idx.advanceStart(start, dropBytes);
                moves++;
            }
            if (idx.start() < idx.next()) {
                long[] kept = idx.startEntry();
                if (kept.length > 0) {
                    minLive = Math.min(minLive, kept[0]);
                }
            }
        }
        return minLive;
    }

    /**
     * Whether the entry at {@code offset} (its record's {@code size}, 0 for a hole, and append time) goes: by size
     * while the limit is exceeded, by age once older than {@code cutoff} and behind every cursor ({@code needed}); a
     * hole goes as soon as the cursors passed it.
     */
    private static boolean goes(long size, long appendedAt, boolean bySize, long offset, long needed, long cutoff) {
        boolean byAge = appendedAt < cutoff && offset < needed && size > 0 || size == 0 && offset < needed;
        return bySize || byAge;
    }
}
