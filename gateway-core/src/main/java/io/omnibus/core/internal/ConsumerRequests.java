package io.omnibus.core.internal;

import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.DispatchPolicy;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * What a subscription's consumers ask for rather than have pushed: pulls (answered at once with what waits, or held
 * in {@link PullRequests} until messages come or their wait ends) and credit drains (an AMQP receiver's drain: hand
 * out what is ready within the credit, then answer with the credit left). Confined to the subscription's mailbox.
 */
final class ConsumerRequests {
    private record PendingDrain(ConsumerState consumer, Promise<Integer> promise) {
    }

    private final SubscriptionQueue q;
    private final PullRequests pullers;
    private final List<PendingDrain> drains = new ArrayList<>(0);

    ConsumerRequests(SubscriptionQueue q) {
        this.q = q;
        this.pullers = new PullRequests(q.mailbox);
    }

    /** Whether pulls wait for messages (what is read from the log is then for them). */
    boolean pullsWaiting() {
        return !pullers.isEmpty();
    }

    void pull(ConsumerState c, int max, Duration wait, Promise<List<Delivery>> promise) {
        if (q.policy.dispatch() == DispatchPolicy.KEY_ORDERED) {
            Contexts.complete(c.home, promise, Future.failedFuture(new IllegalStateException("subscription '" + q.name
                    + "' is key-ordered: its messages are pushed to the consumer that owns their key, not pulled")));
            return;
        }
        if (q.isDeleted() || c.closed) {
            PullRequests.answer(c, promise, List.of());
            return;
        }
        List<Delivery> got = q.paused() ? List.of() : take(c, max);
        if (!got.isEmpty() || wait.toMillis() < 1) {
            PullRequests.answer(c, promise, got);
            q.fill(); // the next ones, from the log
            q.stats.update();
            return;
        }
        pullers.await(c, max, wait, promise);
        q.fill(); // what waits in the log answers it when read
    }

    /** Answers the pulls that wait, with what is ready now. */
    void servePullers() {
        pullers.serve(() -> q.waiting.peek() != null, this::take);
    }

    /** Hands {@code c} up to {@code max} of the messages ready, in order. */
    private List<Delivery> take(ConsumerState c, int max) {
        List<Delivery> out = new ArrayList<>(Math.min(max, 64));
        while (out.size() < max) {
            Pending p = q.waiting.poll();
            if (p == null) {
                break;
            }
            if (q.pass.deliverable(p)) { // no keys here: key-ordered subscriptions refuse pulls
                out.add(q.pass.handOut(c, p));
            }
        }
        return out;
    }

    /** {@code c} asks to drain its credit: settled by {@link #settleDrains} at the end of the next dispatch pass. */
    void drain(ConsumerState c, Promise<Integer> promise) {
        drains.add(new PendingDrain(c, promise));
    }

    /**
     * Settles the drains that can be: a drain hands out what is ready within its consumer's credit, waiting for the
     * log's messages being read back (what is in the log is ready too), then answers with the credit it dropped.
     */
    void settleDrains() {
        if (drains.isEmpty()) {
            return;
        }
        boolean deleted = q.isDeleted();
        List<PendingDrain> done = new ArrayList<>(drains.size());
        for (Iterator<PendingDrain> it = drains.iterator(); it.hasNext(); ) {
            PendingDrain d = it.next();
            ConsumerState c = d.consumer();
            if (q.policy.dispatch() == DispatchPolicy.PULL && c.canPush() && !deleted && !q.paused()) {
                for (Delivery x : take(c, c.credit)) {
                    c.credit--;
                    c.push(x);
                }
            }
            q.fill();
            boolean more = !deleted && !q.paused() && !c.closed && c.credit > 0 && q.cursors.isReading()
                    && q.cursors.lag() > 0;
            if (!more) {
                it.remove();
                done.add(d);
            }
        }
        q.pass.flushDeliveries();
        for (PendingDrain d : done) {
            int left = d.consumer().credit;
            d.consumer().credit = 0;
            Contexts.complete(d.consumer().home, d.promise(), Future.succeededFuture(left)); // queued behind the deliveries
        }
    }

    /** {@code c} detached: its waiting pulls are answered empty. */
    void detached(ConsumerState c) {
        pullers.dropOf(c);
    }

    /** The subscription was deleted: every waiting pull is answered empty. */
    void clear() {
        pullers.clear();
    }
}
