package io.omnibus.core.spi;

import io.vertx.core.Future;

/**
 * The broker as adapters see it. Every method may be called from any thread; futures complete
 * on the caller's Vert.x context (or on a broker thread when the caller has none). Failures are
 * {@link BrokerException}s whose reason an adapter maps to its protocol's error.
 */
public interface Broker {
    /**
     * Stores and routes one message. Completes once the message is as durable as the store's
     * policy says (never before): only then may an adapter acknowledge its producer.
     */
    Future<PublishResult> publish(Envelope envelope);

    /**
     * Creates the subscription, or returns the existing one of that name when its filter is the
     * same (otherwise fails with {@link BrokerException.Reason#SUBSCRIPTION_CONFLICT}).
     */
    Future<Subscription> subscribe(SubscriptionSpec spec);

    /** Deletes a subscription and drops its backlog; completes even when it did not exist. */
    Future<Void> unsubscribe(String name);
}
