package io.omnibus.core.internal;

import io.omnibus.core.store.TopicPartition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A set of messages' places (partition and offset): add, remove, and take the oldest, with no object per place. A
 * subscription far behind on non-durable messages holds one place per message it has not handed out
 * ({@link VolatileWaiting}), millions of them in a QoS 0 fan-in whose subscriber is slower than its publishers.
 *
 * <p>Each partition's places are a ring of offsets in increasing order, and the order they were added in across
 * partitions is a second ring of partition numbers, one per place: the k-th entry of partition p in that order stands
 * for the k-th place of p's ring. The places come in offset order per partition (a subscription takes them as they are
 * stored), so an add appends to both rings, and handing them out takes them off the front of their partition's ring
 * at once; the order's entries for them go when the order's front reaches them (a count per partition says how many
 * of its entries there are gone). A place removed from the middle of its ring is marked ({@code ~offset}) until the
 * ring's front passes it. Once the order holds more entries for places gone than for places in the set, both rings are
 * rebuilt without them. So a place costs 12 bytes (an offset and an order entry), up to 32 with the rings' room to grow
 * and the entries of places gone, read and written in sequence: a hashed table of linked places took 40 to 80 bytes
 * and a cache miss per operation at a backlog of millions, and its doubling ran a 1 GiB heap out at 8 million.
 *
 * <p>The oldest is the place added first. A place added below its partition's newest offset (which a subscription
 * does not do) is inserted in offset order: the oldest of that partition is then its lowest offset. Nothing is
 * allocated until the first place comes, and a drained backlog of more than {@value #KEPT_SLOTS} places lets its
 * rings go. Confined to one context.
 */
final class PlaceSet {
    /** An empty set keeps its rings up to this many places; a larger one lets them go. */
    static final int KEPT_SLOTS = 64;
    private static final int FIRST_SLOTS = 4;
    /** Up to this many partitions are looked up in the list; more get a map. */
    private static final int LISTED = 4;

    /** Partitions by number, in the order first seen; kept until {@link #clear}. Null when unused. */
    private List<TopicPartition> partitions;
    /** Partition numbers once there are more than {@link #LISTED}; else null. */
    private Map<TopicPartition, Integer> numbers;
    /** Each partition's places, by partition number. */
    private Ring[] rings;
    /** The partition number of each place, in the order added: a ring from {@link #orderHead}, {@link #held} long. */
    private int[] order;
    private int orderHead;
    /** Entries in the order: for places in the set, and for places gone that the order's front has not reached. */
    private int held;
    /** Places in the set. */
    private int size;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Entries in the order, those of places gone included (for tests: what the rings take). */
    int held() {
        return held;
    }

    /**
     * Adds the place: the newest, when it comes in its partition's offset order (as a subscription adds them); false
     * (and nothing changes) when it is in the set already.
     */
    boolean add(TopicPartition tp, long at) {
        if (order == null) {
            order = new int[FIRST_SLOTS];
            rings = new Ring[1];
            partitions = new ArrayList<>(1);
        }
        int p = number(tp);
        if (p < 0) {
            p = newNumber(tp);
        }
        Ring r = rings[p];
        if (r.count == 0 || Ring.offsetOf(r.get(r.count - 1)) < at) {
            r.append(at);
        } else { // at or below its newest: in it already, removed and held, or out of order
            int i = r.find(at);
            if (i >= 0) {
                if (r.get(i) >= 0) {
                    return false;
                }
                r.set(i, at); // removed from the middle, still marked: back in, where it was
                size++;
                return true;
            }
            r.insert(-i - 1, at);
        }
        if (held == order.length) {
            order = unrolled(order, orderHead, held, order.length * 2);
            orderHead = 0;
        }
        order[(orderHead + held) & (order.length - 1)] = p;
        held++;
        size++;
        return true;
    }

    /** Removes the place; false when it was not in the set. */
    boolean remove(TopicPartition tp, long at) {
        if (size == 0) {
            return false;
        }
        int p = number(tp);
        if (p < 0) {
            return false;
        }
        Ring r = rings[p];
        int i = r.find(at);
        if (i < 0 || r.get(i) < 0) {
            return false;
        }
        removeAt(r, i);
        return true;
    }

    /** The oldest place's partition; only when not empty. */
    TopicPartition oldestPartition() {
        return partitions.get(order[orderHead]);
    }

    /** The oldest place's offset; only when not empty. */
    long oldestOffset() {
        return rings[order[orderHead]].get(0);
    }

    /** Removes the oldest place; only when not empty. */
    void removeOldest() {
        removeAt(rings[order[orderHead]], 0);
    }

    /** Marks the place at {@code i} of {@code r} removed, and takes off what that lets go. */
    private void removeAt(Ring r, int i) {
        r.set(i, ~r.get(i));
        size--;
        r.dropRemovedFront();
        passRemoved();
    }

    void clear() {
        partitions = null;
        numbers = null;
        rings = null;
        order = null;
        orderHead = 0;
        held = 0;
        size = 0;
    }

    /**
     * Takes the entries of places gone off the front of the order, so that its first entry stands for a place in the
     * set (the first of its partition's ring); rebuilds both rings once the order holds more entries for places gone
     * than for places in the set (a place kept while later ones of other partitions went).
     */
    private void passRemoved() {
        int mask = order.length - 1;
        while (held > 0) {
            Ring r = rings[order[orderHead]];
            if (r.gone == 0) {
                break;
            }
            r.gone--;
            orderHead = (orderHead + 1) & mask;
            held--;
        }
        if (size == 0 && order.length > KEPT_SLOTS) {
            clear(); // a backlog drained: its rings go with it (the next place makes small ones again)
        } else if (held - size > KEPT_SLOTS && held - size > size) {
            rebuild();
        }
    }

    /** Both rings again with only the places in the set, in the same order. */
    private void rebuild() {
        int[] kept = new int[capacityFor(size)];
        int[] skip = new int[rings.length]; // per partition: its entries for places gone off the ring's front
        int[] taken = new int[rings.length]; // per partition: how many places of its ring the order went past
        for (int p = 0; p < partitions.size(); p++) {
            skip[p] = rings[p].gone;
        }
        int n = 0;
        int mask = order.length - 1;
        for (int k = 0; k < held; k++) {
            int p = order[(orderHead + k) & mask];
            if (skip[p] > 0) {
                skip[p]--;
            } else if (rings[p].get(taken[p]++) >= 0) {
                kept[n++] = p;
            }
        }
        for (int p = 0; p < partitions.size(); p++) {
            rings[p].dropRemoved();
        }
        order = kept;
        orderHead = 0;
        held = n;
    }

    /** The partition's number, or -1 when it has none yet. */
    private int number(TopicPartition tp) {
        if (numbers != null) {
            Integer n = numbers.get(tp);
            return n == null ? -1 : n;
        }
        for (int n = 0; n < partitions.size(); n++) {
            if (partitions.get(n).equals(tp)) {
                return n;
            }
        }
        return -1;
    }

    private int newNumber(TopicPartition tp) {
        int p = partitions.size();
        partitions.add(tp);
        if (numbers != null || partitions.size() > LISTED) {
            if (numbers == null) {
                numbers = new HashMap<>();
                for (int n = 0; n < p; n++) {
                    numbers.put(partitions.get(n), n);
                }
            }
            numbers.put(tp, p);
        }
        if (p == rings.length) {
            rings = java.util.Arrays.copyOf(rings, p * 2);
        }
        rings[p] = new Ring();
        return p;
    }

    /** The smallest power of two that holds {@code n} places, at least {@link #FIRST_SLOTS}. */
    private static int capacityFor(int n) {
        return Math.max(FIRST_SLOTS, Integer.highestOneBit(Math.max(1, n - 1)) << 1);
    }

    private static int[] unrolled(int[] ring, int head, int count, int capacity) {
        int[] out = new int[capacity];
        int mask = ring.length - 1;
        for (int k = 0; k < count; k++) {
            out[k] = ring[(head + k) & mask];
        }
        return out;
    }

    /** One partition's places, in offset order, from {@code head} of a power-of-two array. */
    private static final class Ring {
        private long[] at = new long[FIRST_SLOTS];
        private int head;
        private int count;
        /** Places taken off the front whose entries in the order its front has not reached yet. */
        int gone;

        /** A place's offset, whether it is in the set ({@code v}) or removed ({@code ~offset}, negative). */
        static long offsetOf(long v) {
            return v < 0 ? ~v : v;
        }

        long get(int i) {
            return at[(head + i) & (at.length - 1)];
        }

        void set(int i, long v) {
            at[(head + i) & (at.length - 1)] = v;
        }

        /** The index of the place with this offset, or {@code -(where it would go) - 1}. The first is tried first. */
        int find(long offset) {
            if (count > 0 && offsetOf(get(0)) == offset) {
                return 0;
            }
            int lo = 0;
            int hi = count - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long o = offsetOf(get(mid));
                if (o < offset) {
                    lo = mid + 1;
                } else if (o > offset) {
                    hi = mid - 1;
                } else {
                    return mid;
                }
            }
            return -lo - 1;
        }

        void append(long offset) {
            if (count == at.length) {
                grow();
            }
            set(count++, offset);
        }

        /** Inserts at index {@code i}, the places from there one further on (rare: a place added out of order). */
        void insert(int i, long offset) {
            if (count == at.length) {
                grow();
            }
            for (int k = count; k > i; k--) {
                set(k, get(k - 1));
            }
            set(i, offset);
            count++;
        }

        /** Takes the removed places at the front off, counting them {@link #gone}. */
        void dropRemovedFront() {
            while (count > 0 && get(0) < 0) {
                head = (head + 1) & (at.length - 1);
                count--;
                gone++;
            }
        }

        void dropRemoved() {
            int n = 0;
            for (int k = 0; k < count; k++) {
                n += get(k) >= 0 ? 1 : 0;
            }
            long[] kept = new long[capacityFor(n)];
            n = 0;
            for (int k = 0; k < count; k++) {
                long v = get(k);
                if (v >= 0) {
                    kept[n++] = v;
                }
            }
            at = kept;
            head = 0;
            count = n;
            gone = 0;
        }

        private void grow() {
            long[] out = new long[at.length * 2];
            for (int k = 0; k < count; k++) {
                out[k] = get(k);
            }
            at = out;
            head = 0;
        }
    }
}
