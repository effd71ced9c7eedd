package io.omnibus.core.internal;

import io.omnibus.core.config.DeliveryPolicy;
import io.omnibus.core.config.Overflow;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;

/**
 * What {@code max-pending} bounds in a subscription: its non-durable messages waiting (in memory or in the log),
 * oldest first, by their place only, so that what waits costs no payload. Taken out when handed out or settled; ones
 * acknowledged otherwise (cumulatively, by retention) are swept when the bound is reached. The places are a
 * {@link PlaceSet}: no object per waiting message. Confined to the subscription's mailbox.
 */
final class VolatileWaiting {
    /** Drops one waiting message for the overflow: acknowledged, never delivered, counted. */
    interface Drop {
        void drop(TopicPartition tp, long offset);
    }

    private final PlaceSet slots = new PlaceSet();
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
            // the oldest ones settled otherwise meanwhile go first
            while (!slots.isEmpty() && cursors.isAcked(slots.oldestPartition(), slots.oldestOffset())) {
                slots.removeOldest();
            }
        }
        if (slots.size() >= policy.maxPending() && policy.overflow() != Overflow.BLOCK) {
            if (policy.overflow() == Overflow.DROP_NEWEST || slots.isEmpty()) {
                return false;
            }
            TopicPartition tp = slots.oldestPartition();
            long offset = slots.oldestOffset();
            slots.removeOldest();
            drop.drop(tp, offset); // in memory too: it is skipped now that it is acknowledged
        }
        slots.add(m.partition(), m.offset());
        return true;
    }

    /** No longer waiting: handed out or settled. */
    void remove(TopicPartition tp, long offset) {
        slots.remove(tp, offset);
    }

    void clear() {
        slots.clear();
    }
}
