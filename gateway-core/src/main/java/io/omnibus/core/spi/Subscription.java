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
}
