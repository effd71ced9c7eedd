package io.omnibus.store.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.TopicPartition;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The records of the store's state topic (compacted, one partition). A key is a kind byte and length-prefixed UTF-8
 * parts, so that any name (a client id, a subscription name) fits without escaping; the latest record of a key wins
 * and a null value (a tombstone) removes it:
 * <ul>
 *   <li>{@code s namespace key}: key-value state ({@code putState}: sessions, retained messages, ...), the value as given;</li>
 *   <li>{@code t kafka-topic}: which address a data topic holds (its name may be shortened), the address's name;</li>
 *   <li>{@code u name}: a durable subscription;</li>
 *   <li>{@code c subscription address partition}: a durable subscription's cursor on one partition.</li>
 * </ul>
 */
final class StateRecords {
    static final byte STATE = 's';
    static final byte TOPIC = 't';
    static final byte SUBSCRIPTION = 'u';
    static final byte CURSOR = 'c';

    private StateRecords() {
    }

    /** A parsed key: its kind and its parts. */
    record Key(byte kind, List<String> parts) {
        String part(int i) {
            return parts.get(i);
        }
    }

    static byte[] stateKey(String namespace, String key) {
        return key(STATE, namespace, key);
    }

    static byte[] topicKey(String kafkaTopic) {
        return key(TOPIC, kafkaTopic);
    }

    static byte[] subscriptionKey(String name) {
        return key(SUBSCRIPTION, name);
    }

    static byte[] cursorKey(String subscription, TopicPartition tp) {
        return key(CURSOR, subscription, tp.address().name(), Integer.toString(tp.partition()));
    }

    static TopicPartition cursorPartition(Key key) {
        return new TopicPartition(Address.of(key.part(1)), Integer.parseInt(key.part(2)));
    }

    private static byte[] key(byte kind, String... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(32);
        out.write(kind);
        for (String p : parts) {
            writeBytes(out, p.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /** The key's kind and parts; throws {@link IllegalArgumentException} for bytes no version of this class wrote. */
    static Key parse(byte[] key) {
        if (key == null || key.length == 0) {
            throw new IllegalArgumentException("an empty key");
        }
        ByteBuffer in = ByteBuffer.wrap(key, 1, key.length - 1);
        List<String> parts = new ArrayList<>(4);
        while (in.hasRemaining()) {
            parts.add(new String(readBytes(in), StandardCharsets.UTF_8));
        }
        return new Key(key[0], parts);
    }

    static byte[] subscription(SubscriptionRecord r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        for (String s : new String[] {r.name(), r.filter(), r.policy().configName(), r.selector(), r.noLocal()}) {
            if (s == null) {
                writeVarint(out, 0);
            } else {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                writeVarint(out, b.length + 1);
                out.write(b, 0, b.length);
            }
        }
        return out.toByteArray();
    }

    static SubscriptionRecord subscription(byte[] value) {
        ByteBuffer in = ByteBuffer.wrap(value);
        String[] s = new String[5];
        for (int i = 0; i < s.length; i++) {
            int n = readVarint(in);
            if (n > 0) {
                byte[] b = new byte[n - 1];
                in.get(b);
                s[i] = new String(b, StandardCharsets.UTF_8);
            }
        }
        return new SubscriptionRecord(s[0], s[1], DispatchPolicy.fromConfigName(s[2]), s[3], s[4]);
    }

    static byte[] cursor(CursorState c) {
        ByteBuffer out = ByteBuffer.allocate(12 + 16 * c.ackedRanges().size());
        out.putLong(c.ackedBelow());
        out.putInt(c.ackedRanges().size());
        for (long[] r : c.ackedRanges()) {
            out.putLong(r[0]).putLong(r[1]);
        }
        return out.array();
    }

    static CursorState cursor(byte[] value) {
        ByteBuffer in = ByteBuffer.wrap(value);
        long below = in.getLong();
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / 16) {
            throw new IllegalArgumentException("a cursor record with " + n + " ranges in " + value.length + " bytes");
        }
        List<long[]> ranges = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ranges.add(new long[] {in.getLong(), in.getLong()});
        }
        return new CursorState(below, ranges);
    }

    private static void writeBytes(ByteArrayOutputStream out, byte[] b) {
        writeVarint(out, b.length);
        out.write(b, 0, b.length);
    }

    private static byte[] readBytes(ByteBuffer in) {
        int n = readVarint(in);
        if (n < 0 || n > in.remaining()) {
            throw new IllegalArgumentException("a part of " + n + " bytes where " + in.remaining() + " remain");
        }
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private static void writeVarint(ByteArrayOutputStream out, int v) {
        while ((v & ~0x7f) != 0) {
            out.write((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.write(v);
    }

    private static int readVarint(ByteBuffer in) {
        int v = 0;
        for (int shift = 0; shift < 32; shift += 7) {
            if (!in.hasRemaining()) {
                throw new IllegalArgumentException("a truncated length");
            }
            byte b = in.get();
            v |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("a length of more than 32 bits");
    }
}
