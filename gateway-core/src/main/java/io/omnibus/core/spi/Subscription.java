package io.omnibus.core.spi;

import io.vertx.core.Future;

/**
 * A named cursor on the addresses its filter matches. Every subscription receives every message
 * published to a matching address; the consumers attached to one subscription share its messages
 * under its dispatch policy.
 */
public interface Subscription {
    String name();

    TopicFilter filter();

    DispatchPolicy policy();

    /** Attaches a consumer; the future completes on the caller's context. */
    Future<Consumer> attach(ConsumerSpec spec);

    /**
     * Sets this subscription's position in one partition to a consumer group's committed offset: everything before
     * {@code nextOffset} counts as consumed, everything from it on as lag (and is kept by retention for a durable
     * subscription). For groups whose members read the log by offset (Kafka, RocketMQ) and attach no consumer; the
     * position may move back. Takes effect in call order; durable as the store's fsync policy says.
     */
    void commit(Address address, int partition, long nextOffset);
}
