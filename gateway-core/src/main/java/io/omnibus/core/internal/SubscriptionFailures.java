package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;

/**
 * What becomes of a subscription's messages that were not settled well or cannot be delivered: a failed attempt comes
 * back after its backoff (behind its key's line under key-ordered dispatch) or is dead-lettered past
 * {@code max-deliveries}; a rejected one is dead-lettered; an expired one, or a non-durable one dropped by
 * {@code overflow}, is counted and acknowledged. Confined to the subscription's mailbox.
 */
final class SubscriptionFailures {
    private static final Logger LOG = LoggerFactory.getLogger(SubscriptionFailures.class);

    private final SubscriptionQueue q;
    private final SubscriptionStats stats;

    SubscriptionFailures(SubscriptionQueue q, SubscriptionStats stats) {
        this.q = q;
        this.stats = stats;
    }

    /** A failed attempt: the message comes back (after backoff when {@code backoff}), or is dead-lettered past the maximum. */
    void failed(Pending p, boolean backoff, String reason) {
        p.failures++;
        if (q.policy.maxDeliveries() > 0 && p.failures >= q.policy.maxDeliveries()) {
            deadLetter(p, "max-deliveries exceeded (" + p.failures + " attempts, last: " + reason + ")");
            return;
        }
        stats.redelivered++;
        q.metrics.redeliveries.increment();
        giveBack(p, backoff ? q.policy.backoffMillis(p.failures) : 0);
    }

    /** The message waits again: at once, or after {@code delayMillis}; one with a key waits in its key's line. */
    void giveBack(Pending p, long delayMillis) {
        if (p.key != null || delayMillis > 0) {
            schedule(p, System.currentTimeMillis() + delayMillis);
        } else {
            q.waiting.giveBack(p);
        }
    }

    /** Held until {@code readyAt} (a deliver-at time, a backoff), a redelivered key's message behind its line. */
    void schedule(Pending p, long readyAt) {
        if (p.key != null && p.failures > 0) {
            readyAt = q.keys.waitInLine(p.key, readyAt);
        }
        p.readyAt = readyAt;
        q.waiting.schedule(p);
    }

    /** The message left its key's line (handed out or settled). */
    void keyWaitingDone(Pending p) {
        if (p.key != null && p.failures > 0) { // only redeliveries wait in a key's line (deliver-at messages do not)
            q.keys.waitDone(p.key);
        }
    }

    /** The consumer of {@code f} is not to be offered its message again (round-robin and fair dispatch). */
    static void notHere(InFlightDeliveries.InFlight f) {
        Pending p = f.pending();
        if (p.notHere == null) {
            p.notHere = new HashSet<>(2);
        }
        p.notHere.add(f.consumer());
    }

    /**
     * Publishes the message to the dead-letter address its policy gives (discarded when none, or when it is a dead
     * letter already), then settles it here. Not lost when that publish fails: it stays, and is tried again later.
     */
    void deadLetter(Pending p, String reason) {
        Envelope env = p.envelope();
        Address target = DeadLetters.isLetter(env) ? null : q.policy.deadLetterAddressFor(env.address(), q.name);
        if (target == null) {
            LOG.debug("subscription {}: discarding dead letter {}@{} ({})", q.name, p.msg.partition(), p.msg.offset(), reason);
            q.metrics.deadLetterDiscarded.increment();
            stats.deadLettered++;
            q.settled(p);
            return;
        }
        Envelope letter = DeadLetters.letter(env, target, reason, q.name, env.deliveryCount() + p.failures);
        q.broker.publish(letter).onComplete(ar -> q.mailbox.run(() -> {
            if (ar.succeeded()) {
                q.metrics.deadLettered.increment();
                stats.deadLettered++;
                q.settled(p);
            } else {
                LOG.warn("subscription {}: dead-lettering to {} failed, will retry: {}", q.name, target, ar.cause().toString());
                q.mailbox.setTimer(Math.max(1, q.policy.maxRedeliveryDelay().toMillis()), t -> {
                    if (!q.isDeleted()) {
                        deadLetter(p, reason);
                    }
                });
            }
            stats.update();
        }));
    }

    void expire(Pending p) {
        stats.expired++;
        q.metrics.expired.increment();
        q.settled(p);
    }

    /** A non-durable message dropped by max-pending's overflow: acknowledged, never delivered, counted. */
    void dropped(TopicPartition tp, long offset) {
        stats.dropped++;
        q.metrics.overflowDropped.increment();
        q.cursors.ack(tp, offset);
    }
}
