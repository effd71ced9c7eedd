package io.omnibus.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.Origin;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The fetch's batch writer writes the bytes Kafka's own MemoryRecordsBuilder writes for the same records. */
class RecordBatchWriterTest {
    private static final Address TOPIC = Address.of("t");

    /** Kafka's builder, fed as the fetch path fed it before it wrote batches itself. */
    private static ByteBuffer kafkas(List<Logs.Entry> entries) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1 << 20), RecordBatch.CURRENT_MAGIC_VALUE,
                Compression.NONE, TimestampType.CREATE_TIME, entries.get(0).offset());
        for (Logs.Entry e : entries) {
            Envelope env = e.envelope();
            byte[] key = env.hasKey() ? array(env.key()) : null;
            byte[] value = env.header(RecordTranslation.NULL_VALUE) != null ? null : array(env.payload());
            b.appendWithOffset(e.offset(), env.createdAt(), key, value, RecordTranslation.headers(env));
        }
        return b.build().buffer();
    }

    private static byte[] array(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** The parts, all buffers: entries with no stored batch are written afresh. */
    private static List<ByteBuf> buffers(List<Object> parts) {
        return parts.stream().map(ByteBuf.class::cast).toList();
    }

    private static byte[] ours(List<Logs.Entry> entries) {
        List<ByteBuf> bufs = buffers(RecordBatchWriter.write(PooledByteBufAllocator.DEFAULT, entries, Integer.MAX_VALUE));
        assertThat(bufs).hasSize(1);
        ByteBuf buf = bufs.get(0);
        try {
            assertThat(buf.isDirect()).isTrue();
            byte[] out = new byte[buf.readableBytes()];
            buf.getBytes(buf.readerIndex(), out);
            return out;
        } finally {
            buf.release();
        }
    }

    private static List<Logs.Entry> entries(long base, long step, Envelope... envelopes) {
        List<Logs.Entry> out = new ArrayList<>();
        for (int i = 0; i < envelopes.length; i++) {
            out.add(new Logs.Entry(base + i * step, envelopes[i]));
        }
        return out;
    }

    private static void sameAsKafka(List<Logs.Entry> entries) {
        byte[] ours = ours(entries);
        assertThat(ours).isEqualTo(array(kafkas(entries)));
        List<MutableRecordBatch> batches = new ArrayList<>();
        MemoryRecords.readableRecords(ByteBuffer.wrap(ours)).batches().forEach(batches::add);
        assertThat(batches).hasSize(1);
        batches.get(0).ensureValid(); // the CRC Kafka's consumers check
        assertThat(batches.get(0).lastOffset()).isEqualTo(entries.get(entries.size() - 1).offset());
    }

    @Test
    void plainRecordsAtConsecutiveOffsets() {
        byte[] kib = new byte[1024];
        Arrays.fill(kib, (byte) 7);
        Envelope[] many = new Envelope[300];
        for (int i = 0; i < many.length; i++) {
            many[i] = Envelope.builder(TOPIC).payload(kib).createdAt(1_700_000_000_000L + i).build();
        }
        sameAsKafka(entries(0, 1, many));
        sameAsKafka(entries(5_000_000_000L, 1, many));
    }

    @Test
    void keysHeadersTombstonesAndOtherProtocolsFields() {
        sameAsKafka(entries(10, 2, // holes between the offsets
                Envelope.builder(TOPIC).key("k").payload("v").createdAt(1234)
                        .header(Header.of("text", "héllo")).header(Header.ofBytes("bin", new byte[]{(byte) 0xff}))
                        .header(Header.of("kafka.partition", "3")).build(),
                Envelope.builder(TOPIC).key("k2").payload(new byte[0]).header(RecordTranslation.NULL_VALUE, "true")
                        .createdAt(1200).build(), // a tombstone, and a timestamp before the batch's first
                Envelope.builder(TOPIC).payload("21.5").contentType("text/plain").correlation(new byte[]{1, 2})
                        .replyTo("replies/x").header("unit", "C").origin(new Origin("mqtt", "dev", "m1")).createdAt(99_999)
                        .build(),
                Envelope.builder(TOPIC).payload(new byte[200]).contentType("text/plain")
                        .header(RecordTranslation.CONTENT_TYPE, "application/json").createdAt(1234).build()));
    }

    @Test
    void largeAnswersAreSplitIntoBatchesOfAboutTheSizeAsked() {
        List<Envelope> envelopes = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            envelopes.add(Envelope.builder(TOPIC).payload(new byte[i == 100 ? 200_000 : 1024]).createdAt(i).build());
        }
        List<Logs.Entry> entries = entries(7, 1, envelopes.toArray(new Envelope[0]));
        List<ByteBuf> bufs = buffers(RecordBatchWriter.write(PooledByteBufAllocator.DEFAULT, entries, 64 * 1024));
        try {
            List<Long> offsets = new ArrayList<>();
            for (ByteBuf b : bufs) {
                byte[] bytes = new byte[b.readableBytes()];
                b.getBytes(b.readerIndex(), bytes);
                List<MutableRecordBatch> batches = new ArrayList<>();
                MemoryRecords.readableRecords(ByteBuffer.wrap(bytes)).batches().forEach(batches::add);
                assertThat(batches).hasSize(1);
                batches.get(0).ensureValid();
                batches.get(0).forEach(r -> offsets.add(r.offset()));
                // a batch fits in 64 KiB unless its one record alone does not (the 200 KB one)
                assertThat(bytes.length <= 64 * 1024 || batches.get(0).countOrNull() == 1).isTrue();
            }
            assertThat(bufs.size()).isGreaterThan(4);
            assertThat(offsets).hasSize(300).first().isEqualTo(7L);
            assertThat(offsets).isSorted().doesNotHaveDuplicates().last().isEqualTo(306L);
        } finally {
            bufs.forEach(ByteBuf::release);
        }
    }

    @Test
    void oneRecord() {
        sameAsKafka(entries(0, 1, Envelope.builder(TOPIC).payload(new byte[0]).createdAt(0).build()));
    }
}
