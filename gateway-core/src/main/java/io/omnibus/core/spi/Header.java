package io.omnibus.core.spi;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One header of an envelope. Its value is text (MQTT user properties, AMQP string properties) or
 * bytes (Kafka record headers); the kind it arrived as is kept, so a message that leaves through
 * the protocol it came in is unchanged.
 */
public final class Header {
    /**
     * Spring's content type header ({@code MessageHeaders.CONTENT_TYPE}), which Spring Kafka, Spring Cloud Stream's
     * binders and Spring's RocketMQ support write as a record header or user property. On protocols whose messages
     * have no content type field (Kafka, RocketMQ) it also gives the envelope its content type when the message
     * brings no {@code content-type}; the header itself is kept, so Spring consumers get it back as they sent it.
     */
    public static final String SPRING_CONTENT_TYPE = "contentType";

    private final String name;
    private final String text;
    private final byte[] bytes;

    private Header(String name, String text, byte[] bytes) {
        this.name = Objects.requireNonNull(name, "name");
        this.text = text;
        this.bytes = bytes;
    }

    public static Header of(String name, String value) {
        return new Header(name, Objects.requireNonNull(value, "value"), null);
    }

    /** A binary header; the array is copied. */
    public static Header ofBytes(String name, byte[] value) {
        return new Header(name, null, Objects.requireNonNull(value, "value").clone());
    }

    public String name() {
        return name;
    }

    public boolean isText() {
        return text != null;
    }

    /** The value as text; bytes are decoded as UTF-8 (malformed input is replaced). */
    public String stringValue() {
        return text != null ? text : new String(bytes, StandardCharsets.UTF_8);
    }

    /** The value as a read-only buffer; text is encoded as UTF-8. */
    public ByteBuffer bytesValue() {
        return ByteBuffer.wrap(text != null ? text.getBytes(StandardCharsets.UTF_8) : bytes).asReadOnlyBuffer();
    }

    /** Approximate size of the value in bytes, for accounting (text counts one byte a char; nothing is encoded). */
    public int approximateSize() {
        return text != null ? text.length() : bytes.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Header h && h.name.equals(name) && Objects.equals(h.text, text) && Arrays.equals(h.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + (text != null ? text.hashCode() : Arrays.hashCode(bytes));
    }

    @Override
    public String toString() {
        return name + "=" + (text != null ? text : "0x" + HexFormatHolder.HEX.formatHex(bytes));
    }

    private static final class HexFormatHolder {
        static final java.util.HexFormat HEX = java.util.HexFormat.of();
    }
}
