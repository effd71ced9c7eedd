package io.omnibus.core.store;

import io.omnibus.core.spi.Address;

import java.util.Objects;

/** One partition of one address's log. */
public record TopicPartition(Address address, int partition) {
    public TopicPartition {
        Objects.requireNonNull(address, "address");
        if (partition < 0) {
            throw new IllegalArgumentException("partition must not be negative: " + partition);
        }
    }

    @Override
    public String toString() {
        return address + "#" + partition;
    }
}
