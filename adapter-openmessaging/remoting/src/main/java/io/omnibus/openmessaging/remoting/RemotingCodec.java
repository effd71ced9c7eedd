package io.omnibus.openmessaging.remoting;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The RocketMQ remoting frame, both header serializations. A frame is {@code int length} (of what follows),
 * {@code int} holding the serialize type in its high byte and the header length in the other three, the header,
 * then the body. The header is JSON ({@code {"code":..,"extFields":{..},"flag":..,"language":"JAVA",...}}) or
 * RocketMQ's binary form ({@code short code, byte language, short version, int opaque, int flag, int+bytes
 * remark, int+bytes fields}, each field {@code short+bytes key, int+bytes value}).
 *
 * <p>No Netty and no gateway types: the server and the OpenMessaging driver share it.
 */
public final class RemotingCodec {
    private static final JsonFactory JSON = new JsonFactory();
    private static final String[] LANGUAGES = {"JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER",
        "HTTP", "GO", "PHP", "OMS", "RUST"};

    private RemotingCodec() {
    }

    /**
     * Decodes one frame whose length prefix was already taken off. The body is a slice of {@code frame}.
     *
     * @throws MalformedFrameException when the frame cannot be a remoting command
     */
    public static RemotingCommand decode(ByteBuffer frame) {
        try {
            int mark = frame.getInt();
            int type = (mark >>> 24) & 0xff;
            int headerLength = mark & 0xffffff;
            if (headerLength > frame.remaining()) {
                throw new MalformedFrameException("the header length " + headerLength + " is beyond the frame ("
                        + frame.remaining() + " bytes left)");
            }
            ByteBuffer header = frame.slice(frame.position(), headerLength);
            frame.position(frame.position() + headerLength);
            RemotingCommand c = switch (type) {
                case RemotingCommand.JSON -> decodeJson(header);
                case RemotingCommand.ROCKETMQ -> decodeBinary(header);
                default -> throw new MalformedFrameException("unknown header serialize type " + type);
            };
            c.serializeType((byte) type);
            if (frame.hasRemaining()) {
                c.body(frame.slice());
            }
            return c;
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new MalformedFrameException("the frame ends inside its header");
        }
    }

    /**
     * The frame's head: length prefix, serialize mark and header, for a body of {@code bodyLength} bytes sent after
     * it (so a large body is written without being copied into one buffer).
     */
    public static ByteBuffer encodeHead(RemotingCommand c, int bodyLength) {
        byte[] header = c.serializeType() == RemotingCommand.ROCKETMQ ? encodeBinary(c) : encodeJson(c);
        ByteBuffer out = ByteBuffer.allocate(8 + header.length);
        out.putInt(4 + header.length + bodyLength);
        out.putInt((c.serializeType() & 0xff) << 24 | header.length);
        out.put(header);
        return out.flip();
    }

    /** The frame as buffers to write in order: the head, then the body's parts (not copied). */
    public static ByteBuffer[] encodeParts(RemotingCommand c) {
        ByteBuffer[] body = c.bodyParts();
        int length = 0;
        for (ByteBuffer b : body) {
            length += b.remaining();
        }
        ByteBuffer[] out = new ByteBuffer[body.length + 1];
        out[0] = encodeHead(c, length);
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }

    /** The whole frame in one buffer. */
    public static ByteBuffer encode(RemotingCommand c) {
        ByteBuffer[] parts = encodeParts(c);
        int length = 0;
        for (ByteBuffer b : parts) {
            length += b.remaining();
        }
        ByteBuffer out = ByteBuffer.allocate(length);
        for (ByteBuffer b : parts) {
            out.put(b);
        }
        return out.flip();
    }

    private static RemotingCommand decodeJson(ByteBuffer header) {
        byte[] bytes = new byte[header.remaining()];
        header.get(bytes);
        RemotingCommand c = new RemotingCommand();
        try (JsonParser p = JSON.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new MalformedFrameException("the JSON header is not an object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                switch (name) {
                    case "code" -> c.code(p.getValueAsInt());
                    case "language" -> c.language(languageCode(p.getValueAsString()));
                    case "version" -> c.version(p.getValueAsInt());
                    case "opaque" -> c.opaque(p.getValueAsInt());
                    case "flag" -> c.flag(p.getValueAsInt());
                    case "remark" -> c.remark(t == JsonToken.VALUE_NULL ? null : p.getValueAsString());
                    case "extFields" -> {
                        if (t == JsonToken.START_OBJECT) {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String key = p.currentName();
                                JsonToken v = p.nextToken();
                                if (v.isStructStart()) {
                                    p.skipChildren();
                                } else if (v != JsonToken.VALUE_NULL) {
                                    c.fields().put(key, p.getValueAsString());
                                }
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new MalformedFrameException("the JSON header is not valid JSON: " + e.getMessage());
        }
        return c;
    }

    private static byte[] encodeJson(RemotingCommand c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("code", c.code());
            if (!c.fields().isEmpty()) {
                g.writeObjectFieldStart("extFields");
                for (Map.Entry<String, String> e : c.fields().entrySet()) {
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
            }
            g.writeNumberField("flag", c.flag());
            g.writeStringField("language", languageName(c.language()));
            g.writeNumberField("opaque", c.opaque());
            if (c.remark() != null) {
                g.writeStringField("remark", c.remark());
            }
            g.writeStringField("serializeTypeCurrentRPC", "JSON");
            g.writeNumberField("version", c.version());
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static RemotingCommand decodeBinary(ByteBuffer h) {
        RemotingCommand c = new RemotingCommand();
        c.code(h.getShort());
        c.language(h.get());
        c.version(h.getShort());
        c.opaque(h.getInt());
        c.flag(h.getInt());
        int remarkLength = h.getInt();
        if (remarkLength > 0) {
            c.remark(string(h, remarkLength));
        }
        int fieldsLength = h.getInt();
        if (fieldsLength < 0 || fieldsLength > h.remaining()) {
            throw new MalformedFrameException("the header fields length " + fieldsLength + " is beyond the header");
        }
        int end = h.position() + fieldsLength;
        while (h.position() < end) {
            String key = string(h, h.getShort());
            String value = string(h, h.getInt());
            c.fields().put(key, value);
        }
        return c;
    }

    private static byte[] encodeBinary(RemotingCommand c) {
        byte[] remark = c.remark() == null || c.remark().isEmpty() ? new byte[0] : c.remark().getBytes(StandardCharsets.UTF_8);
        byte[] f = binaryFields(c);
        ByteBuffer out = ByteBuffer.allocate(2 + 1 + 2 + 4 + 4 + 4 + remark.length + 4 + f.length);
        out.putShort((short) c.code()).put((byte) c.language()).putShort((short) c.version()).putInt(c.opaque())
                .putInt(c.flag()).putInt(remark.length).put(remark).putInt(f.length).put(f);
        return out.array();
    }

    private static byte[] binaryFields(RemotingCommand c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, String> e : c.fields().entrySet()) {
            byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] v = e.getValue().getBytes(StandardCharsets.UTF_8);
            out.writeBytes(ByteBuffer.allocate(2 + k.length + 4 + v.length).putShort((short) k.length).put(k)
                    .putInt(v.length).put(v).array());
        }
        return out.toByteArray();
    }

    private static String string(ByteBuffer h, int length) {
        if (length < 0 || length > h.remaining()) {
            throw new MalformedFrameException("a header string of " + length + " bytes is beyond the header");
        }
        byte[] bytes = new byte[length];
        h.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static int languageCode(String name) {
        for (int i = 0; i < LANGUAGES.length; i++) {
            if (LANGUAGES[i].equals(name)) {
                return i;
            }
        }
        return 7; // OTHER
    }

    private static String languageName(int code) {
        return code >= 0 && code < LANGUAGES.length ? LANGUAGES[code] : "OTHER";
    }

    /** A frame that cannot be a remoting command: the connection is closed. */
    public static final class MalformedFrameException extends RuntimeException {
        public MalformedFrameException(String message) {
            super(message, null, false, false);
        }
    }
}
