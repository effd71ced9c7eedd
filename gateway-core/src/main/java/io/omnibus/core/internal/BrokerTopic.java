package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.TopicPartition;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One address the broker routes to: its partitions, and whether it is a queue whose default subscription must exist
 * first.
 */
final class BrokerTopic {
    final Address address;
    final BrokerPartition[] partitions;
    final boolean queue;
    final AtomicInteger next = new AtomicInteger();

    BrokerTopic(DefaultBroker broker, Address address, int partitionCount, boolean queue, boolean ready) {
        this.address = address;
        this.queue = queue;
        this.partitions = new BrokerPartition[partitionCount];
        for (int i = 0; i < partitionCount; i++) {
            TopicPartition tp = new TopicPartition(address, i);
            partitions[i] = new BrokerPartition(broker, this, tp, broker.shards().forName(tp.toString()), ready);
        }
    }

    BrokerPartition choose(Envelope e) {
        if (partitions.length == 1) {
            return partitions[0];
        }
        // the key's partition is the one a Kafka producer's default partitioner picks for the same key
        int h = e.hasKey() ? Murmur2.hash(e.key()) : next.getAndIncrement();
        return partitions[(h & Integer.MAX_VALUE) % partitions.length];
    }
}
