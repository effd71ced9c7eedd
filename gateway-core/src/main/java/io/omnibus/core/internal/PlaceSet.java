package io.omnibus.core.internal;

import io.omnibus.core.store.TopicPartition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A set of messages' places (partition and offset) in the order they were added: add, remove, and take the oldest in
 * constant time, with no object per place. A subscription far behind on non-durable messages holds one place per
 * message it has not handed out ({@link VolatileWaiting}); as a {@code LinkedHashSet} of records that was two objects
 * and 64 bytes per message, which the young collections copied over and over (370,000 of each, 14 % of the CPU in
 * the collector, in a QoS 0 fan-in with a backlog). Here a place is a partition number, an offset and two links in
 * arrays: open addressing with linear probing, removal by shifting back the entries that follow (no tombstones).
 * Nothing is allocated until the first place comes (then 4 slots, about 190 bytes with the partition list, kept
 * for the next one: a subscriber that keeps up adds and removes one place per message), and a drained backlog of
 * more than {@value #KEPT_SLOTS} slots lets its arrays go. Confined to one context.
 */
final class PlaceSet {
    private static final int EMPTY = -1;
    private static final int NONE = -1;
    private static final int FIRST_SLOTS = 4;
    /** An empty set keeps its arrays up to this many slots; a larger one lets them go. */
    static final int KEPT_SLOTS = 64;
    /** Up to this many partitions are looked up in the list; more get a map. */
    private static final int LISTED = 4;

    /** Partitions by number, in the order first seen; kept until {@link #clear}. Null when unused. */
    private List<TopicPartition> partitions;
    /** Partition numbers once there are more than {@link #LISTED}; else null. */
    private Map<TopicPartition, Integer> numbers;

    private int[] partition; // EMPTY where no place is; null until the first place
    private long[] offset;
    private int[] prev;
    private int[] next;
    private int mask;
    private int size;
    private int head = NONE;
    private int tail = NONE;

    private void allocate(int capacity) {
        partition = new int[capacity];
        java.util.Arrays.fill(partition, EMPTY);
        offset = new long[capacity];
        prev = new int[capacity];
        next = new int[capacity];
        mask = capacity - 1;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Adds the place as the newest; false (and nothing changes) when it is in the set already. */
    boolean add(TopicPartition tp, long at) {
        if (partition == null) {
            allocate(FIRST_SLOTS);
            partitions = new ArrayList<>(1);
        }
        int p = number(tp);
        if (p < 0) {
            p = partitions.size();
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
        }
        int i = slot(p, at);
        while (partition[i] != EMPTY) {
            if (partition[i] == p && offset[i] == at) {
                return false;
            }
            i = (i + 1) & mask;
        }
        append(i, p, at);
        size++;
        if (size * 2 > partition.length) {
            grow();
        }
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
        int i = slot(p, at);
        while (partition[i] != EMPTY) {
            if (partition[i] == p && offset[i] == at) {
                delete(i);
                return true;
            }
            i = (i + 1) & mask;
        }
        return false;
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

    /** The oldest place's partition; only when not empty. */
    TopicPartition oldestPartition() {
        return partitions.get(partition[head]);
    }

    /** The oldest place's offset; only when not empty. */
    long oldestOffset() {
        return offset[head];
    }

    /** Removes the oldest place; only when not empty. */
    void removeOldest() {
        delete(head);
    }

    void clear() {
        partition = null;
        offset = null;
        prev = null;
        next = null;
        numbers = null;
        partitions = null;
        size = 0;
        head = NONE;
        tail = NONE;
    }

    private int slot(int p, long at) {
        long h = at * 0x9E3779B97F4A7C15L + p;
        h ^= h >>> 32;
        h *= 0xD6E8FEB86659FD93L;
        h ^= h >>> 32;
        return (int) h & mask;
    }

    /** Takes the entry at {@code i} out of the order and the table, then shifts back the entries its slot held up. */
    private void delete(int i) {
        unlink(i);
        size--;
        int gap = i;
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            if (partition[j] == EMPTY) {
                break;
            }
            int home = slot(partition[j], offset[j]);
            // j's entry may move to the gap if its home slot is not in (gap, j], cyclically
            boolean stays = gap <= j ? gap < home && home <= j : gap < home || home <= j;
            if (!stays) {
                move(j, gap);
                gap = j;
            }
        }
        partition[gap] = EMPTY;
        if (size == 0 && partition.length > KEPT_SLOTS) {
            clear(); // a backlog drained: its slots go with it (the next place makes a small set again)
        }
    }

    private void unlink(int i) {
        relink(prev[i], next[i], next[i], prev[i]);
    }

    /** {@code before}'s next becomes {@code forward}, {@code after}'s previous {@code backward} (or head, tail). */
    private void relink(int before, int forward, int after, int backward) {
        if (before == NONE) {
            head = forward;
        } else {
            next[before] = forward;
        }
        if (after == NONE) {
            tail = backward;
        } else {
            prev[after] = backward;
        }
    }

    /** Moves the entry at {@code from} to the free slot {@code to}, keeping its place in the order. */
    private void move(int from, int to) {
        partition[to] = partition[from];
        offset[to] = offset[from];
        int before = prev[from];
        int after = next[from];
        prev[to] = before;
        next[to] = after;
        relink(before, to, after, to);
    }

    /** Twice the slots, the entries added again in their order. */
    private void grow() {
        int[] oldPartition = partition;
        long[] oldOffset = offset;
        int[] oldNext = next;
        int from = head;
        allocate(partition.length * 2);
        head = NONE;
        tail = NONE;
        for (int i = from; i != NONE; i = oldNext[i]) {
            int p = oldPartition[i];
            long at = oldOffset[i];
            int s = slot(p, at);
            while (partition[s] != EMPTY) {
                s = (s + 1) & mask;
            }
            append(s, p, at);
        }
    }

    /** Puts the place in the free slot {@code i}, as the newest. */
    private void append(int i, int p, long at) {
        partition[i] = p;
        offset[i] = at;
        prev[i] = tail;
        next[i] = NONE;
        if (tail == NONE) {
            head = i;
        } else {
            next[tail] = i;
        }
        tail = i;
    }
}
