package io.omnibus.core.store;

import io.omnibus.core.spi.TopicFilter;

import java.util.Map;

/**
 * The lowest offset of a partition that age retention must keep for its durable subscriptions: every store removes
 * by age only what each of them acknowledged (docs/storage.md, "Retention").
 */
public final class RetentionFloor {
    private RetentionFloor() {
    }

    /**
     * What one durable subscription needs kept of {@code tp}: below its cursor's acknowledged offset may go; a
     * subscription whose filter matches the address but has no cursor on the partition yet needs all of it;
     * {@code Long.MAX_VALUE} when it does not read the partition at all.
     */
    public static long needed(TopicPartition tp, SubscriptionRecord subscription, Map<TopicPartition, CursorState> cursors) {
        CursorState c = cursors.get(tp);
        if (c != null) {
            return c.ackedBelow();
        }
        return TopicFilter.of(subscription.filter()).matches(tp.address()) ? 0 : Long.MAX_VALUE;
    }
}
