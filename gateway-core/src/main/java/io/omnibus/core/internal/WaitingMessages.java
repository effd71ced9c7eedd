package io.omnibus.core.internal;


import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The messages a subscription took into memory and has not handed out, in four lines: {@code returned} (given back,
 * served first, in the order they were first taken), {@code fresh} (first attempts, in log order), {@code parked}
 * (no consumer with credit takes them: back in {@code returned} when one that may attaches or gets credit) and
 * {@code scheduled} (not before a time: deliver-at, redelivery backoff; into {@code returned} when due). On the
 * subscription's mailbox.
 */
final class WaitingMessages {
    private static final Comparator<Pending> BY_READY_AT =
            Comparator.<Pending>comparingLong(p -> p.readyAt).thenComparingLong(p -> p.seq);

    private final ArrayDeque<Pending> fresh = new ArrayDeque<>();
    private final List<Pending> parked = new ArrayList<>(0);
    private final TreeMap<Long, Pending> returned = new TreeMap<>();
    private final DueQueue<Pending> scheduled;

    /** {@code due} runs after scheduled messages became ready. */
    WaitingMessages(Mailbox mailbox, Runnable due) {
        this.scheduled = new DueQueue<>(mailbox, BY_READY_AT, p -> p.readyAt, this::giveBack, due);
    }

    void addFresh(Pending p) {
        fresh.addLast(p);
    }

    /** Back in line, before the fresh ones, by the order it was first taken in. */
    void giveBack(Pending p) {
        returned.put(p.seq, p);
    }

    /** In line at {@code p.readyAt}. */
    void schedule(Pending p) {
        scheduled.add(p);
    }

    /** Set aside: no consumer with credit takes it now. */
    void park(Pending p) {
        parked.add(p);
    }

    /** The parked messages {@code c} takes go back in line. */
    void unpark(ConsumerState c) {
        if (!parked.isEmpty()) {
            parked.removeIf(p -> {
                if (!ConsumerRing.takes(c, p)) {
                    return false;
                }
                giveBack(p);
                return true;
            });
        }
    }

    /** The next to go out (returned before fresh), or null. */
    Pending peek() {
        Map.Entry<Long, Pending> r = returned.firstEntry();
        return r != null ? r.getValue() : fresh.peekFirst();
    }

    Pending poll() {
        Map.Entry<Long, Pending> r = returned.pollFirstEntry();
        return r != null ? r.getValue() : fresh.pollFirst();
    }

    /** The returned ones in order, for a key-ordered pass (which may remove what it hands out). */
    Iterator<Pending> returnedInOrder() {
        return returned.values().iterator();
    }

    /** The first fresh one, taken out, or null. */
    Pending pollFresh() {
        return fresh.pollFirst();
    }

    boolean hasFresh() {
        return !fresh.isEmpty();
    }

    /** Puts {@code skipped} (taken from the front, in order) back at the front of the fresh line, in order. */
    void unpollFresh(List<Pending> skipped) {
        for (int i = skipped.size() - 1; i >= 0; i--) {
            fresh.addFirst(skipped.get(i));
        }
    }

    /** Those ready to go (returned, fresh, parked): what read-ahead bounds. */
    int ready() {
        return fresh.size() + returned.size() + parked.size();
    }

    int scheduledCount() {
        return scheduled.size();
    }

    int count() {
        return ready() + scheduled.size();
    }

    /** Every message waiting, taken out (the scheduled ones' timer with them). */
    List<Pending> takeAll() {
        List<Pending> all = new ArrayList<>(count());
        all.addAll(fresh);
        all.addAll(parked);
        all.addAll(returned.values());
        all.addAll(scheduled.all());
        fresh.clear();
        parked.clear();
        returned.clear();
        scheduled.clear();
        return all;
    }

    /** Forgets everything: the subscription was deleted. */
    void clear() {
        takeAll();
    }
}
