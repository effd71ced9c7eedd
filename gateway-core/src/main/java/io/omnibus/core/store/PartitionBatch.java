package io.omnibus.core.store;

import io.omnibus.core.spi.Envelope;

import java.util.List;

/** One partition's share of an atomic append: its messages, at consecutive offsets. */
public record PartitionBatch(TopicPartition partition, List<Envelope> envelopes) {
    public PartitionBatch {
        envelopes = List.copyOf(envelopes);
        if (envelopes.isEmpty()) {
            throw new IllegalArgumentException("an empty batch for " + partition);
        }
    }
}
