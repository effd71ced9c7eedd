package io.omnibus.kafka;

import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.WireBatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Stored entries as one uncompressed record batch (magic 2, CreateTime, no producer id), written straight from the
 * envelopes into one buffer: what a fetch answers. The bytes are those Kafka's own {@code MemoryRecordsBuilder}
 * writes for the same records ({@code RecordBatchWriterTest} compares them), without its per-record arrays and
 * header objects, and into a buffer of the caller's choice (a pooled direct one for the socket).
 *
 * <p>The record mapping is {@link RecordTranslation}'s "out" direction: headers named {@code kafka.*} stay inside;
 * the content type, correlation and reply-to follow the other headers unless a header of that name was kept; the
 * header {@code kafka.null-value} makes the value null.
 */
final class RecordBatchWriter {
    /** Bytes of a v2 batch header; the records follow. */
    static final int HEADER_BYTES = 61;
    private static final int LENGTH_AT = 8;
    private static final int LEADER_EPOCH_AT = 12;
    private static final int CRC_AT = 17;
    private static final int ATTRIBUTES_AT = 21;
    private static final int LAST_OFFSET_DELTA_AT = 23;
    private static final int MAX_TIMESTAMP_AT = 35;
    private static final byte[] CONTENT_TYPE = RecordTranslation.CONTENT_TYPE.getBytes(StandardCharsets.UTF_8);
    private static final byte[] CORRELATION_ID = RecordTranslation.CORRELATION_ID.getBytes(StandardCharsets.UTF_8);
    private static final byte[] REPLY_TO = RecordTranslation.REPLY_TO.getBytes(StandardCharsets.UTF_8);

    private RecordBatchWriter() {
    }

    /** About the bytes the batch of {@code entries} takes (its buffer grows if they take more). */
    static int estimate(List<Logs.Entry> entries) {
        int estimate = HEADER_BYTES;
        for (Logs.Entry e : entries) {
            estimate += e.envelope().estimatedSize() + 24;
        }
        return estimate;
    }

    /**
     * The entries (at least one, offsets ascending, holes allowed) as consecutive batches of about {@code batchBytes}
     * each (one entry at least), each in a direct buffer of {@code alloc}: small enough for the allocator's pools,
     * as a Kafka broker answers with its producers' batches. Entries stored as a producer's batch that the answer
     * holds to that batch's end are that batch, as it came (from its first record, as a broker sends it: a consumer
     * skips records before its fetch offset); such a batch read as its place in the store's file is that place
     * ({@link WireBatch.FileSlice}), to be sent from there. The buffers are released by the caller.
     */
    static List<Object> write(ByteBufAllocator alloc, List<Logs.Entry> entries, int batchBytes) {
        List<Object> out = new ArrayList<>();
        try {
            int from = 0;
            while (from < entries.size()) {
                WireBatch kept = kept(entries.get(from));
                int to = from;
                if (kept != null) {
                    do {
                        to++;
                    } while (to < entries.size() && kept(entries.get(to)) != null
                            && kept(entries.get(to)).firstOffset() == kept.firstOffset());
                    if (entries.get(to - 1).offset() == kept.lastOffset()) {
                        out.add(kept.file() != null ? kept.file() : asItCame(alloc, kept)); // stored with its offset
                        from = to;
                        continue;
                    } // else part of it only: written afresh
                } else {
                    int bytes = HEADER_BYTES;
                    do {
                        bytes += entries.get(to).envelope().estimatedSize() + 24;
                        to++;
                    } while (to < entries.size() && kept(entries.get(to)) == null
                            && bytes + entries.get(to).envelope().estimatedSize() + 24 <= batchBytes);
                }
                List<Logs.Entry> run = entries.subList(from, to);
                ByteBuf buf = alloc.directBuffer(estimate(run));
                out.add(buf);
                write(run, buf);
                from = to;
            }
            return out;
        } catch (RuntimeException e) {
            release(out);
            throw e;
        }
    }

    /** Releases the buffers among {@code parts}. */
    static void release(List<Object> parts) {
        for (Object p : parts) {
            if (p instanceof ByteBuf b) {
                b.release();
            }
        }
    }

    /** The producer's batch the entry was stored in, or null. */
    private static WireBatch kept(Logs.Entry e) {
        return FetchHandler.producerBatch(e) ? e.batch() : null;
    }

    /** A stored producer batch as it came, at its offset, with no partition leader epoch (as ours have none). */
    private static ByteBuf asItCame(ByteBufAllocator alloc, WireBatch kept) {
        ByteBuf buf = alloc.directBuffer(kept.byteSize());
        buf.writeBytes(kept.bytes());
        buf.setLong(0, kept.firstOffset()); // neither field is under the batch's CRC
        buf.setInt(LEADER_EPOCH_AT, -1);
        return buf;
    }

    /** Writes the batch of {@code entries} (at least one, offsets ascending, holes allowed) at the writer index. */
    static void write(List<Logs.Entry> entries, ByteBuf buf) {
        int start = buf.writerIndex();
        long base = entries.get(0).offset();
        long baseTimestamp = entries.get(0).envelope().createdAt();
        long maxTimestamp = Long.MIN_VALUE;
        buf.writeLong(base)
                .writeInt(0) // length, below
                .writeInt(-1) // partition leader epoch: none
                .writeByte(2) // magic
                .writeInt(0) // CRC, below
                .writeShort(0) // attributes: uncompressed, CreateTime, not transactional, not control
                .writeInt(0) // last offset delta, below
                .writeLong(baseTimestamp)
                .writeLong(0) // max timestamp, below
                .writeLong(-1).writeShort(-1).writeInt(-1) // producer id, epoch, base sequence: none
                .writeInt(entries.size());
        long lastOffset = base;
        for (Logs.Entry e : entries) {
            Envelope env = e.envelope();
            record(buf, env, e.offset() - base, env.createdAt() - baseTimestamp);
            maxTimestamp = Math.max(maxTimestamp, env.createdAt());
            lastOffset = e.offset();
        }
        buf.setInt(start + LENGTH_AT, buf.writerIndex() - start - LENGTH_AT - 4);
        buf.setInt(start + LAST_OFFSET_DELTA_AT, (int) (lastOffset - base));
        buf.setLong(start + MAX_TIMESTAMP_AT, maxTimestamp);
        CRC32C crc = new CRC32C();
        crc.update(buf.nioBuffer(start + ATTRIBUTES_AT, buf.writerIndex() - start - ATTRIBUTES_AT));
        buf.setInt(start + CRC_AT, (int) crc.getValue());
    }

    private static void record(ByteBuf buf, Envelope env, long offsetDelta, long timestampDelta) {
        ByteBuffer key = env.hasKey() ? env.key() : null;
        ByteBuffer value = env.header(RecordTranslation.NULL_VALUE) != null ? null : env.payload();
        List<Header> headers = env.headers();
        boolean contentType = env.contentType() != null && env.header(RecordTranslation.CONTENT_TYPE) == null;
        boolean correlation = env.correlation() != null && env.header(RecordTranslation.CORRELATION_ID) == null;
        boolean replyTo = env.replyTo() != null && env.header(RecordTranslation.REPLY_TO) == null;
        byte[] contentTypeValue = contentType ? env.contentType().getBytes(StandardCharsets.UTF_8) : null;
        byte[] replyToValue = replyTo ? env.replyTo().getBytes(StandardCharsets.UTF_8) : null;
        byte[][] names = null;
        ByteBuffer[] values = null;
        int headerCount = 0;
        int headerBytes = 0;
        if (!headers.isEmpty()) {
            names = new byte[headers.size()][];
            values = new ByteBuffer[headers.size()];
            for (int i = 0; i < headers.size(); i++) {
                Header h = headers.get(i);
                if (!h.name().startsWith("kafka.")) {
                    names[i] = h.name().getBytes(StandardCharsets.UTF_8);
                    values[i] = h.bytesValue();
                    headerBytes += header(names[i], values[i].remaining());
                    headerCount++;
                }
            }
        }
        if (contentType) {
            headerBytes += header(CONTENT_TYPE, contentTypeValue.length);
            headerCount++;
        }
        if (correlation) {
            headerBytes += header(CORRELATION_ID, env.correlation().remaining());
            headerCount++;
        }
        if (replyTo) {
            headerBytes += header(REPLY_TO, replyToValue.length);
            headerCount++;
        }
        int size = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint((int) offsetDelta)
                + (key == null ? 1 : sizeOfVarint(key.remaining()) + key.remaining())
                + (value == null ? 1 : sizeOfVarint(value.remaining()) + value.remaining())
                + sizeOfVarint(headerCount) + headerBytes;
        writeVarint(buf, size);
        buf.writeByte(0); // attributes
        writeVarlong(buf, timestampDelta);
        writeVarint(buf, (int) offsetDelta);
        bytes(buf, key);
        bytes(buf, value);
        writeVarint(buf, headerCount);
        for (int i = 0; names != null && i < names.length; i++) {
            if (names[i] != null) {
                bytes(buf, names[i]);
                bytes(buf, values[i]);
            }
        }
        if (contentType) {
            bytes(buf, CONTENT_TYPE);
            bytes(buf, contentTypeValue);
        }
        if (correlation) {
            bytes(buf, CORRELATION_ID);
            bytes(buf, env.correlation());
        }
        if (replyTo) {
            bytes(buf, REPLY_TO);
            bytes(buf, replyToValue);
        }
    }

    private static int header(byte[] name, int valueBytes) {
        return sizeOfVarint(name.length) + name.length + sizeOfVarint(valueBytes) + valueBytes;
    }

    /** Length-prefixed bytes; null as length -1. */
    private static void bytes(ByteBuf buf, ByteBuffer b) {
        if (b == null) {
            writeVarint(buf, -1);
        } else {
            writeVarint(buf, b.remaining());
            buf.writeBytes(b.duplicate());
        }
    }

    private static void bytes(ByteBuf buf, byte[] b) {
        writeVarint(buf, b.length);
        buf.writeBytes(b);
    }

    // ---- zig-zag varints, as Kafka's record format has them ------------------------------------------------------

    static int sizeOfVarint(int value) {
        return sizeOfUnsigned(((long) value << 1 ^ value >> 31) & 0xFFFFFFFFL);
    }

    static int sizeOfVarlong(long value) {
        long v = value << 1 ^ value >> 63;
        int bytes = 1;
        while ((v & 0xFFFFFFFFFFFFFF80L) != 0L) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    private static int sizeOfUnsigned(long v) {
        int bytes = 1;
        while ((v & 0xFFFFFF80L) != 0L) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    static void writeVarint(ByteBuf buf, int value) {
        int v = value << 1 ^ value >> 31;
        while ((v & 0xFFFFFF80) != 0) {
            buf.writeByte(v & 0x7F | 0x80);
            v >>>= 7;
        }
        buf.writeByte(v);
    }

    static void writeVarlong(ByteBuf buf, long value) {
        long v = value << 1 ^ value >> 63;
        while ((v & 0xFFFFFFFFFFFFFF80L) != 0L) {
            buf.writeByte((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf.writeByte((int) v);
    }
}
