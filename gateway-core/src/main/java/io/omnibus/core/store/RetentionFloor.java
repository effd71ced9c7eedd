package io.omnibus.core.store;

import io.omnibus.core.internal.TopicTree;
import io.omnibus.core.spi.TopicFilter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The lowest offset of each partition that age retention must keep for the durable subscriptions: every store removes
 * by age only what each of them acknowledged (docs/storage.md, "Retention"). Made once per retention pass from every
 * durable subscription, then asked per partition: a partition costs a lookup and a walk of the filters' tree, not a
 * look at every subscription (a gateway with 10,000 MQTT sessions and as many topics made 10^8 filter matches per
 * checkpoint that way, on the store's writer).
 */
public final class RetentionFloor {
    /** Per partition, the lowest acknowledged offset of the subscriptions with a cursor on it. */
    private final Map<TopicPartition, Long> acked = new HashMap<>();
    /** Every subscription's filter and cursors, to find those that match an address but have no cursor on it yet. */
    private final List<Durable> subscriptions = new ArrayList<>();
    private TopicTree<List<Durable>> filters;

    private record Durable(TopicFilter filter, Map<TopicPartition, CursorState> cursors) {
    }

    /** Adds one durable subscription and its cursors (before the first {@link #needed}). */
    public RetentionFloor add(SubscriptionRecord subscription, Map<TopicPartition, CursorState> cursors) {
        cursors.forEach((tp, c) -> acked.merge(tp, c.ackedBelow(), Math::min));
        subscriptions.add(new Durable(TopicFilter.of(subscription.filter()), cursors));
        return this;
    }

    /**
     * What the subscriptions need kept of {@code tp}: below the lowest acknowledged offset of those with a cursor on it
     * may go; a subscription whose filter matches the address but has no cursor on the partition yet needs all of it;
     * {@code Long.MAX_VALUE} when none reads the partition.
     */
    public long needed(TopicPartition tp) {
        long acknowledged = acked.getOrDefault(tp, Long.MAX_VALUE);
        if (acknowledged == 0) {
            return 0;
        }
        if (filters == null) {
            filters = TopicTree.grouped(subscriptions, Durable::filter);
        }
        boolean[] unread = {false};
        filters.match(tp.address(), same -> {
            for (int i = 0; i < same.size() && !unread[0]; i++) {
                unread[0] = !same.get(i).cursors().containsKey(tp);
            }
        });
        return unread[0] ? 0 : acknowledged;
    }
}
