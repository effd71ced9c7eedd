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

    // Written out: a record's generated ones go through a chain of method handles, which a profile of MQTT fan-in
    // showed costing a few percent of the gateway's CPU (every message's partition is a map key several times).
    @Override
    public boolean equals(Object o) {
        return o instanceof TopicPartition t && t.partition == partition && t.address.equals(address);
    }

    @Override
    public int hashCode() {
        return 31 * address.hashCode() + partition;
    }

    @Override
    public String toString() {
        return address + "#" + partition;
    }
}
