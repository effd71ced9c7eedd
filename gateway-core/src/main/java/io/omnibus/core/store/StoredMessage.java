package io.omnibus.core.store;

import io.omnibus.core.spi.Envelope;

/**
 * An envelope at its place in a partition's log; {@code storedAt} is when the store appended it (epoch millis; 0 when
 * unknown).
 */
public record StoredMessage(TopicPartition partition, long offset, Envelope envelope, long storedAt) {
    public StoredMessage(TopicPartition partition, long offset, Envelope envelope) {
        this(partition, offset, envelope, 0);
    }
}
