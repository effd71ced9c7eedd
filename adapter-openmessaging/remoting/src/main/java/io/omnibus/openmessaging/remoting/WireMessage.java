package io.omnibus.openmessaging.remoting;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A RocketMQ message as the wire carries it, and its two layouts:
 * <ul>
 *   <li>the <b>stored</b> layout of a pull answer or a check-back ({@code MessageDecoder}'s): total size,
 *       magic, body CRC, queue id, flag, queue offset, physical offset, sys flag, born time and host, store
 *       time and host, reconsume times, prepared-transaction offset, body, topic, properties;</li>
 *   <li>the <b>batch item</b> layout of a batch send: total size, magic, body CRC, flag, body, properties.</li>
 * </ul>
 * Properties travel as one string, {@code name \u0001 value \u0002} per property.
 *
 * @param body a view, not copied
 */
public record WireMessage(String topic, int queueId, int flag, int sysFlag, long queueOffset, long physicalOffset,
                          long bornTimestamp, long storeTimestamp, int reconsumeTimes, long preparedTransactionOffset,
                          ByteBuffer body, Map<String, String> properties) {
    public static final int MAGIC = -626843481;
    /** Sys flag: the body is compressed (zlib unless bits 8-10 name another codec). */
    public static final int COMPRESSED = 0x1;
    public static final int TRANSACTION_TYPE_MASK = 0xC;
    public static final int TRANSACTION_PREPARED = 0x4;
    public static final int TRANSACTION_COMMIT = 0x8;
    public static final int TRANSACTION_ROLLBACK = 0xC;
    public static final int BORNHOST_V6 = 0x10;
    public static final int STOREHOST_V6 = 0x20;
    public static final int COMPRESSION_TYPE_MASK = 0x700;
    public static final int COMPRESSION_ZLIB = 0x300;
    private static final char NAME_VALUE = '\u0001';
    private static final char PROPERTY = '\u0002';

    /** Parses a properties string; a malformed pair is skipped (as RocketMQ does). */
    public static Map<String, String> parseProperties(String s) {
        Map<String, String> out = new LinkedHashMap<>();
        if (s == null || s.isEmpty()) {
            return out;
        }
        int i = 0;
        while (i < s.length()) {
            int end = s.indexOf(PROPERTY, i);
            if (end < 0) {
                end = s.length();
            }
            int sep = s.indexOf(NAME_VALUE, i);
            if (sep > i && sep < end) {
                out.put(s.substring(i, sep), s.substring(sep + 1, end));
            }
            i = end + 1;
        }
        return out;
    }

    /** The properties string; names or values holding a separator character are left out. */
    public static String propertiesString(Map<String, String> properties) {
        StringBuilder b = new StringBuilder(64);
        for (Map.Entry<String, String> e : properties.entrySet()) {
            if (usable(e.getKey()) && !e.getKey().isEmpty() && usable(e.getValue())) {
                b.append(e.getKey()).append(NAME_VALUE).append(e.getValue()).append(PROPERTY);
            }
        }
        return b.toString();
    }

    /** Whether a property name or value can be written (it holds neither separator). */
    public static boolean usable(String s) {
        return s != null && s.indexOf(NAME_VALUE) < 0 && s.indexOf(PROPERTY) < 0;
    }

    /** One message of a batch send body. */
    public record BatchItem(int flag, ByteBuffer body, Map<String, String> properties) {
    }

    /**
     * The messages of a batch send body; bodies are views of {@code body}.
     *
     * @throws IllegalArgumentException when the body is not a sequence of batch items
     */
    public static List<BatchItem> decodeBatch(ByteBuffer body) {
        List<BatchItem> out = new ArrayList<>();
        ByteBuffer in = body.duplicate();
        try {
            while (in.hasRemaining()) {
                int start = in.position();
                int total = in.getInt();
                if (total < 22 || total > in.remaining() + 4) {
                    throw new IllegalArgumentException("batch item " + out.size() + " claims " + total + " bytes");
                }
                in.getInt(); // magic (RocketMQ writes 0 here)
                in.getInt(); // body CRC
                int flag = in.getInt();
                int bodyLength = in.getInt();
                if (bodyLength < 0 || bodyLength > in.remaining()) {
                    throw new IllegalArgumentException("batch item " + out.size() + " has a body of " + bodyLength + " bytes");
                }
                ByteBuffer b = in.slice(in.position(), bodyLength);
                in.position(in.position() + bodyLength);
                int propsLength = in.getShort() & 0xffff;
                byte[] props = new byte[propsLength];
                in.get(props);
                if (in.position() - start != total) {
                    throw new IllegalArgumentException("batch item " + out.size() + " is " + (in.position() - start)
                            + " bytes, not the " + total + " it claims");
                }
                out.add(new BatchItem(flag, b, parseProperties(new String(props, StandardCharsets.UTF_8))));
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("the batch ends inside message " + out.size());
        }
        return out;
    }

    /**
     * The stored layout, in three parts so the body is written without a copy: what precedes the body (ending
     * with its length), the body, and what follows it (topic, properties).
     *
     * @param host the store host (also written as born host): 4 address bytes
     */
    public ByteBuffer[] encodeStored(byte[] host, int port) {
        byte[] topicBytes = topic.getBytes(StandardCharsets.UTF_8);
        byte[] props = propertiesString(properties).getBytes(StandardCharsets.UTF_8);
        if (topicBytes.length > 127 || props.length > Short.MAX_VALUE) {
            throw new IllegalArgumentException("topic or properties too long for the stored layout");
        }
        int bodyLength = body == null ? 0 : body.remaining();
        int headLength = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8 + 4;
        int tailLength = 1 + topicBytes.length + 2 + props.length;
        int total = headLength + bodyLength + tailLength;
        CRC32 crc = new CRC32();
        if (body != null) {
            crc.update(body.duplicate());
        }
        ByteBuffer head = ByteBuffer.allocate(headLength)
                .putInt(total).putInt(MAGIC).putInt((int) (crc.getValue() & 0x7fffffff)).putInt(queueId).putInt(flag)
                .putLong(queueOffset).putLong(physicalOffset).putInt(sysFlag & ~(BORNHOST_V6 | STOREHOST_V6))
                .putLong(bornTimestamp).put(host).putInt(0).putLong(storeTimestamp).put(host).putInt(port)
                .putInt(reconsumeTimes).putLong(preparedTransactionOffset).putInt(bodyLength).flip();
        ByteBuffer tail = ByteBuffer.allocate(tailLength).put((byte) topicBytes.length).put(topicBytes)
                .putShort((short) props.length).put(props).flip();
        return new ByteBuffer[] {head, body == null ? ByteBuffer.allocate(0) : body.duplicate(), tail};
    }

    /** The stored layout in one buffer. */
    public ByteBuffer encodeStoredWhole(byte[] host, int port) {
        ByteBuffer[] parts = encodeStored(host, port);
        ByteBuffer out = ByteBuffer.allocate(parts[0].remaining() + parts[1].remaining() + parts[2].remaining());
        for (ByteBuffer p : parts) {
            out.put(p);
        }
        return out.flip();
    }

    /**
     * Decodes one message of the stored layout from {@code in}, advancing it; the body is a view.
     *
     * @throws IllegalArgumentException when it is not one
     */
    public static WireMessage decodeStored(ByteBuffer in) {
        try {
            int start = in.position();
            int total = in.getInt();
            if (in.getInt() != MAGIC) {
                throw new IllegalArgumentException("not a stored message (magic code)");
            }
            in.getInt(); // body CRC
            int queueId = in.getInt();
            int flag = in.getInt();
            long queueOffset = in.getLong();
            long physical = in.getLong();
            int sysFlag = in.getInt();
            long born = in.getLong();
            in.position(in.position() + ((sysFlag & BORNHOST_V6) == 0 ? 4 : 16) + 4);
            long stored = in.getLong();
            in.position(in.position() + ((sysFlag & STOREHOST_V6) == 0 ? 4 : 16) + 4);
            int reconsume = in.getInt();
            long prepared = in.getLong();
            int bodyLength = in.getInt();
            ByteBuffer body = in.slice(in.position(), bodyLength);
            in.position(in.position() + bodyLength);
            byte[] topic = new byte[in.get()];
            in.get(topic);
            byte[] props = new byte[in.getShort() & 0xffff];
            in.get(props);
            if (in.position() - start != total) {
                throw new IllegalArgumentException("stored message size mismatch");
            }
            return new WireMessage(new String(topic, StandardCharsets.UTF_8), queueId, flag, sysFlag, queueOffset,
                    physical, born, stored, reconsume, prepared, body,
                    parseProperties(new String(props, StandardCharsets.UTF_8)));
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("the stored message is truncated");
        }
    }

    /** RocketMQ's offset message id: store host address, port and physical offset, in upper-case hex. */
    public static String offsetMessageId(byte[] host, int port, long physicalOffset) {
        ByteBuffer b = ByteBuffer.allocate(host.length + 12).put(host).putInt(port).putLong(physicalOffset);
        return HexFormat.of().withUpperCase().formatHex(b.array());
    }

    /** The physical offset an offset message id holds, or -1 when it is not one. */
    public static long physicalOffsetOf(String offsetMessageId) {
        if (offsetMessageId == null || offsetMessageId.length() != 32 && offsetMessageId.length() != 56) {
            return -1;
        }
        try {
            byte[] b = HexFormat.of().parseHex(offsetMessageId);
            return ByteBuffer.wrap(b, b.length - 8, 8).getLong();
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }
}
