package io.omnibus.core.store;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.Origin;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The envelope's on-disk form: every field, in a fixed order, so a stored message reads back
 * equal to what was appended. Strings are UTF-8 with an int length (-1 for null); buffers likewise.
 */
public final class EnvelopeCodec {
    private static final int FLAG_PAYLOAD_UTF8 = 1;
    private static final int FLAG_DURABLE = 2;
    private static final int FLAG_RETAIN = 4;
    private static final byte HEADER_TEXT = 0;
    private static final byte HEADER_BYTES = 1;

    private EnvelopeCodec() {
    }

    /** At least the bytes {@link #write} uses: a UTF-16 char never takes more than 3 bytes of UTF-8. */
    /** The envelope as bytes (for state such as retained messages). */
    public static byte[] encode(Envelope e) {
        ByteBuffer b = ByteBuffer.allocate(size(e));
        write(e, b);
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    public static Envelope decode(byte[] bytes) {
        return read(ByteBuffer.wrap(bytes));
    }

    public static int size(Envelope e) {
        int n = 1 + 8 + 8 + 8 + 1 + 4;              // flags, createdAt, expiresAt, deliverAt, priority, deliveryCount
        n += str(e.address().name()) + str(e.messageId()) + buf(e.key()) + buf(e.payload());
        n += 4;
        for (Header h : e.headers()) {
            n += str(h.name()) + 1 + (h.isText() ? str(h.stringValue()) : buf(h.bytesValue()));
        }
        n += str(e.contentType()) + buf(e.correlation()) + str(e.replyTo());
        n += str(e.origin().protocol()) + str(e.origin().clientId()) + str(e.origin().connectionId());
        return n;
    }

    public static void write(Envelope e, ByteBuffer out) {
        int flags = (e.payloadUtf8() ? FLAG_PAYLOAD_UTF8 : 0) | (e.durable() ? FLAG_DURABLE : 0) | (e.retain() ? FLAG_RETAIN : 0);
        out.put((byte) flags);
        out.putLong(e.createdAt());
        out.putLong(e.expiresAt());
        out.putLong(e.deliverAt());
        out.put((byte) e.priority());
        out.putInt(e.deliveryCount());
        putStr(out, e.address().name());
        putStr(out, e.messageId());
        putBuf(out, e.key());
        putBuf(out, e.payload());
        out.putInt(e.headers().size());
        for (Header h : e.headers()) {
            putStr(out, h.name());
            if (h.isText()) {
                out.put(HEADER_TEXT);
                putStr(out, h.stringValue());
            } else {
                out.put(HEADER_BYTES);
                putBuf(out, h.bytesValue());
            }
        }
        putStr(out, e.contentType());
        putBuf(out, e.correlation());
        putStr(out, e.replyTo());
        putStr(out, e.origin().protocol());
        putStr(out, e.origin().clientId());
        putStr(out, e.origin().connectionId());
    }

    /** Reads an envelope; the payload, key and correlation are views of {@code in} (no copy). */
    public static Envelope read(ByteBuffer in) {
        int flags = in.get();
        long createdAt = in.getLong();
        long expiresAt = in.getLong();
        long deliverAt = in.getLong();
        int priority = in.get();
        int deliveryCount = in.getInt();
        ReadMemo memo = ReadMemo.get();
        Envelope.Builder b = Envelope.builder(getAddress(in, memo));
        b.messageId(getStr(in));
        b.key(getBuf(in));
        b.payload(getBuf(in));
        int headers = in.getInt();
        for (int i = 0; i < headers; i++) {
            String name = getStr(in, memo);
            byte kind = in.get();
            if (kind == HEADER_TEXT) {
                b.header(Header.of(name, getStr(in)));
            } else {
                ByteBuffer v = getBuf(in);
                byte[] bytes = new byte[v.remaining()];
                v.get(bytes);
                b.header(Header.ofBytes(name, bytes));
            }
        }
        b.contentType(getStr(in, memo));
        b.correlation(getBuf(in));
        b.replyTo(getStr(in));
        b.origin(new Origin(getStr(in, memo), getStr(in, memo), getStr(in, memo)));
        return b.payloadUtf8((flags & FLAG_PAYLOAD_UTF8) != 0)
                .durable((flags & FLAG_DURABLE) != 0)
                .retain((flags & FLAG_RETAIN) != 0)
                .createdAt(createdAt)
                .expiresAt(expiresAt)
                .deliverAt(deliverAt)
                .priority(priority)
                .deliveryCount(deliveryCount)
                .build();
    }

    private static int str(String s) {
        return 4 + (s == null ? 0 : 3 * s.length());
    }

    private static int buf(ByteBuffer b) {
        return 4 + (b == null ? 0 : b.remaining());
    }

    private static void putStr(ByteBuffer out, String s) {
        if (s == null) {
            out.putInt(-1);
            return;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.putInt(bytes.length);
        out.put(bytes);
    }

    private static void putBuf(ByteBuffer out, ByteBuffer b) {
        if (b == null) {
            out.putInt(-1);
            return;
        }
        out.putInt(b.remaining());
        out.put(b.duplicate());
    }

    private static String getStr(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0) {
            return null;
        }
        String s = new String(in.array(), in.arrayOffset() + in.position(), n, StandardCharsets.UTF_8);
        in.position(in.position() + n);
        return s;
    }

    /** A string that repeats from record to record: decoded once per thread ({@link ReadMemo}). */
    private static String getStr(ByteBuffer in, ReadMemo memo) {
        int n = in.getInt();
        if (n < 0) {
            return null;
        }
        String s = memo.string(in.array(), in.arrayOffset() + in.position(), n);
        in.position(in.position() + n);
        return s;
    }

    private static Address getAddress(ByteBuffer in, ReadMemo memo) {
        int n = in.getInt();
        Address a = memo.address(in.array(), in.arrayOffset() + in.position(), n);
        in.position(in.position() + n);
        return a;
    }

    private static ByteBuffer getBuf(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0) {
            return null;
        }
        ByteBuffer view = in.slice(in.position(), n);
        in.position(in.position() + n);
        return view;
    }
}
