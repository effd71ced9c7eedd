package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.BrokerException.Reason;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.concurrent.ConcurrentHashMap;

/**
 * What operators do to a running broker through the admin API: purge or pause a subscription, move dead letters
 * back, delete an address. Consumer groups' cursors are refused: they follow their groups' committed offsets.
 */
public final class OperatorActions {
    /** Where paused subscriptions are remembered, so that a pause outlives a restart. */
    static final String PAUSED = "omnibus.paused";

    private final DefaultBroker broker;
    /** Addresses a redrive is under way for: one at a time each. */
    private final java.util.Set<Address> redriving = ConcurrentHashMap.newKeySet();

    OperatorActions(DefaultBroker broker) {
        this.broker = broker;
    }

    /** Purges a subscription (see {@link SubscriptionQueue#purge}): completes with how many messages were waiting. */
    public Future<Long> purge(String subscription) {
        return followsCommits(subscription) ? Future.failedFuture(groupCursorRefusal(subscription, "purged"))
                : onSubscription(subscription, SubscriptionQueue::purge);
    }

    /** A consumer group's cursor ({@link DefaultBroker#commitPosition}): it follows the group's committed offsets. */
    private boolean followsCommits(String subscription) {
        return broker.subscriptions().followsCommits(subscription)
                || Broker.GROUP_CURSOR.matcher(subscription).matches();
    }

    private static BrokerException groupCursorRefusal(String subscription, String what) {
        return new BrokerException(Reason.CONFLICT, "'" + subscription + "' is a consumer group's cursor: it follows the "
                + "group's committed offsets and is not " + what + " here; reset or pause the group with its own "
                + "tools (kafka-consumer-groups.sh --reset-offsets, RocketMQ's resetOffsetByTime)");
    }

    /**
     * Pauses or resumes a subscription: a paused one hands nothing out, to push or pull consumers, until resumed (a
     * durable one stays paused across restarts). Completes with false when there is no such subscription.
     */
    public Future<Boolean> pause(String subscription, boolean pause) {
        if (followsCommits(subscription)) {
            return Future.failedFuture(groupCursorRefusal(subscription, pause ? "paused" : "resumed"));
        }
        Context caller = Vertx.currentContext();
        SubscriptionQueue q = broker.subscriptions().get(subscription);
        if (q == null) {
            return Future.succeededFuture(false);
        }
        Future<Void> kept = q.durable ? broker.store().putState(PAUSED, subscription, pause ? new byte[] {1} : null)
                : Future.succeededFuture();
        Promise<Boolean> done = Promise.promise();
        kept.onComplete(ar -> q.mailbox.run(() -> {
            if (ar.succeeded() && pause && broker.subscriptions().get(subscription) != q) {
                // deleted meanwhile: its successor does not inherit the pause
                broker.store().putState(PAUSED, subscription, null);
            }
            if (ar.succeeded()) {
                q.pause(pause);
            }
            Contexts.complete(caller, done, ar.map(true));
        }));
        return done.future();
    }

    private <T> Future<T> onSubscription(String subscription, java.util.function.Function<SubscriptionQueue, T> action) {
        Context caller = Vertx.currentContext();
        SubscriptionQueue q = broker.subscriptions().get(subscription);
        if (q == null) {
            return Future.failedFuture(new BrokerException(Reason.NOT_FOUND, "no subscription named " + subscription));
        }
        Promise<T> done = Promise.promise();
        q.mailbox.run(() -> {
            try {
                Contexts.complete(caller, done, Future.succeededFuture(action.apply(q)));
            } catch (RuntimeException e) {
                Contexts.complete(caller, done, Future.failedFuture(e));
            }
        });
        return done.future();
    }

    /** Moves the dead letters of a dead-letter address back where they came from ({@link Redrive}): {moved, kept}. */
    public Future<long[]> redrive(Address deadLetters) {
        return Redrive.run(broker, redriving, deadLetters);
    }

    /** Deletes an address and its log (the admin API's DELETE): false when there was none. */
    public Future<Boolean> deleteAddress(Address address) {
        return Contexts.on(Vertx.currentContext(), broker.topics().delete(address));
    }
}
