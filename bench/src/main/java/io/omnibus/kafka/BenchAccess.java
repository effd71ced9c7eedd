package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.Origin;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.SimpleRecord;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** For the translation benchmark: the Kafka adapter's own translation, on a reference record. */
public final class BenchAccess {
    private static final Origin ORIGIN = new Origin("kafka", "bench", "b-1");
    private static final MemoryRecords BATCH = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(
            System.currentTimeMillis(), "dev-1".getBytes(StandardCharsets.UTF_8),
            "{\"temp\":21.5,\"unit\":\"C\"}".getBytes(StandardCharsets.UTF_8),
            new org.apache.kafka.common.header.Header[] {
                new RecordHeader("site", "plant-4".getBytes(StandardCharsets.UTF_8)),
                new RecordHeader("firmware", "2.1.7".getBytes(StandardCharsets.UTF_8)),
                new RecordHeader("content-type", "application/json".getBytes(StandardCharsets.UTF_8))}));

    private BenchAccess() {
    }

    /** A keyed record with three headers. */
    public static Envelope in(Address address) {
        MutableRecordBatch batch = BATCH.batches().iterator().next();
        Record record = batch.iterator().next();
        return RecordTranslation.toEnvelope(address, batch, record, ORIGIN, System.currentTimeMillis());
    }

    /** What a Kafka consumer gets: a fetch's record batch of this one record. */
    public static Object out(Envelope e) {
        return RecordTranslation.toRecords(List.of(new Logs.Entry(0, e)));
    }
}
