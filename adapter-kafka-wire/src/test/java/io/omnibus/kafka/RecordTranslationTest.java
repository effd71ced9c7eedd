package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.Origin;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Each row of docs/kafka.md's message mapping, and the lossless Kafka round trip. */
class RecordTranslationTest {
    private static final Address TOPIC = Address.of("t");
    private static final Origin ORIGIN = new Origin("kafka", "c", "kafka-1");

    private static List<Envelope> in(MemoryRecords records) {
        List<Envelope> out = new ArrayList<>();
        for (MutableRecordBatch b : records.batches()) {
            for (Record r : b) {
                out.add(RecordTranslation.toEnvelope(TOPIC, b, r, ORIGIN, 42));
            }
        }
        return out;
    }

    private static List<Record> out(List<Envelope> envelopes, long base) {
        List<Logs.Entry> entries = new ArrayList<>();
        for (int i = 0; i < envelopes.size(); i++) {
            entries.add(new Logs.Entry(base + i * 2L, envelopes.get(i))); // holes are allowed
        }
        List<Record> records = new ArrayList<>();
        RecordTranslation.toRecords(entries).records().forEach(records::add);
        return records;
    }

    /** What a store that kept a producer's batch gives any reader is what the producer's batch was made into. */
    @Test
    void aStoredBatchDecodesIntoTheMessagesItCameAs() {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(512), Compression.lz4().build(),
                TimestampType.CREATE_TIME, 0);
        b.append(1234, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8), new RecordHeader[]{
            new RecordHeader("content-type", "text/plain".getBytes(StandardCharsets.UTF_8)),
            new RecordHeader("bin", new byte[]{(byte) 0xff}), new RecordHeader("empty", null)});
        b.append(-1, (byte[]) null, null); // no timestamp, no key, a tombstone
        MemoryRecords records = b.build();
        List<Envelope> made = in(records);
        MutableRecordBatch batch = records.batches().iterator().next();
        io.omnibus.core.spi.WireBatch kept = KafkaWireFormat.of(records.buffer(), batch,
                KafkaWireFormat.template(TOPIC, ORIGIN, 42), made);
        assertThat(kept).isNotNull();
        io.omnibus.core.spi.WireFormat format = io.omnibus.core.spi.WireFormat.named(kept.format());
        assertThat(format).as("found on the class path by its name").isInstanceOf(KafkaWireFormat.class);
        List<Envelope> read = format.envelopes(kept.bytes(), kept.template());
        assertThat(read).hasSize(2);
        for (int i = 0; i < 2; i++) {
            Envelope m = made.get(i);
            Envelope r = read.get(i);
            assertThat(io.omnibus.core.store.EnvelopeCodec.encode(r)).as("message %d", i)
                    .isEqualTo(io.omnibus.core.store.EnvelopeCodec.encode(m));
        }
        assertThat(read.get(1).createdAt()).isEqualTo(42); // the arrival time, from the template
        // a batch whose timestamps are the broker's is stored as its messages
        MemoryRecordsBuilder logAppend = MemoryRecords.builder(ByteBuffer.allocate(128), Compression.NONE,
                TimestampType.LOG_APPEND_TIME, 0);
        logAppend.append(1, null, "x".getBytes(StandardCharsets.UTF_8));
        MemoryRecords la = logAppend.build();
        assertThat(KafkaWireFormat.of(la.buffer(), la.batches().iterator().next(), KafkaWireFormat.template(TOPIC,
                ORIGIN, 42), in(la))).isNull();
    }

    @Test
    void aKafkaRecordGoesOutAsItCameIn() {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(512), Compression.zstd().build(),
                TimestampType.CREATE_TIME, 0);
        b.append(1234, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8), new RecordHeader[]{
            new RecordHeader("text", "héllo".getBytes(StandardCharsets.UTF_8)), new RecordHeader("bin", new byte[]{(byte) 0xff}),
            new RecordHeader("text", "again".getBytes(StandardCharsets.UTF_8))});
        b.append(1235, "k2".getBytes(StandardCharsets.UTF_8), null); // a tombstone
        List<Envelope> envelopes = in(b.build());
        Envelope e = envelopes.get(0);
        assertThat(e.createdAt()).isEqualTo(1234);
        assertThat(e.headers()).containsExactly(Header.of("text", "héllo"), Header.ofBytes("bin", new byte[]{(byte) 0xff}),
                Header.of("text", "again"));
        assertThat(envelopes.get(1).header(RecordTranslation.NULL_VALUE)).isEqualTo("true");

        List<Record> back = out(envelopes, 10);
        assertThat(back.get(0).offset()).isEqualTo(10);
        assertThat(back.get(1).offset()).isEqualTo(12);
        assertThat(back.get(0).timestamp()).isEqualTo(1234);
        assertThat(StandardCharsets.UTF_8.decode(back.get(0).key()).toString()).isEqualTo("k");
        assertThat(StandardCharsets.UTF_8.decode(back.get(0).value()).toString()).isEqualTo("v");
        assertThat(back.get(0).headers()).extracting(h -> h.key()).containsExactly("text", "bin", "text");
        assertThat(back.get(0).headers()[1].value()).containsExactly((byte) 0xff);
        assertThat(back.get(1).hasValue()).isFalse();
        assertThat(back.get(1).headers()).isEmpty(); // kafka.* headers stay inside
    }

    @Test
    void fieldsOfOtherProtocolsGoOutAsHeaders() {
        Envelope mqtt = Envelope.builder(TOPIC).payload("21.5").contentType("text/plain").correlation(new byte[]{1, 2})
                .replyTo("replies/x").header("unit", "C").origin(new Origin("mqtt", "dev", "mqtt-1")).build();
        Record r = out(List.of(mqtt), 0).get(0);
        assertThat(r.hasKey()).isFalse();
        assertThat(r.headers()).extracting(h -> h.key()).containsExactly("unit", "content-type", "correlation-id", "reply-to");
        assertThat(r.headers()[2].value()).containsExactly(1, 2);
        assertThat(new String(r.headers()[3].value(), StandardCharsets.UTF_8)).isEqualTo("replies/x");
    }

    @Test
    void theHeadersThatCarryEnvelopeFieldsOutAreThoseFieldsIn() {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new org.apache.kafka.common.record.SimpleRecord(
                1L, null, "v".getBytes(StandardCharsets.UTF_8), new org.apache.kafka.common.header.Header[] {
                    new RecordHeader("unit", "C".getBytes(StandardCharsets.UTF_8)),
                    new RecordHeader("content-type", "text/plain".getBytes(StandardCharsets.UTF_8)),
                    new RecordHeader("correlation-id", new byte[] {(byte) 0xff, 1}),
                    new RecordHeader("reply-to", "replies/x".getBytes(StandardCharsets.UTF_8))}));
        Envelope e = in(records).get(0);
        assertThat(e.contentType()).isEqualTo("text/plain");
        assertThat(e.correlation()).isEqualTo(ByteBuffer.wrap(new byte[] {(byte) 0xff, 1}));
        assertThat(e.replyTo()).isEqualTo("replies/x");
        assertThat(e.headers()).extracting(Header::name).containsExactly("unit");
        // and out again as they came: a Kafka round trip keeps them
        assertThat(out(List.of(e), 0).get(0).headers()).extracting(h -> h.key())
                .containsExactly("unit", "content-type", "correlation-id", "reply-to");
    }

    @Test
    void springsContentTypeHeaderIsTheContentTypeWhenThereIsNoneAndStaysAHeader() {
        MemoryRecords spring = MemoryRecords.withRecords(Compression.NONE, new org.apache.kafka.common.record.SimpleRecord(
                1L, null, "{}".getBytes(StandardCharsets.UTF_8), new org.apache.kafka.common.header.Header[] {
                    new RecordHeader("contentType", "application/json".getBytes(StandardCharsets.UTF_8))}));
        Envelope e = in(spring).get(0);
        assertThat(e.contentType()).isEqualTo("application/json");
        assertThat(e.headers()).extracting(Header::name).containsExactly("contentType");
        assertThat(out(List.of(e), 0).get(0).headers()).extracting(h -> h.key())
                .containsExactly("contentType", "content-type");

        MemoryRecords both = MemoryRecords.withRecords(Compression.NONE, new org.apache.kafka.common.record.SimpleRecord(
                1L, null, "x".getBytes(StandardCharsets.UTF_8), new org.apache.kafka.common.header.Header[] {
                    new RecordHeader("contentType", "application/json".getBytes(StandardCharsets.UTF_8)),
                    new RecordHeader("content-type", "text/plain".getBytes(StandardCharsets.UTF_8))}));
        assertThat(in(both).get(0).contentType()).as("content-type wins").isEqualTo("text/plain");
    }

    @Test
    void logAppendTimeOrNoTimestampMeansArrivalTime() {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(128), Compression.NONE,
                TimestampType.CREATE_TIME, 0);
        b.append(RecordBatch.NO_TIMESTAMP, null, "v".getBytes(StandardCharsets.UTF_8));
        assertThat(in(b.build()).get(0).createdAt()).isEqualTo(42);
    }
}
