package io.omnibus.core.store;

import io.omnibus.core.spi.Envelope;

/** An envelope at its place in a partition's log. */
public record StoredMessage(TopicPartition partition, long offset, Envelope envelope) {
}
