package io.omnibus.amqp;

import io.omnibus.core.spi.Header;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Decimal128;
import org.apache.qpid.proton.amqp.Decimal32;
import org.apache.qpid.proton.amqp.Decimal64;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedByte;
import org.apache.qpid.proton.amqp.UnsignedInteger;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.UnsignedShort;
import org.apache.qpid.proton.amqp.messaging.Section;
import org.apache.qpid.proton.codec.AMQPDefinedTypes;
import org.apache.qpid.proton.codec.DecoderImpl;
import org.apache.qpid.proton.codec.EncoderImpl;
import org.apache.qpid.proton.codec.WritableBuffer;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * AMQP's typed values for {@link AmqpTranslation}: as JSON, as text with their type's name (what the {@code amqp.*}
 * headers keep) and back, message ids, body sections encoded and decoded. Stateless but for a codec per thread.
 */
final class AmqpValues {
    private AmqpValues() {
    }

    private static final ThreadLocal<EncoderImpl> ENCODER = ThreadLocal.withInitial(() -> {
        DecoderImpl decoder = new DecoderImpl();
        EncoderImpl encoder = new EncoderImpl(decoder);
        AMQPDefinedTypes.registerAllTypes(decoder, encoder);
        return encoder;
    });
    private static final ThreadLocal<DecoderImpl> DECODER = ThreadLocal.withInitial(() -> {
        DecoderImpl decoder = new DecoderImpl();
        EncoderImpl encoder = new EncoderImpl(decoder);
        AMQPDefinedTypes.registerAllTypes(decoder, encoder);
        return decoder;
    });

    static byte[] encodeSection(Section s) {
        EncoderImpl encoder = ENCODER.get();
        int size = 1024;
        while (true) {
            ByteBuffer bb = ByteBuffer.allocate(size);
            encoder.setByteBuffer(new WritableBuffer.ByteBufferWrapper(bb));
            try {
                encoder.writeObject(s);
                bb.flip();
                byte[] out = new byte[bb.remaining()];
                bb.get(out);
                return out;
            } catch (BufferOverflowException e) {
                size *= 4;
            } finally {
                encoder.setByteBuffer((WritableBuffer) null);
            }
        }
    }

    /** The kept body section, or null when the header holds something else (set by another protocol, say). */
    static Section decodeSectionOrNull(byte[] bytes) {
        DecoderImpl decoder = DECODER.get();
        decoder.setByteBuffer(ByteBuffer.wrap(bytes));
        try {
            return decoder.readObject() instanceof Section s ? s : null;
        } catch (RuntimeException malformed) {
            return null;
        } finally {
            decoder.setByteBuffer(null);
        }
    }

    /** AMQP values as JSON: maps as objects (keys as text), lists and arrays as arrays, binary as base64. */
    static Object toJson(Object v) {
        if (v == null || v instanceof Boolean || v instanceof String) {
            return v;
        }
        if (v instanceof Map<?, ?> map) {
            JsonObject o = new JsonObject();
            map.forEach((k, val) -> o.put(k == null ? "null" : k.toString(), toJson(val)));
            return o;
        }
        if (v instanceof List<?> list) {
            JsonArray a = new JsonArray();
            list.forEach(x -> a.add(toJson(x)));
            return a;
        }
        if (v.getClass().isArray()) { // AMQP arrays: of objects or of primitives
            JsonArray a = new JsonArray();
            for (int i = 0; i < java.lang.reflect.Array.getLength(v); i++) {
                a.add(toJson(java.lang.reflect.Array.get(v, i)));
            }
            return a;
        }
        if (v instanceof Binary bin) {
            return Base64.getEncoder().encodeToString(bytes(bin));
        }
        if (v instanceof Date d) {
            return d.getTime();
        }
        if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long
                || v instanceof Float || v instanceof Double) {
            return v;
        }
        if (v instanceof UnsignedByte || v instanceof UnsignedShort || v instanceof UnsignedInteger) {
            return ((Number) v).longValue();
        }
        return scalarText(v); // ulong, decimals, uuid, symbol, char
    }

    static String scalarType(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String) {
            return "string";
        }
        if (v instanceof Binary) {
            return "binary";
        }
        if (v instanceof Boolean) {
            return "boolean";
        }
        if (v instanceof Byte) {
            return "byte";
        }
        if (v instanceof Short) {
            return "short";
        }
        if (v instanceof Integer) {
            return "int";
        }
        if (v instanceof Long) {
            return "long";
        }
        if (v instanceof Float) {
            return "float";
        }
        if (v instanceof Double) {
            return "double";
        }
        if (v instanceof UnsignedByte) {
            return "ubyte";
        }
        if (v instanceof UnsignedShort) {
            return "ushort";
        }
        if (v instanceof UnsignedInteger) {
            return "uint";
        }
        if (v instanceof UnsignedLong) {
            return "ulong";
        }
        if (v instanceof Character) {
            return "char";
        }
        if (v instanceof Date) {
            return "timestamp";
        }
        if (v instanceof UUID) {
            return "uuid";
        }
        if (v instanceof Symbol) {
            return "symbol";
        }
        return "string"; // decimals and anything unusual travel as text
    }

    static String scalarText(Object v) {
        if (v instanceof Date d) {
            return Long.toString(d.getTime());
        }
        if (v instanceof Decimal32 || v instanceof Decimal64 || v instanceof Decimal128) {
            return v.toString();
        }
        return String.valueOf(v);
    }

    /** A header value back in its AMQP type ({@code type} null: text, or binary for a bytes header). */
    static Object typed(Header h, String type) {
        if (!h.isText()) {
            return new Binary(bytes(h));
        }
        String s = h.stringValue();
        if (type == null) {
            return s;
        }
        try {
            return switch (type) {
                case "null" -> null;
                case "boolean" -> Boolean.parseBoolean(s);
                case "byte" -> Byte.parseByte(s);
                case "short" -> Short.parseShort(s);
                case "int" -> Integer.parseInt(s);
                case "long" -> Long.parseLong(s);
                case "float" -> Float.parseFloat(s);
                case "double" -> Double.parseDouble(s);
                case "ubyte" -> UnsignedByte.valueOf(s);
                case "ushort" -> UnsignedShort.valueOf(s);
                case "uint" -> UnsignedInteger.valueOf(s);
                case "ulong" -> UnsignedLong.valueOf(s);
                case "char" -> s.isEmpty() ? s : s.charAt(0);
                case "timestamp" -> new Date(Long.parseLong(s));
                case "uuid" -> UUID.fromString(s);
                case "symbol" -> Symbol.valueOf(s);
                default -> s;
            };
        } catch (IllegalArgumentException malformed) {
            return s; // a header edited by another protocol on the way: keep the text
        }
    }

    static String idType(Object id) {
        if (id instanceof UnsignedLong) {
            return "ulong";
        }
        if (id instanceof UUID) {
            return "uuid";
        }
        if (id instanceof Binary) {
            return "binary";
        }
        return "string";
    }

    static String idText(Object id) {
        if (id instanceof Binary bin) {
            return Base64.getEncoder().encodeToString(bytes(bin));
        }
        return id.toString();
    }

    static Object typedId(String text, String type) {
        if (type == null) {
            return text;
        }
        try {
            return switch (type) {
                case "ulong" -> UnsignedLong.valueOf(text);
                case "uuid" -> UUID.fromString(text);
                case "binary" -> new Binary(Base64.getDecoder().decode(text));
                default -> text;
            };
        } catch (IllegalArgumentException malformed) {
            return text;
        }
    }

    static byte[] bytes(Binary b) {
        return java.util.Arrays.copyOfRange(b.getArray(), b.getArrayOffset(), b.getArrayOffset() + b.getLength());
    }

    static byte[] bytes(Header h) {
        ByteBuffer v = h.bytesValue();
        byte[] out = new byte[v.remaining()];
        v.get(out);
        return out;
    }

    /** The bytes as text when they are well-formed UTF-8, else null. */
    static String utf8OrNull(byte[] b) {
        try {
            CharBuffer cb = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b));
            return cb.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
