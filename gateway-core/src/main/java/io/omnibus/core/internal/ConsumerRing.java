package io.omnibus.core.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * A subscription's attached consumers in the order they came, and whose turn it is: round-robin and fair dispatch
 * pick from here. Confined to the subscription's mailbox.
 */
final class ConsumerRing {
    private final List<ConsumerState> consumers = new ArrayList<>();
    /** Attached consumers with a selector of their own. */
    private int selective;
    private int rr;

    void add(ConsumerState c) {
        consumers.add(c);
        if (c.spec.selects() != null) {
            selective++;
        }
    }

    /** False when {@code c} was not attached. */
    boolean remove(ConsumerState c) {
        if (!consumers.remove(c)) {
            return false;
        }
        if (c.spec.selects() != null) {
            selective--;
        }
        return true;
    }

    /**
     * The context of a consumer when every consumer runs on one event loop (null: none attached, or some elsewhere,
     * or not on an event loop).
     */
    io.vertx.core.Context oneLoop() {
        io.vertx.core.Context home = consumers.isEmpty() ? null : consumers.get(0).home;
        if (home == null || !home.isEventLoopContext()) {
            return null;
        }
        for (ConsumerState c : consumers) {
            if (c.home == null || !Mailbox.sameLoop(home, c.home)) {
                return null;
            }
        }
        return home;
    }

    /** The consumers, for key ownership and for settling them all; not to be changed through it. */
    List<ConsumerState> all() {
        return consumers;
    }

    int size() {
        return consumers.size();
    }

    boolean isEmpty() {
        return consumers.isEmpty();
    }

    /** Whether a consumer has a selector of its own: a message it does not select may wait for another. */
    boolean anySelective() {
        return selective > 0;
    }

    boolean hasPushCredit() {
        for (ConsumerState c : consumers) {
            if (c.canPush()) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code c} may take {@code p}: it did not refuse it, and its selector (if any) selects it. */
    static boolean takes(ConsumerState c, Pending p) {
        return p == null || (p.notHere == null || !p.notHere.contains(c))
                && (c.spec.selects() == null || c.spec.selects().test(p.envelope()));
    }

    /** The next consumer in turn with credit that takes {@code p} (any, for null). */
    ConsumerState pickRoundRobin(Pending p) {
        int n = consumers.size();
        for (int i = 0; i < n; i++) {
            ConsumerState c = consumers.get((rr + i) % n);
            if (c.canPush() && takes(c, p)) {
                rr = (rr + i + 1) % n;
                return c;
            }
        }
        return null;
    }

    /** Fewest unacknowledged among those with credit; ties rotate so equals take turns. */
    ConsumerState pickFair(Pending p) {
        int n = consumers.size();
        ConsumerState best = null;
        int bestAt = 0;
        for (int i = 0; i < n; i++) {
            int at = (rr + i) % n;
            ConsumerState c = consumers.get(at);
            if (c.canPush() && takes(c, p) && (best == null || c.unacked < best.unacked)) {
                best = c;
                bestAt = at;
            }
        }
        if (best != null) {
            rr = (bestAt + 1) % Math.max(1, n);
        }
        return best;
    }
}
