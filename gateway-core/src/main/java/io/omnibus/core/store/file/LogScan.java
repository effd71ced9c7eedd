package io.omnibus.core.store.file;

import io.omnibus.core.spi.Address;
import io.omnibus.core.store.AddressWidths;
import io.omnibus.core.store.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Recovery's read of the commit log from the last checkpoint on: every record's CRC is checked, message records
 * are indexed, state records (subscriptions, cursors, key-value state) applied in log order; a torn tail is found.
 * The records of a group (a marker, then its message records and state changes) are indexed and applied only once
 * all of them were read: a group the crash tore is cut whole, from its marker on.
 */
final class LogScan {
    private static final Logger LOG = LoggerFactory.getLogger(FileMessageStore.class);

    private final CommitLog log;
    private final StoreState state;
    private final Map<TopicPartition, PartitionIndex> indexes;
    private final AddressWidths widths;
    private final Path indexRoot;
    private final long entriesPerFile;
    private final long segmentSize;

    LogScan(CommitLog log, StoreState state, Map<TopicPartition, PartitionIndex> indexes,
            AddressWidths widths, Path indexRoot,
            long entriesPerFile, long segmentSize) {
        this.log = log;
        this.state = state;
        this.indexes = indexes;
        this.widths = widths;
        this.indexRoot = indexRoot;
        this.entriesPerFile = entriesPerFile;
        this.segmentSize = segmentSize;
    }

    /** A message record read inside a group, indexed when the group is complete. */
    private record Entry(TopicPartition tp, long offset, int messages, long position, int length, long appendedAt) {
    }

    /** Where the group being read starts, how many of its records are still to come, and those read so far. */
    private long groupStart = -1;
    private int groupLeft;
    private final List<Entry> group = new java.util.ArrayList<>();
    private final List<ByteBuffer> groupStates = new java.util.ArrayList<>();

    private long corruptRecords;

    /** Records skipped because their checksum did not match. */
    long corruptRecords() {
        return corruptRecords;
    }

    /**
     * Indexes every record from {@code from} on and applies state changes; returns where valid data ends. Says in
     * the log how far it got, every few seconds, so a long recovery is seen to progress.
     */
    long from(long from, StoreState.Ends ends) throws IOException {
        long validEnd = from;
        List<long[]> segments = log.segmentsFrom(from);
        long total = 0;
        for (long[] seg : segments) {
            total += seg[1] - Math.max(0, from - seg[0]);
        }
        if (!segments.isEmpty()) {
            LOG.info("store: recovery replays {} MiB of commit log in {} segment(s) written since the last checkpoint",
                    total >> 20, segments.size());
        }
        long lastReport = System.nanoTime();
        long done = 0;
        for (int s = 0; s < segments.size(); s++) {
            long base = segments.get(s)[0];
            long size = segments.get(s)[1];
            if (System.nanoTime() - lastReport > 5_000_000_000L) {
                lastReport = System.nanoTime();
                LOG.info("store: recovery at segment {} of {}, {}% of the bytes to replay", s + 1, segments.size(),
                        total == 0 ? 100 : done * 100 / total);
            }
            done += size - Math.max(0, from - base);
            boolean last = s == segments.size() - 1;
            long pos = Math.max(from, base) - base;
            while (pos + 4 <= size) {
                ByteBuffer head = log.read(base + pos, 4);
                int length = head.getInt(0);
                if (length < Record.HEADER || pos + length > size || length > segmentSize) {
                    if (!last) {
                        LOG.warn("store: unreadable data at {}; skipping the rest of that segment", log.describe(base + pos));
                    }
                    break;
                }
                ByteBuffer record = log.read(base + pos, length);
                if (!Record.valid(record)) {
                    long after = base + pos + length;
                    boolean nextValid = pos + length == size && !last || validAt(after, base + size);
                    if (nextValid) {
                        corruptRecords++;
                        LOG.error("store: corrupt record (CRC mismatch) at {}; it is skipped and never delivered",
                                log.describe(base + pos));
                        pos += length;
                        validEnd = base + pos;
                        if (groupLeft > 0 && --groupLeft == 0) {
                            endGroup(ends);
                        }
                        continue;
                    }
                    break; // torn tail
                }
                byte magic = Record.magic(record);
                if (magic == Record.MAGIC_STATE && groupLeft > 0) {
                    groupStates.add(Record.body(record)); // applied with its group, if the group is whole
                    if (--groupLeft == 0) {
                        endGroup(ends);
                    }
                } else if (magic == Record.MAGIC_STATE) {
                    state.apply(Record.body(record), ends);
                } else if (magic == Record.MAGIC_GROUP) {
                    if (groupLeft > 0) {
                        LOG.error("store: a group at {} ends early; its records are dropped", log.describe(groupStart));
                        group.clear();
                        groupStates.clear();
                    }
                    groupStart = base + pos;
                    groupLeft = Record.groupCount(record);
                } else {
                    Entry e = new Entry(new TopicPartition(Address.of(Record.address(record)), Record.partition(record)),
                            Record.offset(record), Record.messages(record), base + pos, length, Record.appendedAt(record));
                    if (groupLeft > 0) {
                        group.add(e);
                        if (--groupLeft == 0) {
                            endGroup(ends);
                        }
                    } else {
                        index(e);
                    }
                }
                pos += length;
                validEnd = base + pos;
            }
            if (!last) {
                validEnd = base + segmentSize > validEnd && s + 1 < segments.size() ? segments.get(s + 1)[0] : validEnd;
            }
        }
        if (groupLeft > 0) {
            LOG.warn("store: the last group at {} is incomplete ({} of its records missing); it is cut whole",
                    log.describe(groupStart), groupLeft);
            return groupStart;
        }
        return validEnd;
    }

    private void endGroup(StoreState.Ends ends) throws IOException {
        for (Entry e : group) {
            index(e);
        }
        group.clear();
        for (ByteBuffer body : groupStates) {
            state.apply(body, ends);
        }
        groupStates.clear();
    }

    private void index(Entry e) throws IOException {
        PartitionIndex index = indexes.get(e.tp());
        if (index == null) {
            index = new PartitionIndex(indexRoot, e.tp(), entriesPerFile);
            LogWriter.indexed(indexes, widths, index);
        }
        if (e.offset() >= index.next()) {
            while (index.next() < e.offset()) {
                index.append(e.position(), 0, 0); // a hole left by a corrupt record
            }
            for (int m = 0; m < e.messages(); m++) { // a batch's messages share its record
                index.append(e.position(), e.length(), e.appendedAt());
            }
        }
    }

    private boolean validAt(long position, long segmentEnd) throws IOException {
        if (position + 4 > segmentEnd) {
            return position == segmentEnd;
        }
        int length = log.read(position, 4).getInt(0);
        if (length < Record.HEADER || position + length > segmentEnd) {
            return false;
        }
        return Record.valid(log.read(position, length));
    }
}
