package io.omnibus.core.internal;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What {@code overflow: block} measures against {@code max-pending}, and the publishes it holds: the backlog last
 * published plus the messages offered since and not yet counted in it. Offers add to it on the partitions' contexts;
 * the subscription's mailbox moves a run from "offered" into the published backlog in one atomic add
 * ({@link #published}), so that {@link #hold} never sees a message twice (holding a publish below max-pending) or not
 * at all (letting one past it).
 */
final class BlockedPublishers {
    private final AtomicLong load = new AtomicLong();
    /** In the subscription's mailbox: the backlog included in {@link #load}. */
    private long loadBacklog;
    /** In the subscription's mailbox: messages arrived and counted in {@link #load} as offered, not yet as backlog. */
    private long arrivedUncounted;
    /** Publishes held back, released when the backlog is below max-pending. */
    private final ConcurrentLinkedQueue<Promise<Void>> waiting = new ConcurrentLinkedQueue<>();

    /** {@code n} messages routed to the subscription (on a partition's context). */
    void offered(int n) {
        load.addAndGet(n);
    }

    /** {@code n} of the offered messages reached the subscription's mailbox. */
    void arrived(int n) {
        arrivedUncounted += n;
    }

    boolean anyHeld() {
        return !waiting.isEmpty();
    }

    /**
     * The subscription's backlog is {@code backlog} now: counted in the load in place of what arrived since the last
     * time; the held publishes go on once it is below {@code maxPending}, or all of them when {@code release}.
     */
    void published(long backlog, long maxPending, boolean release) {
        long now = load.addAndGet(backlog - loadBacklog - arrivedUncounted);
        loadBacklog = backlog;
        arrivedUncounted = 0;
        if (!waiting.isEmpty() && (now < maxPending || release)) {
            Promise<Void> w;
            while ((w = waiting.poll()) != null) {
                w.complete();
            }
        }
    }

    /** A future that completes once the load is below {@code maxPending}, or null when it already is. */
    Future<Void> hold(long maxPending) {
        if (load.get() < maxPending) {
            return null;
        }
        Promise<Void> p = Promise.promise();
        waiting.add(p);
        return p.future();
    }
}
