package io.omnibus.core.store.file;

import io.omnibus.core.spi.WireBatch;
import io.omnibus.core.store.StoredMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link FileMessageStore}'s reads, run by its reader threads: a partition's index entries, then the records they
 * point at, read a run at a time, checked, and made into messages (a batch record's once for all its messages).
 */
final class LogReads {
    private static final Logger LOG = LoggerFactory.getLogger(FileMessageStore.class);

    private LogReads() {
    }

    /**
     * Records next to each other in one segment are read together, up to this many bytes a read: under half of G1's
     * smallest region (1 MiB), so a read's buffer is an ordinary allocation, not a humongous one on fresh pages.
     */
    private static final int READ_SPAN = 256 << 10;

    /** How a read gives the messages of batch records. */
    enum Mode {
        /** Decoded on the reader's thread. */
        DECODED,
        /** Decoded by whoever asks first. */
        LAZY,
        /**
         * As {@link #LAZY}, and a batch of more than one message not even read: only its record's head, the batch
         * given as its place in the segment's file (its CRC is the consumer's to check, as a broker's consumers do).
         */
        IN_FILES
    }

    /**
     * Up to {@code max} messages of {@code idx}'s partition from {@code fromOffset} (or its first kept), each record's
     * CRC and offset checked (but see {@link Mode#IN_FILES}).
     */
    static List<StoredMessage> read(CommitLog log, PartitionIndex idx, long fromOffset, int max, Mode mode)
            throws IOException {
        long from = Math.max(fromOffset, idx.readableStart()); // read once: retention may move it meanwhile
        long[] entries = idx.read(from, max);
        List<StoredMessage> out = new ArrayList<>(entries.length / 3);
        boolean decode = mode == Mode.DECODED;
        boolean files = mode == Mode.IN_FILES;
        int e = 0;
        while (e < entries.length) {
            if (entries[e + 1] == 0) {
                e += 3; // a hole: the record was corrupt
                continue;
            }
            if (files && repeats(entries, e)) {
                int end = e + 3;
                while (end < entries.length && entries[end] == entries[e]) {
                    end += 3;
                }
                WireBatch batch = inFile(log, idx, entries[e], (int) entries[e + 1], from + e / 3);
                for (int r = e; r < end && batch != null; r += 3) {
                    long offset = from + r / 3;
                    if (offset >= batch.firstOffset() && offset <= batch.lastOffset()) {
                        out.add(new StoredMessage(idx.tp, offset, null, entries[r + 2], batch));
                    }
                }
                e = end;
                continue;
            }
            // one read for a run of records that follow each other in the same segment (a burst of one partition);
            // the messages of a batch record have one entry each, all at the record's position
            long start = entries[e];
            int end = e + 3;
            long spanEnd = start + entries[e + 1];
            long last = start;
            while (end < entries.length && entries[end + 1] > 0 && (entries[end] == last || entries[end] == spanEnd
                    && spanEnd + entries[end + 1] - start <= READ_SPAN && !(files && repeats(entries, end))
                    && log.sameSegment(start, entries[end]))) {
                if (entries[end] != last) {
                    last = entries[end];
                    spanEnd += entries[end + 1];
                }
                end += 3;
            }
            ByteBuffer span = log.read(start, (int) (spanEnd - start));
            long checked = -1; // the record of the entries before, checked already ...
            boolean good = false; // ... and whether it was good
            WireBatch batch = null; // ... and its batch, if it is one
            for (int r = e; r < end && span != null; r += 3) { // span null: removed by retention meanwhile
                long offset = from + r / 3;
                int at = (int) (entries[r] - start);
                ByteBuffer record = span.duplicate().position(at).limit(at + (int) entries[r + 1]).slice();
                if (entries[r] != checked) {
                    checked = entries[r];
                    good = check(log, idx, record, offset, entries[r]);
                    batch = good && Record.magic(record) == Record.MAGIC_BATCH
                            ? batch(log, idx, record, offset, entries[r], decode) : null;
                    good &= batch != null || Record.magic(record) != Record.MAGIC_BATCH;
                }
                if (!good) {
                    continue;
                }
                if (batch == null) {
                    out.add(new StoredMessage(idx.tp, offset, Record.envelope(record), Record.appendedAt(record)));
                } else if (offset - batch.firstOffset() < batch.size()) {
                    out.add(new StoredMessage(idx.tp, offset, decode ? batch.get((int) (offset - batch.firstOffset()))
                            : null, Record.appendedAt(record), batch));
                }
            }
            e = end;
        }
        return out;
    }

    /** Whether the record of entry {@code e} has more entries after it: a batch record of several messages. */
    private static boolean repeats(long[] entries, int e) {
        return e + 3 < entries.length && entries[e + 3] == entries[e] && entries[e + 1] > 0;
    }

    /**
     * The batch of the batch record at {@code position}, holding {@code offset}, as its place in the segment's file:
     * only the record's head is read. Null (said in the log) when it cannot be had.
     */
    private static WireBatch inFile(CommitLog log, PartitionIndex idx, long position, int length, long offset)
            throws IOException {
        ByteBuffer head = log.read(position, Math.min(length, Record.HEAD));
        if (head == null) {
            return null; // removed by retention meanwhile
        }
        try {
            // the head holds the header, the count and the format's name; its template's length says how much more
            int known = Record.HEADER + 4 + 2;
            int nameLength = head.remaining() >= known ? head.getShort(Record.HEADER + 4) : -1;
            known += nameLength + 4;
            if (nameLength >= 0 && known <= head.remaining() && Record.magic(head) == Record.MAGIC_BATCH
                    && head.getInt(0) == length) {
                int templateLength = head.getInt(known - 4);
                int needed = known + templateLength;
                if (templateLength >= 0 && needed <= length && needed > head.remaining()) {
                    head = log.read(position, needed);
                    if (head == null) {
                        return null; // removed by retention meanwhile
                    }
                }
                long first = Record.offset(head);
                if (templateLength >= 0 && needed <= length && offset >= first && offset < first + Record.messages(head)
                        && Record.partition(head) == idx.tp.partition()) {
                    int at = Record.batchAt(head, 0);
                    WireBatch.FileSlice slice = log.slice(position + at, length - at);
                    return slice == null ? null : WireBatch.stored(Record.format(head), slice, Record.batchTemplate(head),
                            Record.messages(head), first);
                }
            }
        } catch (RuntimeException ex) { // a head that does not parse (a damaged record), a format not on the class path
            unreadable(log, idx, offset, position, ex);
            return null;
        }
        LOG.error("store: index of {} disagrees with the log at offset {} ({}); not delivered", idx.tp, offset,
                log.describe(position));
        return null;
    }

    /** Whether the record read for {@code offset} is whole and holds it; says why not in the log. */
    private static boolean check(CommitLog log, PartitionIndex idx, ByteBuffer record, long offset, long position) {
        if (!Record.valid(record)) {
            LOG.error("store: corrupt record of {} offset {} (CRC mismatch) at {}; not delivered", idx.tp, offset,
                    log.describe(position));
            return false;
        }
        long first = Record.offset(record);
        if (offset < first || offset >= first + Record.messages(record) || Record.partition(record) != idx.tp.partition()) {
            LOG.error("store: index of {} disagrees with the log at offset {} ({}); not delivered", idx.tp, offset,
                    log.describe(position));
            return false;
        }
        return true;
    }

    /** Says in the log, once for each cause (readers would repeat it at every read), that a batch cannot be read. */
    private static void unreadable(CommitLog log, PartitionIndex idx, long offset, long position, RuntimeException ex) {
        if (REPORTED.size() < 100 && REPORTED.add(ex.toString())) {
            LOG.error("store: the batch of {} holding offset {} ({}) cannot be read: {}; its messages are not delivered "
                    + "(said once for this cause)", idx.tp, offset, log.describe(position), ex.toString());
        }
    }

    /** The causes of unreadable batches said in the log so far. */
    private static final java.util.Set<String> REPORTED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A batch decoded from the record at {@code position} with that CRC. */
    private record Decoded(long position, int crc, WireBatch batch) {
    }

    /** The last batch each reader decoded: a cursor reading on through a batch in steps decodes it once. */
    private static final ThreadLocal<Decoded[]> LAST_BATCH = ThreadLocal.withInitial(() -> new Decoded[1]);

    /**
     * The batch of a batch record, its messages decoded by its format if {@code decode}; null (said in the log) when
     * it cannot be.
     */
    private static WireBatch batch(CommitLog log, PartitionIndex idx, ByteBuffer record, long offset, long position,
                                   boolean decode) {
        Decoded[] last = LAST_BATCH.get();
        int crc = record.getInt(Record.CRC_AT);
        try {
            WireBatch batch = last[0] != null && last[0].position == position && last[0].crc == crc ? last[0].batch
                    : Record.batch(record);
            if (decode) {
                batch.get(0); // decodes them all
            }
            last[0] = new Decoded(position, crc, batch);
            return batch;
        } catch (RuntimeException ex) {
            unreadable(log, idx, offset, position, ex);
            return null;
        }
    }
}
