package io.omnibus.core.internal;

import io.omnibus.core.config.DeliveryPolicy;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.BrokerException.Reason;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.spi.TopicFilter;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.SubscriptionRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The broker's subscriptions: each by name, and the topic tree that routes messages to them. Written on the registry
 * context only ({@link Shards#registry()}), read anywhere. Consumer groups' cursors are subscriptions too, made
 * at a group's first commit.
 */
final class Subscriptions {
    private final DefaultBroker broker;
    private final ConcurrentHashMap<String, SubscriptionQueue> subscriptions = new ConcurrentHashMap<>();
    private final TopicTree<SubscriptionQueue> tree = new TopicTree<>();
    /** Group cursors by name, made once: commits wait for it in call order (the first one's subscribe included). */
    private final ConcurrentHashMap<String, Future<Subscription>> groupCursors = new ConcurrentHashMap<>();

    Subscriptions(DefaultBroker broker) {
        this.broker = broker;
    }

    SubscriptionQueue get(String name) {
        return subscriptions.get(name);
    }

    /** Every subscription, as a live view. */
    Collection<SubscriptionQueue> all() {
        return subscriptions.values();
    }

    int size() {
        return subscriptions.size();
    }

    /**
     * Saves, in each durable subscription's mailbox, the cursors acknowledged since they were last saved
     * ({@link LogCursors#saveUnsaved}): the broker's drain, before it flushes the store.
     */
    Future<Void> saveCursors() {
        List<Future<Void>> saved = new ArrayList<>();
        for (SubscriptionQueue q : subscriptions.values()) {
            if (q.durable) {
                Promise<Void> p = Promise.promise();
                q.mailbox.run(() -> {
                    try {
                        q.cursors.saveUnsaved();
                    } finally {
                        p.complete(); // a stop does not wait forever on one subscription
                    }
                });
                saved.add(p.future());
            }
        }
        return Future.all(saved).mapEmpty();
    }

    /** Each subscription whose filter matches {@code address}. */
    void match(Address address, Consumer<SubscriptionQueue> each) {
        tree.match(address, each);
    }

    /** Whether {@code name} is a consumer group's cursor made by {@link #commitPosition}. */
    boolean followsCommits(String name) {
        return groupCursors.containsKey(name);
    }

    Future<Subscription> subscribe(SubscriptionSpec spec) {
        Context caller = Vertx.currentContext();
        Promise<Subscription> promise = Promise.promise();
        Contexts.run(broker.shards().registry(), () -> {
            SubscriptionQueue existing = subscriptions.get(spec.name());
            if (existing != null) {
                if (!existing.filter.equals(spec.filter())) {
                    promise.fail(new BrokerException(Reason.SUBSCRIPTION_CONFLICT, "subscription '" + spec.name()
                            + "' exists with filter '" + existing.filter + "', not '" + spec.filter() + "'"));
                } else if (!java.util.Objects.equals(existing.selector, spec.selector())
                        || !java.util.Objects.equals(existing.noLocal, spec.noLocal())) {
                    promise.fail(new BrokerException(Reason.SUBSCRIPTION_CONFLICT, "subscription '" + spec.name()
                            + "' exists with " + (existing.selector == null ? "no selector" : "selector '"
                            + existing.selector + "'") + (existing.noLocal == null ? "" : ", no-local")));
                } else {
                    promise.complete(existing);
                }
                return;
            }
            java.util.function.Predicate<Envelope> selects;
            try {
                selects = broker.selection(spec.selector(), spec.noLocal());
            } catch (BrokerException e) {
                promise.fail(e);
                return;
            }
            if (broker.isClosing()) {
                promise.fail(DefaultBroker.shuttingDown());
                return;
            }
            DeliveryPolicy policy = broker.config().policyFor(spec.name(), spec.filter(), spec.policy());
            SubscriptionQueue q = new SubscriptionQueue(broker, spec.name(), spec.filter(), spec.durable(),
                    broker.shards().near(caller, spec.name()), policy, spec.selector(), spec.noLocal(), selects);
            register(q);
            if (spec.durable()) {
                broker.store().saveSubscription(new SubscriptionRecord(spec.name(), spec.filter().filter(), policy.dispatch(),
                                spec.selector(), spec.noLocal()))
                        .onComplete(ar -> Contexts.complete(null, promise, ar.map(q)));
            } else {
                promise.complete(q);
            }
        });
        return Contexts.on(caller, promise.future());
    }

    /** A consumer group's committed position, kept as its cursor (made at its first commit). */
    Future<Void> commitPosition(String subscription, Address address, int partition, long nextOffset) {
        Future<Subscription> cursor = groupCursors.computeIfAbsent(subscription, name -> subscribe(new SubscriptionSpec(
                name, TopicFilter.exactly(address), true, io.omnibus.core.spi.DispatchPolicy.PULL))
                .onFailure(e -> groupCursors.remove(name)));
        return cursor.map(s -> {
            s.commit(address, partition, nextOffset);
            return null;
        });
    }

    void register(SubscriptionQueue q) {
        Contexts.check(broker.shards().registry(), "the subscription registry");
        subscriptions.put(q.name, q);
        tree.add(q.filter, q);
    }

    Future<Void> unsubscribe(String name) {
        Context caller = Vertx.currentContext();
        Promise<Void> promise = Promise.promise();
        groupCursors.remove(name);
        Contexts.run(broker.shards().registry(), () -> {
            SubscriptionQueue q = subscriptions.remove(name);
            MessageStore store = broker.store();
            if (q == null) {
                promise.complete();
                return;
            }
            tree.remove(q.filter, q);
            q.delete();
            if (store.state(OperatorActions.PAUSED, name) != null) { // also a pause still being written when this began
                store.putState(OperatorActions.PAUSED, name, null);
            }
            if (q.durable) {
                store.deleteSubscription(name).onComplete(promise);
            } else {
                promise.complete();
            }
        });
        return Contexts.on(caller, promise.future());
    }
}
