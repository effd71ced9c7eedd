package io.omnibus.store.kafka;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** What the Kafka store knows of one partition's log: its first and committed end offsets, appends not yet answered. */
final class PartitionLog {
    volatile long start;
    final AtomicLong end = new AtomicLong();
    /** Appends sent and not yet answered. */
    final AtomicInteger pending = new AtomicInteger();

    void ended(long next) {
        end.accumulateAndGet(next, Math::max);
    }
}
