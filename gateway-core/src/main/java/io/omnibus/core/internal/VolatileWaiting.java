package io.omnibus.core.internal;

import io.omnibus.core.config.DeliveryPolicy;
import io.omnibus.core.config.Overflow;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;

import java.util.Iterator;
import java.util.LinkedHashSet;

/**
 * What {@code max-pending} bounds in a subscription: its non-durable messages waiting (in memory or in the log),
 * oldest first, by their place only, so that what waits costs no payload. Taken out when handed out or settled; ones
 * acknowledged otherwise (cumulatively, by retention) are swept when the bound is reached. Confined to the
 * subscription's context.
 */
final class VolatileWaiting {
    /** A message's place, without the message. */
    private record Slot(TopicPartition tp, long offset) {
    }

    /** Drops one waiting message for the overflow: acknowledged, never delivered, counted. */
    interface Drop {
        void drop(TopicPartition tp, long offset);
    }

    private final LinkedHashSet<Slot> slots = new LinkedHashSet<>();
    private final DeliveryPolicy policy;
    private final LogCursors cursors;

    VolatileWaiting(DeliveryPolicy policy, LogCursors cursors) {
        this.policy = policy;
        this.cursors = cursors;
    }

    /**
     * Counts {@code m} (non-durable, not acknowledged) as waiting. At the bound, with an overflow other than block:
     * the oldest waiting is dropped ({@code drop-oldest}) to make room, or false is returned and {@code m} is not
     * counted ({@code drop-newest}, or nothing older to drop): the caller drops it.
     */
    boolean add(StoredMessage m, Drop drop) {
        if (slots.size() >= policy.maxPending() && policy.overflow() != Overflow.BLOCK) {
            Iterator<Slot> it = slots.iterator(); // the oldest ones settled otherwise meanwhile go first
            while (it.hasNext()) {
                Slot w = it.next();
                if (!cursors.isAcked(w.tp(), w.offset())) {
                    break;
                }
                it.remove();
            }
        }
        if (slots.size() >= policy.maxPending() && policy.overflow() != Overflow.BLOCK) {
            if (policy.overflow() == Overflow.DROP_NEWEST || slots.isEmpty()) {
                return false;
            }
            Iterator<Slot> oldest = slots.iterator();
            Slot dropped = oldest.next();
            oldest.remove();
            drop.drop(dropped.tp(), dropped.offset()); // in memory too: it is skipped now that it is acknowledged
        }
        slots.add(new Slot(m.partition(), m.offset()));
        return true;
    }

    /** No longer waiting: handed out or settled. */
    void remove(TopicPartition tp, long offset) {
        slots.remove(new Slot(tp, offset));
    }

    void clear() {
        slots.clear();
    }
}
