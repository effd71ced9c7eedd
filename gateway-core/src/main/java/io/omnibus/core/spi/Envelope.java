package io.omnibus.core.spi;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The one internal form of a message, whatever protocol brought it (DESIGN.md §2).
 *
 * <p>Immutable. Payload, key and correlation are read-only buffers; each accessor returns a fresh
 * view, so readers cannot disturb each other's positions. The builder takes ownership of the
 * buffers and arrays it is given and does not copy them: callers must not change them afterwards.
 * Headers are ordered and a name may repeat.
 *
 * <p>Times are milliseconds since the epoch; 0 means "not set" for {@code expiresAt} and
 * {@code deliverAt}.
 */
public final class Envelope {
    public static final int DEFAULT_PRIORITY = 4;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

    private final Address address;
    private final String messageId;
    private final ByteBuffer key;
    private final ByteBuffer payload;
    private final List<Header> headers;
    private final String contentType;
    private final boolean payloadUtf8;
    private final ByteBuffer correlation;
    private final String replyTo;
    private final long createdAt;
    private final long expiresAt;
    private final long deliverAt;
    private final int priority;
    private final boolean durable;
    private final boolean retain;
    private final int deliveryCount;
    private final Origin origin;

    private Envelope(Builder b) {
        this.address = Objects.requireNonNull(b.address, "address");
        this.messageId = b.messageId;
        this.key = b.key;
        this.payload = b.payload == null ? EMPTY : b.payload;
        this.headers = b.headers == null ? List.of() : Collections.unmodifiableList(b.headers);
        this.contentType = b.contentType;
        this.payloadUtf8 = b.payloadUtf8;
        this.correlation = b.correlation;
        this.replyTo = b.replyTo;
        this.createdAt = b.createdAt == 0 ? System.currentTimeMillis() : b.createdAt;
        this.expiresAt = b.expiresAt;
        this.deliverAt = b.deliverAt;
        this.priority = b.priority;
        this.durable = b.durable;
        this.retain = b.retain;
        this.deliveryCount = b.deliveryCount;
        this.origin = b.origin == null ? Origin.BROKER : b.origin;
    }

    public static Builder builder(Address address) {
        return new Builder().address(address);
    }

    public static Builder builder(String address) {
        return builder(Address.of(address));
    }

    /** A builder holding this envelope's values, for a changed copy (payload buffers are shared, not copied). */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.address = address;
        b.messageId = messageId;
        b.key = key;
        b.payload = payload;
        b.headers = headers.isEmpty() ? null : new ArrayList<>(headers);
        b.contentType = contentType;
        b.payloadUtf8 = payloadUtf8;
        b.correlation = correlation;
        b.replyTo = replyTo;
        b.createdAt = createdAt;
        b.expiresAt = expiresAt;
        b.deliverAt = deliverAt;
        b.priority = priority;
        b.durable = durable;
        b.retain = retain;
        b.deliveryCount = deliveryCount;
        b.origin = origin;
        return b;
    }

    public Address address() {
        return address;
    }

    /** The producer's message id, if its protocol has one; null otherwise. */
    public String messageId() {
        return messageId;
    }

    /** The routing / ordering key, or null. */
    public ByteBuffer key() {
        return key == null ? null : key.duplicate();
    }

    public boolean hasKey() {
        return key != null;
    }

    public ByteBuffer payload() {
        return payload.duplicate();
    }

    public int payloadSize() {
        return payload.remaining();
    }

    /** A copy of the payload; for tests and for the few callers that need an array. */
    public byte[] payloadBytes() {
        byte[] out = new byte[payload.remaining()];
        payload.duplicate().get(out);
        return out;
    }

    public String payloadAsString() {
        return new String(payloadBytes(), StandardCharsets.UTF_8);
    }

    public List<Header> headers() {
        return headers;
    }

    /** All values of the named header, in order. */
    public List<Header> headers(String name) {
        List<Header> out = new ArrayList<>(1);
        for (Header h : headers) {
            if (h.name().equals(name)) {
                out.add(h);
            }
        }
        return out;
    }

    /** The first value of the named header as text, or null. */
    public String header(String name) {
        for (Header h : headers) {
            if (h.name().equals(name)) {
                return h.stringValue();
            }
        }
        return null;
    }

    public String contentType() {
        return contentType;
    }

    public boolean payloadUtf8() {
        return payloadUtf8;
    }

    public ByteBuffer correlation() {
        return correlation == null ? null : correlation.duplicate();
    }

    public String replyTo() {
        return replyTo;
    }

    public long createdAt() {
        return createdAt;
    }

    public long expiresAt() {
        return expiresAt;
    }

    public boolean isExpired(long now) {
        return expiresAt != 0 && now >= expiresAt;
    }

    public long deliverAt() {
        return deliverAt;
    }

    public int priority() {
        return priority;
    }

    public boolean durable() {
        return durable;
    }

    public boolean retain() {
        return retain;
    }

    /** Prior unsuccessful deliveries, as the producer's protocol reported them (usually 0). */
    public int deliveryCount() {
        return deliveryCount;
    }

    public Origin origin() {
        return origin;
    }

    /** Approximate size for accounting: payload, key, headers and fixed fields. */
    public int estimatedSize() {
        int size = 64 + payload.remaining() + (key == null ? 0 : key.remaining());
        for (Header h : headers) {
            size += h.name().length() + h.approximateSize();
        }
        return size;
    }

    @Override
    public String toString() {
        return "Envelope[" + address + ", " + payload.remaining() + " bytes, " + headers.size() + " headers, origin "
                + origin.protocol() + "]";
    }

    /** Builds an {@link Envelope}; not thread-safe, use once. */
    public static final class Builder {
        private Address address;
        private String messageId;
        private ByteBuffer key;
        private ByteBuffer payload;
        private List<Header> headers;
        private String contentType;
        private boolean payloadUtf8;
        private ByteBuffer correlation;
        private String replyTo;
        private long createdAt;
        private long expiresAt;
        private long deliverAt;
        private int priority = DEFAULT_PRIORITY;
        private boolean durable = true;
        private boolean retain;
        private int deliveryCount;
        private Origin origin;

        private Builder() {
        }

        public Builder address(Address address) {
            this.address = Objects.requireNonNull(address, "address");
            return this;
        }

        public Builder messageId(String messageId) {
            this.messageId = messageId;
            return this;
        }

        public Builder key(ByteBuffer key) {
            this.key = key == null ? null : key.asReadOnlyBuffer().slice();
            return this;
        }

        public Builder key(byte[] key) {
            return key(key == null ? null : ByteBuffer.wrap(key));
        }

        public Builder key(String key) {
            return key(key == null ? null : key.getBytes(StandardCharsets.UTF_8));
        }

        public Builder payload(ByteBuffer payload) {
            this.payload = payload == null ? null : payload.asReadOnlyBuffer().slice();
            return this;
        }

        public Builder payload(byte[] payload) {
            return payload(payload == null ? null : ByteBuffer.wrap(payload));
        }

        public Builder payload(String utf8) {
            payloadUtf8 = true;
            return payload(utf8.getBytes(StandardCharsets.UTF_8));
        }

        public Builder header(Header header) {
            if (headers == null) {
                headers = new ArrayList<>(4);
            }
            headers.add(Objects.requireNonNull(header, "header"));
            return this;
        }

        public Builder header(String name, String value) {
            return header(Header.of(name, value));
        }

        public Builder headers(List<Header> all) {
            all.forEach(this::header);
            return this;
        }

        /** Removes every header of this name. */
        public Builder removeHeaders(String name) {
            if (headers != null) {
                headers.removeIf(h -> h.name().equals(name));
            }
            return this;
        }

        public Builder contentType(String contentType) {
            this.contentType = contentType;
            return this;
        }

        public Builder payloadUtf8(boolean payloadUtf8) {
            this.payloadUtf8 = payloadUtf8;
            return this;
        }

        public Builder correlation(ByteBuffer correlation) {
            this.correlation = correlation == null ? null : correlation.asReadOnlyBuffer().slice();
            return this;
        }

        public Builder correlation(byte[] correlation) {
            return correlation(correlation == null ? null : ByteBuffer.wrap(correlation));
        }

        public Builder replyTo(String replyTo) {
            this.replyTo = replyTo;
            return this;
        }

        public Builder createdAt(long epochMillis) {
            this.createdAt = epochMillis;
            return this;
        }

        public Builder expiresAt(long epochMillis) {
            if (epochMillis < 0) {
                throw new IllegalArgumentException("expiresAt must not be negative: " + epochMillis);
            }
            this.expiresAt = epochMillis;
            return this;
        }

        public Builder deliverAt(long epochMillis) {
            if (epochMillis < 0) {
                throw new IllegalArgumentException("deliverAt must not be negative: " + epochMillis);
            }
            this.deliverAt = epochMillis;
            return this;
        }

        public Builder priority(int priority) {
            if (priority < 0 || priority > 9) {
                throw new IllegalArgumentException("priority must be 0..9: " + priority);
            }
            this.priority = priority;
            return this;
        }

        public Builder durable(boolean durable) {
            this.durable = durable;
            return this;
        }

        public Builder retain(boolean retain) {
            this.retain = retain;
            return this;
        }

        public Builder deliveryCount(int deliveryCount) {
            if (deliveryCount < 0) {
                throw new IllegalArgumentException("deliveryCount must not be negative: " + deliveryCount);
            }
            this.deliveryCount = deliveryCount;
            return this;
        }

        public Builder origin(Origin origin) {
            this.origin = origin;
            return this;
        }

        public Envelope build() {
            return new Envelope(this);
        }
    }
}
