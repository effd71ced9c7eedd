package io.omnibus.core.internal;

import io.omnibus.core.config.Overflow;
import io.omnibus.core.spi.DispatchPolicy;
import io.vertx.core.Future;

/**
 * A subscription's counters and gauges, and what {@code overflow: block} holds on them. Written on the subscription's
 * context only; the counters and gauges are read by the admin API and the meters from other threads (volatile), and
 * {@link #routedHere} runs on the contexts of the partitions routing to it ({@link BlockedPublishers} is safe there).
 */
final class SubscriptionStats {
    private final SubscriptionQueue q;
    /** What {@code overflow: block} measures, and the publishes it holds. */
    final BlockedPublishers blocked = new BlockedPublishers();

    volatile long backlog;
    volatile int unacked;
    volatile int consumerCount;
    volatile long delivered;
    volatile long acked;
    volatile long redelivered;
    volatile long deadLettered;
    volatile long expired;
    volatile long dropped;
    volatile long lostToRetention;

    /** An {@link #update()} is queued in the subscription's mailbox: the calls until it runs are one. */
    private boolean queued;

    SubscriptionStats(SubscriptionQueue q) {
        this.q = q;
    }

    SubscriptionView view() {
        return new SubscriptionView(q.name, q.filter.filter(), q.policy.dispatch().configName(), q.durable,
                consumerCount, backlog, unacked, delivered, acked, redelivered, deadLettered, expired, dropped,
                lostToRetention, q.paused(), q.policy.deadLetterAddress());
    }

    /**
     * Publishes the backlog and the other gauges. Under {@code overflow: block} at once, since held publishers wait
     * for it; otherwise once per turn of the context's queue: computing the lag walks the cursors, and a busy
     * subscription would do it for every run routed, every ack and every credit.
     */
    void update() {
        if (q.policy.overflow() == Overflow.BLOCK || blocked.anyHeld()) {
            updateNow();
        } else if (!queued) {
            queued = true;
            q.mailbox.execute(() -> {
                queued = false;
                updateNow();
            });
        }
    }

    void updateNow() {
        long b = q.waitingCount() + q.cursors.lag();
        backlog = b;
        lostToRetention = q.cursors.skippedByRetention();
        unacked = q.inFlightCount();
        blocked.published(b, q.policy.maxPending(), q.isDeleted());
    }

    /**
     * A message is routed to the subscription (by a partition's context, before the {@link SubscriptionQueue#offer}
     * of its run): counted on its way, and held by {@link #room} when the subscription is full.
     */
    Future<Void> routedHere() {
        Future<Void> held = room();
        blocked.offered(1);
        return held;
    }

    /**
     * With {@code overflow: block}, a future that completes once the backlog is below max-pending (or null when it
     * already is, or the policy is not block). Called by a partition's context while routing, before the offer: the
     * backlog it reads is the one last published by the subscription's mailbox plus the messages on their way to it,
     * the run being routed included: each of its messages is counted as it is routed ({@link #routedHere}), so a run
     * that takes the backlog past max-pending is held like the publishes of its messages one by one would be.
     */
    private Future<Void> room() {
        // pull subscriptions (Kafka and RocketMQ groups) are read at their readers' pace: they never hold producers
        if (q.policy.overflow() != Overflow.BLOCK || q.policy.dispatch() == DispatchPolicy.PULL) {
            return null;
        }
        Future<Void> held = blocked.hold(q.policy.maxPending());
        if (held != null) {
            q.metrics.overflowBlocked.increment();
            q.mailbox.run(this::update); // it may have drained meanwhile
        }
        return held;
    }
}
