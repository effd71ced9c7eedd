package io.omnibus.core.store.file;

import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.WireBatch;
import io.omnibus.core.spi.WireFormat;
import io.omnibus.core.store.EnvelopeCodec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * One commit-log record:
 * <pre>
 *  0 int   length of the whole record
 *  4 int   CRC32C of bytes [8, length)
 *  8 byte  magic (1)
 *  9 long  partition offset
 * 17 long  appended at (ms since the epoch, the store's clock)
 * 25 int   partition
 * 29 ...   the envelope ({@link EnvelopeCodec}); its address names the topic
 * </pre>
 * The offset is written last, by the writer thread, so offsets follow log order.
 *
 * <p>A group marker (magic 3, body: the number of message records that follow it) makes the records after it
 * one write for recovery: all of them are kept, or (a crash tore the group) none, cut with the marker.
 *
 * <p>A batch record (magic 4) holds a {@link WireBatch}'s messages, at consecutive offsets from its own, as the
 * bytes they came as; its body:
 * <pre>
 *  0 int   the number of messages
 *  4 short n, then n bytes: the format's name (UTF-8)
 *  . int   m, then m bytes: the template envelope ({@link EnvelopeCodec}); its address names the topic
 *  . ...   the batch's bytes, to the end of the record
 * </pre>
 * When the writer gives the record its offset, the batch's format writes it into the batch's bytes too
 * ({@link WireFormat#stored}), so that they can be sent on as they lie in the file.
 */
final class Record {
    static final byte MAGIC = 1;
    /** A change to subscriptions or key-value state ({@link StoreState}); no partition, offset -1. */
    static final byte MAGIC_STATE = 2;
    /** The start of an atomic group: its body is the count of message records that follow. */
    static final byte MAGIC_GROUP = 3;
    /** Messages at consecutive offsets, as the bytes of the {@link WireBatch} they came in. */
    static final byte MAGIC_BATCH = 4;
    static final int HEADER = 29;
    static final int OFFSET_AT = 9;
    static final int CRC_AT = 4;

    private Record() {
    }

    /** Serialises an envelope into a record whose offset and CRC are still to be set. */
    static ByteBuffer encode(Envelope e, int partition, long appendedAt) {
        ByteBuffer b = ByteBuffer.allocate(HEADER + EnvelopeCodec.size(e)).order(ByteOrder.BIG_ENDIAN);
        b.position(8);
        b.put(MAGIC);
        b.putLong(-1);
        b.putLong(appendedAt);
        b.putInt(partition);
        EnvelopeCodec.write(e, b);
        int length = b.position();
        b.putInt(0, length);
        b.limit(length);
        b.position(0);
        return b;
    }

    /** Serialises a batch into one record whose offset (its first message's) and CRC are still to be set. */
    static ByteBuffer encodeBatch(WireBatch batch, int partition, long appendedAt) {
        byte[] name = batch.format().getBytes(StandardCharsets.UTF_8);
        int template = EnvelopeCodec.size(batch.template());
        ByteBuffer b = ByteBuffer.allocate(HEADER + 4 + 2 + name.length + 4 + template + batch.byteSize());
        b.putInt(b.capacity());
        b.putInt(0);
        b.put(MAGIC_BATCH);
        b.putLong(-1);
        b.putLong(appendedAt);
        b.putInt(partition);
        b.putInt(batch.size());
        b.putShort((short) name.length).put(name);
        int at = b.position();
        b.putInt(0);
        EnvelopeCodec.write(batch.template(), b);
        b.putInt(at, b.position() - at - 4);
        b.put(batch.bytes());
        b.putInt(0, b.position());
        b.flip();
        return b;
    }

    /** The number of messages a record holds: a batch's count, or 1. */
    static int messages(ByteBuffer record) {
        return magic(record) == MAGIC_BATCH ? record.getInt(record.position() + HEADER) : 1;
    }

    /**
     * Where the batch's bytes start in a batch record that starts at {@code p} of {@code record}: after the header,
     * the count, the format's name and the template, all of which {@code record} must hold.
     */
    static int batchAt(ByteBuffer record, int p) {
        int at = p + HEADER + 4;
        at += 2 + record.getShort(at);
        return at + 4 + record.getInt(at);
    }

    /** Bytes of a batch record's head to read for {@link #batchAt} to be known: at least the header and the name. */
    static final int HEAD = 512;

    /** The format a batch record names (its head read). */
    static String batchFormat(ByteBuffer record) {
        int at = record.position() + HEADER + 4;
        return new String(record.array(), record.arrayOffset() + at + 2, record.getShort(at), StandardCharsets.UTF_8);
    }

    /** The template envelope of a batch record (its head read, to {@link #batchAt}). */
    static Envelope batchTemplate(ByteBuffer record) {
        int at = record.position() + HEADER + 4;
        at += 2 + record.getShort(at);
        return EnvelopeCodec.read(record.duplicate().position(at + 4).limit(at + 4 + record.getInt(at)).slice());
    }

    /** Where the envelope (a batch's template) of a message record starts. */
    private static int envelopeAt(ByteBuffer record) {
        int at = record.position() + HEADER;
        if (magic(record) == MAGIC_BATCH) {
            at += 4;
            at += 2 + record.getShort(at);
            at += 4;
        }
        return at;
    }

    /**
     * The batch a batch record holds, read back; its messages are decoded by its format when first asked for. Throws
     * when the format is not on the class path.
     */
    static WireBatch batch(ByteBuffer record) {
        int p = record.position();
        ByteBuffer bytes = record.duplicate().position(batchAt(record, p)).limit(p + record.getInt(p)).slice();
        return WireBatch.stored(format(record), bytes, batchTemplate(record), messages(record), offset(record));
    }

    /** The format a batch record names; throws when it is not on the class path. */
    static WireFormat format(ByteBuffer record) {
        String name = batchFormat(record);
        WireFormat format = WireFormat.named(name);
        if (format == null) {
            throw new IllegalStateException("no wire format '" + name + "' on the class path to read the batch with");
        }
        return format;
    }

    /** A state-change record around {@code body}; sealed like any other. */
    static ByteBuffer encodeState(byte[] body, long appendedAt) {
        ByteBuffer b = ByteBuffer.allocate(HEADER + body.length);
        b.putInt(HEADER + body.length);
        b.putInt(0);
        b.put(MAGIC_STATE);
        b.putLong(-1);
        b.putLong(appendedAt);
        b.putInt(-1);
        b.put(body);
        b.flip();
        return b;
    }

    /** A group marker for the {@code count} message records written right after it. */
    static ByteBuffer encodeGroup(int count, long appendedAt) {
        ByteBuffer b = encodeState(new byte[4], appendedAt);
        b.put(8, MAGIC_GROUP);
        b.putInt(HEADER, count);
        return b;
    }

    /** The count of a group marker. */
    static int groupCount(ByteBuffer record) {
        return record.getInt(record.position() + HEADER);
    }

    static byte magic(ByteBuffer record) {
        return record.get(record.position() + 8);
    }

    /** The body after the header (the envelope, or a state change). */
    static ByteBuffer body(ByteBuffer record) {
        ByteBuffer body = record.duplicate();
        body.position(record.position() + HEADER);
        body.limit(record.position() + record.getInt(record.position()));
        return body.slice();
    }

    /** Sets the offset and the CRC; called by the writer just before the record is written. */
    static void seal(ByteBuffer record, long offset) {
        record.putLong(OFFSET_AT, offset);
        if (record.get(8) == MAGIC_BATCH) {
            WireFormat format = WireFormat.named(batchFormat(record));
            if (format != null) { // it is: the batch came from the adapter that contributes it
                format.stored(record.duplicate().position(batchAt(record, 0)).limit(record.getInt(0)).slice(), offset);
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(record.duplicate().position(8).limit(record.getInt(0)));
        record.putInt(CRC_AT, (int) crc.getValue());
    }

    /** Whether {@code record} (positioned at its start, holding at least its length) carries a matching CRC. */
    static boolean valid(ByteBuffer record) {
        int length = record.getInt(record.position());
        byte magic = length >= HEADER && length <= record.remaining() ? record.get(record.position() + 8) : 0;
        if (magic != MAGIC && magic != MAGIC_STATE && magic != MAGIC_GROUP && magic != MAGIC_BATCH) {
            return false;
        }
        CRC32C crc = new CRC32C();
        crc.update(record.duplicate().position(record.position() + 8).limit(record.position() + length));
        return (int) crc.getValue() == record.getInt(record.position() + CRC_AT);
    }

    static long offset(ByteBuffer record) {
        return record.getLong(record.position() + OFFSET_AT);
    }

    static long appendedAt(ByteBuffer record) {
        return record.getLong(record.position() + 17);
    }

    static int partition(ByteBuffer record) {
        return record.getInt(record.position() + 25);
    }

    /** The topic's address, read without decoding the whole envelope. */
    static String address(ByteBuffer record) {
        int at = envelopeAt(record) + 1 + 8 + 8 + 8 + 1 + 4;
        int n = record.getInt(at);
        return new String(record.array(), record.arrayOffset() + at + 4, n, StandardCharsets.UTF_8);
    }

    static Envelope envelope(ByteBuffer record) {
        return EnvelopeCodec.read(body(record));
    }
}
