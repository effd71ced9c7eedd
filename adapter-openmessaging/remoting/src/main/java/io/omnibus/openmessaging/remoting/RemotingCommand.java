package io.omnibus.openmessaging.remoting;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One command of the RocketMQ remoting protocol, request or response: a code, the frame flags, an opaque id
 * pairing a response with its request, a remark (an error text), header fields ({@code extFields}) and a body.
 * Mutable while it is being built; handed to the codec whole.
 */
public final class RemotingCommand {
    /** Flag bit 0: a response. */
    public static final int FLAG_RESPONSE = 1;
    /** Flag bit 1: a oneway request, never answered. */
    public static final int FLAG_ONEWAY = 2;
    /** Header serialization: JSON. */
    public static final byte JSON = 0;
    /** Header serialization: RocketMQ's binary form. */
    public static final byte ROCKETMQ = 1;

    private int code;
    private int language;
    private int version;
    private int opaque;
    private int flag;
    private String remark;
    private final Map<String, String> fields = new LinkedHashMap<>();
    private ByteBuffer body;
    private ByteBuffer[] bodyParts;
    private byte serializeType = JSON;

    public static RemotingCommand request(int code, int opaque) {
        RemotingCommand c = new RemotingCommand();
        c.code = code;
        c.opaque = opaque;
        return c;
    }

    /** A response to this request: same opaque, same header serialization, language JAVA as RocketMQ's broker. */
    public RemotingCommand reply(int responseCode, String remark) {
        RemotingCommand c = new RemotingCommand();
        c.code = responseCode;
        c.opaque = opaque;
        c.flag = FLAG_RESPONSE;
        c.version = version;
        c.remark = remark;
        c.serializeType = serializeType;
        return c;
    }

    public int code() {
        return code;
    }

    public RemotingCommand code(int code) {
        this.code = code;
        return this;
    }

    /** RocketMQ's LanguageCode, by its byte (JAVA 0, CPP 1, ..., GO 9, OMS 11, RUST 12). */
    public int language() {
        return language;
    }

    public RemotingCommand language(int language) {
        this.language = language;
        return this;
    }

    public int version() {
        return version;
    }

    public RemotingCommand version(int version) {
        this.version = version;
        return this;
    }

    public int opaque() {
        return opaque;
    }

    public RemotingCommand opaque(int opaque) {
        this.opaque = opaque;
        return this;
    }

    public int flag() {
        return flag;
    }

    public RemotingCommand flag(int flag) {
        this.flag = flag;
        return this;
    }

    public boolean isResponse() {
        return (flag & FLAG_RESPONSE) != 0;
    }

    public boolean isOneway() {
        return (flag & FLAG_ONEWAY) != 0;
    }

    public RemotingCommand oneway() {
        flag |= FLAG_ONEWAY;
        return this;
    }

    public String remark() {
        return remark;
    }

    public RemotingCommand remark(String remark) {
        this.remark = remark;
        return this;
    }

    /** The header fields, in the order they were put (RocketMQ's {@code extFields}). */
    public Map<String, String> fields() {
        return fields;
    }

    public String field(String name) {
        return fields.get(name);
    }

    public RemotingCommand field(String name, Object value) {
        if (value != null) {
            fields.put(name, value.toString());
        }
        return this;
    }

    /** A required text field. */
    public String required(String name) {
        String v = fields.get(name);
        if (v == null) {
            throw new RemotingException(ResponseCode.SYSTEM_ERROR, "the header field '" + name + "' is missing");
        }
        return v;
    }

    public int requiredInt(String name) {
        return (int) parse(name, required(name), Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    public long requiredLong(String name) {
        return parse(name, required(name), Long.MIN_VALUE, Long.MAX_VALUE);
    }

    public int intField(String name, int absent) {
        String v = fields.get(name);
        return v == null || v.isEmpty() ? absent : (int) parse(name, v, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    public long longField(String name, long absent) {
        String v = fields.get(name);
        return v == null || v.isEmpty() ? absent : parse(name, v, Long.MIN_VALUE, Long.MAX_VALUE);
    }


    private static long parse(String name, String v, long min, long max) {
        try {
            long n = Long.parseLong(v.trim());
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new RemotingException(ResponseCode.SYSTEM_ERROR, "the header field '" + name + "' is not a number: '" + v + "'");
        }
    }

    /** The body, or null; a read-only view the caller must not keep past the frame's life unless it copied it. */
    public ByteBuffer body() {
        return body;
    }

    public RemotingCommand body(ByteBuffer body) {
        this.body = body;
        return this;
    }

    public RemotingCommand body(byte[] body) {
        this.body = body == null ? null : ByteBuffer.wrap(body);
        return this;
    }

    /** A body in several buffers, written one after the other without being joined (a pull answer's messages). */
    public RemotingCommand bodyParts(ByteBuffer[] parts) {
        this.bodyParts = parts;
        return this;
    }

    /** The body as the buffers to write, views (none when there is no body). */
    public ByteBuffer[] bodyParts() {
        if (bodyParts != null) {
            ByteBuffer[] out = new ByteBuffer[bodyParts.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = bodyParts[i].duplicate();
            }
            return out;
        }
        return body == null ? new ByteBuffer[0] : new ByteBuffer[] {body.duplicate()};
    }

    public byte serializeType() {
        return serializeType;
    }

    public RemotingCommand serializeType(byte serializeType) {
        this.serializeType = serializeType;
        return this;
    }

    @Override
    public String toString() {
        return (isResponse() ? "response" : "request") + "[code=" + code + ", opaque=" + opaque + ", flag=" + flag
                + (remark == null ? "" : ", remark=" + remark) + ", fields=" + fields + "]";
    }
}
