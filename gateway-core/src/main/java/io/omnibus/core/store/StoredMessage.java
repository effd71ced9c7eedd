package io.omnibus.core.store;

import io.omnibus.core.spi.Envelope;

/**
 * An envelope at its place in a partition's log; {@code storedAt} is when the store appended it (epoch millis; 0 when
 * unknown); {@code batch} the {@link io.omnibus.core.spi.WireBatch} the store kept it in, or null.
 */
public record StoredMessage(TopicPartition partition, long offset, Envelope envelope, long storedAt,
                            io.omnibus.core.spi.WireBatch batch) {
    public StoredMessage(TopicPartition partition, long offset, Envelope envelope, long storedAt) {
        this(partition, offset, envelope, storedAt, null);
    }

    /** The message; read {@linkplain MessageStore#readLazily lazily}, decoded from its batch now, once for the batch. */
    @Override
    public Envelope envelope() {
        return envelope != null || batch == null ? envelope : batch.get((int) (offset - batch.firstOffset()));
    }

    public StoredMessage(TopicPartition partition, long offset, Envelope envelope) {
        this(partition, offset, envelope, 0);
    }
}
