package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.NameMapping;
import io.omnibus.core.spi.Origin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Kafka records ↔ envelopes (docs/kafka.md, "Message mapping").
 *
 * <p>In: key → key, value → payload, headers → headers in order (a UTF-8 value as text, so MQTT and AMQP
 * clients see it as a user / application property; any other value as bytes), timestamp → created at (the
 * arrival time when the batch says LogAppendTime or has none). A null value (a tombstone) is kept as the
 * header {@code kafka.null-value}; a null header value arrives as an empty one. The headers {@code content-type}
 * (UTF-8), {@code correlation-id} and {@code reply-to} (UTF-8) are those envelope fields, not headers. Spring's
 * {@code contentType} header gives the content type when there is no {@code content-type}, and stays a header.
 *
 * <p>Out: the inverse; headers named {@code kafka.*} are not sent. The content type, correlation and reply-to
 * go out as the headers {@code content-type}, {@code correlation-id} (bytes) and {@code reply-to}, after the
 * others (a record that brought them elsewhere in its header order gets them back at the end).
 */
final class RecordTranslation {
    static final String NULL_VALUE = "kafka.null-value";
    static final String CONTENT_TYPE = "content-type";
    static final String CORRELATION_ID = "correlation-id";
    static final String REPLY_TO = "reply-to";
    private static final org.apache.kafka.common.header.Header[] NO_HEADERS = new org.apache.kafka.common.header.Header[0];

    private RecordTranslation() {
    }

    static Envelope toEnvelope(Address address, RecordBatch batch, Record record, Origin origin, long now) {
        return toEnvelope(address, record.hasKey() ? record.key() : null, record.hasValue() ? record.value() : null,
                record.headers(), record.timestamp(), batch.timestampType() == TimestampType.LOG_APPEND_TIME, origin, now);
    }

    /** A record a Kafka consumer received (a bridge's), as {@link #toEnvelope(Address, RecordBatch, Record, Origin, long)}. */
    static Envelope toEnvelope(Address address, org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> record,
                               Origin origin, long now) {
        return toEnvelope(address, record.key() == null ? null : ByteBuffer.wrap(record.key()),
                record.value() == null ? null : ByteBuffer.wrap(record.value()), record.headers().toArray(),
                record.timestamp(), record.timestampType() == TimestampType.LOG_APPEND_TIME, origin, now);
    }

    private static Envelope toEnvelope(Address address, ByteBuffer key, ByteBuffer value,
                                       org.apache.kafka.common.header.Header[] headers, long ts, boolean appendTime,
                                       Origin origin, long now) {
        Envelope.Builder b = Envelope.builder(address).origin(origin);
        if (key != null) {
            b.key(key);
        }
        if (value != null) {
            b.payload(value);
        } else {
            b.header(NULL_VALUE, "true");
        }
        String contentType = null;
        String springContentType = null;
        for (org.apache.kafka.common.header.Header h : headers) {
            byte[] v = h.value() == null ? new byte[0] : h.value();
            String text = utf8(v);
            // the headers that carry envelope fields out (docs/translation.md) are those fields in
            if (h.key().equals(CORRELATION_ID) && h.value() != null) {
                b.correlation(v);
            } else if (h.key().equals(CONTENT_TYPE) && text != null) {
                contentType = text;
            } else if (h.key().equals(REPLY_TO) && text != null) {
                b.replyTo(text);
            } else {
                if (h.key().equals(Header.SPRING_CONTENT_TYPE) && text != null && !text.isEmpty()) {
                    springContentType = text;
                }
                b.header(text != null ? Header.of(h.key(), text) : Header.ofBytes(h.key(), v));
            }
        }
        b.contentType(contentType != null ? contentType : springContentType);
        b.createdAt(ts > 0 && !appendTime ? ts : now);
        return b.build();
    }

    /** The record a Kafka producer (a bridge's) sends for an envelope: the inverse of the consumer's. */
    static org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]> toProducerRecord(String topic, Envelope env) {
        byte[] key = env.hasKey() ? bytes(env.key()) : null;
        byte[] value = env.header(NULL_VALUE) != null ? null : bytes(env.payload());
        return new org.apache.kafka.clients.producer.ProducerRecord<>(topic, null, env.createdAt(), key, value,
                java.util.Arrays.asList(headers(env)));
    }

    /** One uncompressed batch of the entries, each at its own offset (holes allowed), base offset the first's. */
    static MemoryRecords toRecords(List<Logs.Entry> entries) {
        ByteBuf buf = Unpooled.buffer(RecordBatchWriter.estimate(entries));
        RecordBatchWriter.write(entries, buf);
        return MemoryRecords.readableRecords(buf.nioBuffer());
    }

    static org.apache.kafka.common.header.Header[] headers(Envelope e) {
        if (e.headers().isEmpty() && e.contentType() == null && e.correlation() == null && e.replyTo() == null) {
            return NO_HEADERS;
        }
        List<org.apache.kafka.common.header.Header> out = new ArrayList<>(e.headers().size() + 3);
        for (Header h : e.headers()) {
            if (!h.name().startsWith("kafka.")) {
                out.add(new RecordHeader(h.name(), bytes(h.bytesValue())));
            }
        }
        if (e.contentType() != null && e.header(CONTENT_TYPE) == null) {
            out.add(new RecordHeader(CONTENT_TYPE, e.contentType().getBytes(StandardCharsets.UTF_8)));
        }
        if (e.correlation() != null && e.header(CORRELATION_ID) == null) {
            out.add(new RecordHeader(CORRELATION_ID, bytes(e.correlation())));
        }
        if (e.replyTo() != null && e.header(REPLY_TO) == null) {
            out.add(new RecordHeader(REPLY_TO, e.replyTo().getBytes(StandardCharsets.UTF_8)));
        }
        return out.toArray(NO_HEADERS);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** The value as text when it is well-formed UTF-8, else null. */
    static String utf8(byte[] value) {
        return NameMapping.utf8(value);
    }
}
