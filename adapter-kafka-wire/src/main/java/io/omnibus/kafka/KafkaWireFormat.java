package io.omnibus.kafka;

import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.WireBatch;
import io.omnibus.core.spi.WireFormat;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A producer's record batch (format v2, any compression) as the store keeps it: the bytes as they came, with the base
 * offset the store gave it, which a fetch sends back as they are (from the store's file, where it can), and which any
 * other consumer reads as the envelopes {@link RecordTranslation} made of them when they came.
 */
public final class KafkaWireFormat implements WireFormat {
    /** The name stored with every batch: never changes. */
    static final String NAME = "kafka-record-batch-v2";

    @Override
    public String name() {
        return NAME;
    }

    /**
     * The batch to store for what a producer sent, or null when it is to be stored as its envelopes: a batch whose
     * timestamps are the broker's (LogAppendTime) gets them from the gateway, so its bytes are not what a consumer
     * is to see.
     */
    static WireBatch of(ByteBuffer bytes, RecordBatch batch, Envelope template, List<Envelope> envelopes) {
        if (batch.timestampType() == org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME) {
            return null;
        }
        return new WireBatch(NAME, bytes, template, envelopes);
    }

    /** The template of a batch's envelopes: the address, the producer's origin, the arrival time. */
    static Envelope template(io.omnibus.core.spi.Address address, io.omnibus.core.spi.Origin origin, long now) {
        return Envelope.builder(address).origin(origin).createdAt(now).build();
    }

    /** Base offset at 0, partition leader epoch at 12 (none): neither is under the batch's CRC. */
    @Override
    public void stored(ByteBuffer bytes, long firstOffset) {
        bytes.putLong(bytes.position(), firstOffset);
        bytes.putInt(bytes.position() + 12, -1);
    }

    @Override
    public List<Envelope> envelopes(ByteBuffer bytes, Envelope template) {
        Iterator<? extends RecordBatch> batches = MemoryRecords.readableRecords(bytes).batches().iterator();
        RecordBatch batch = batches.next();
        List<Envelope> out = new ArrayList<>();
        for (Record r : batch) {
            out.add(RecordTranslation.toEnvelope(template.address(), batch, r, template.origin(), template.createdAt()));
        }
        if (batches.hasNext()) {
            throw new IllegalArgumentException("more than one record batch");
        }
        return out;
    }
}
