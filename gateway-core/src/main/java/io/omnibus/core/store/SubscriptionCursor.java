package io.omnibus.core.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which offsets of one partition a subscription has acknowledged: a cumulative point plus
 * individually acknowledged ranges above it. Individual acks that close a gap move the cumulative
 * point forward, so the range set stays as small as the number of gaps.
 *
 * <p>Not thread-safe: owned by its subscription's context.
 */
public final class SubscriptionCursor {
    private long ackedBelow;
    /** from (inclusive) to (exclusive), above ackedBelow and never touching it. */
    private final TreeMap<Long, Long> ranges = new TreeMap<>();

    public SubscriptionCursor(long ackedBelow) {
        this.ackedBelow = ackedBelow;
    }

    public static SubscriptionCursor from(CursorState state) {
        SubscriptionCursor c = new SubscriptionCursor(state.ackedBelow());
        for (long[] r : state.ackedRanges()) {
            c.ranges.put(r[0], r[1]);
        }
        return c;
    }

    public long ackedBelow() {
        return ackedBelow;
    }

    public boolean isAcked(long offset) {
        if (offset < ackedBelow) {
            return true;
        }
        Map.Entry<Long, Long> e = ranges.floorEntry(offset);
        return e != null && offset < e.getValue();
    }

    /** Acknowledges one offset; returns false when it was acknowledged already. */
    public boolean ack(long offset) {
        if (isAcked(offset)) {
            return false;
        }
        long from = offset;
        long to = offset + 1;
        Map.Entry<Long, Long> below = ranges.floorEntry(offset);
        if (below != null && below.getValue() == offset) {
            from = below.getKey();
            ranges.remove(below.getKey());
        }
        Long aboveTo = ranges.remove(to);
        if (aboveTo != null) {
            to = aboveTo;
        }
        if (from == ackedBelow) {
            ackedBelow = to;
        } else {
            ranges.put(from, to);
        }
        return true;
    }

    /** Acknowledges every offset up to and including {@code offset}. */
    public void ackUpTo(long offset) {
        if (offset < ackedBelow) {
            return;
        }
        ackedBelow = offset + 1;
        while (!ranges.isEmpty() && ranges.firstKey() <= ackedBelow) {
            Map.Entry<Long, Long> first = ranges.pollFirstEntry();
            ackedBelow = Math.max(ackedBelow, first.getValue());
        }
    }

    /** Acknowledges every offset from {@code from} (inclusive) to {@code to} (exclusive). */
    public void ackRange(long from, long to) {
        if (to <= from) {
            return;
        }
        if (from <= ackedBelow) {
            ackUpTo(to - 1);
            return;
        }
        long f = from;
        long t = to;
        Map.Entry<Long, Long> below = ranges.floorEntry(f);
        if (below != null && below.getValue() >= f) {
            f = below.getKey();
            t = Math.max(t, below.getValue());
            ranges.remove(below.getKey());
        }
        for (Map.Entry<Long, Long> next = ranges.ceilingEntry(f); next != null && next.getKey() <= t;
             next = ranges.ceilingEntry(f)) {
            t = Math.max(t, next.getValue());
            ranges.remove(next.getKey());
        }
        ranges.put(f, t);
    }

    /** How many offsets at or past {@code from} are acknowledged individually. */
    public long ackedFrom(long from) {
        long n = 0;
        for (Map.Entry<Long, Long> r : ranges.tailMap(ranges.floorKey(from) == null ? from : ranges.floorKey(from)).entrySet()) {
            n += Math.max(0, r.getValue() - Math.max(from, r.getKey()));
        }
        return n;
    }

    /** Number of separate acknowledged ranges above the cumulative point (the cursor's gaps). */
    public int rangeCount() {
        return ranges.size();
    }

    public CursorState snapshot() {
        if (ranges.isEmpty()) {
            return new CursorState(ackedBelow, List.of());
        }
        List<long[]> out = new ArrayList<>(ranges.size());
        ranges.forEach((f, t) -> out.add(new long[] {f, t}));
        return new CursorState(ackedBelow, out);
    }
}
