package io.omnibus.core.internal;

import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.DispatchPolicy;

import java.util.ArrayList;
import java.util.List;

/**
 * A subscription's dispatch pass: hands out what waits to its consumers under the dispatch policy, records each
 * delivery ({@link #handOut}), and hands the deliveries for other contexts over once per pass. Re-entrant calls (a
 * handler settling inline, settlements handed over together) fold into the running pass. Confined to the
 * subscription's mailbox, as the {@link SubscriptionQueue} it serves.
 */
final class DispatchPass {
    private final SubscriptionQueue q;
    private long nextTag;
    /** Consumers with deliveries waiting to be handed over at the end of this pass. */
    private final List<ConsumerState> flushing = new ArrayList<>();
    private boolean dispatching;
    private boolean dispatchAgain;
    /** The clock as read once in the dispatch pass under way (0: not yet); see {@link #now}. */
    private long passMillis;

    DispatchPass(SubscriptionQueue q) {
        this.q = q;
    }

    void flushLater(ConsumerState c) {
        flushing.add(c);
    }

    void flushDeliveries() {
        for (int i = 0; i < flushing.size(); i++) {
            flushing.get(i).flush();
        }
        flushing.clear();
    }

    /**
     * Runs {@code ops} (settlements handed over together) with one dispatch pass at their end instead of one per
     * operation: the dispatches they ask for meanwhile only note that a pass is due.
     */
    void together(Runnable ops) {
        if (dispatching) {
            ops.run();
            return;
        }
        dispatching = true;
        try {
            ops.run();
        } finally {
            dispatching = false;
        }
        if (dispatchAgain) {
            dispatch();
        }
    }

    /** Hands out what can be handed out. Re-entrant calls (a handler settling inline) are folded into the running pass. */
    void dispatch() {
        if (q.isDeleted()) {
            q.requests.settleDrains();
            return;
        }
        if (dispatching) {
            dispatchAgain = true;
            return;
        }
        dispatching = true;
        passMillis = 0;
        try {
            do {
                dispatchAgain = false;
                dispatchOnce();
            } while (dispatchAgain && !q.isDeleted());
        } finally {
            dispatching = false;
            passMillis = 0;
        }
        q.fill();
        q.requests.settleDrains();
        flushDeliveries();
        q.stats.update();
    }

    /** A pass now, or, within one, another round of the running pass (even for a deleted subscription). */
    void dispatchOrNote() {
        if (dispatching) {
            dispatchAgain = true;
        } else {
            dispatch();
        }
    }

    private void dispatchOnce() {
        if (q.paused()) {
            return;
        }
        q.requests.servePullers();
        if (q.policy.dispatch() == DispatchPolicy.KEY_ORDERED) {
            KeyOrderedDispatch.pass(q, q.consumers, q.failures);
        } else if (q.policy.dispatch() != DispatchPolicy.PULL) {
            while (true) {
                Pending p = q.waiting.peek();
                if (p == null) {
                    break;
                }
                ConsumerState c = q.policy.dispatch() == DispatchPolicy.FAIR ? q.consumers.pickFair(p)
                        : q.consumers.pickRoundRobin(p);
                if (c == null) {
                    if ((p.notHere != null || q.consumers.anySelective()) && q.consumers.hasPushCredit()) {
                        q.waiting.poll(); // no consumer with credit takes it: it waits aside, the next ones go on
                        q.waiting.park(p);
                        continue;
                    }
                    break;
                }
                q.waiting.poll();
                if (deliverable(p)) {
                    deliver(c, p);
                }
            }
        }
    }

    /** False (and the message is dropped) when it was acknowledged cumulatively meanwhile or has expired. */
    boolean deliverable(Pending p) {
        if (q.cursors.isAcked(p.msg.partition(), p.msg.offset())) {
            return false;
        }
        if (p.envelope().expiresAt() != 0 && p.envelope().isExpired(now())) {
            q.failures.expire(p);
            return false;
        }
        return true;
    }

    void deliver(ConsumerState c, Pending p) {
        Delivery d = handOut(c, p);
        c.credit--;
        c.push(d);
    }

    /**
     * The wall clock: read once per dispatch pass (a pass hands out a consumer's credit in a few milliseconds at the
     * most; reading it per message was a fiftieth of a fan-in's CPU on a virtual machine), or now outside one.
     */
    private long now() {
        if (!dispatching) {
            return System.currentTimeMillis();
        }
        if (passMillis == 0) {
            passMillis = System.currentTimeMillis();
        }
        return passMillis;
    }

    /** Records a delivery to {@code c} (in flight, or settled at once for auto-ack) and counts it. */
    Delivery handOut(ConsumerState c, Pending p) {
        long tag = nextTag++;
        Delivery d = new Delivery(tag, q.name, p.msg.partition().partition(), p.msg.offset(),
                p.envelope().deliveryCount() + p.failures, p.envelope());
        q.stats.delivered++;
        if (p.failures == 0 && p.envelope().deliveryCount() == 0) {
            q.metrics.delivered(p.msg.storedAt(), now()); // first attempts only: redeliveries would count their backoff
        }
        q.leftWaiting(p);
        if (c.spec.autoAck()) {
            q.settled(p);
            q.stats.acked++;
            q.keys.done(p.key); // nothing stays outstanding for an at-most-once delivery
        } else {
            q.inFlight.add(tag, p, c, now());
        }
        q.metrics.messageOut(c.spec.owner().protocol(), p.envelope());
        return d;
    }
}
