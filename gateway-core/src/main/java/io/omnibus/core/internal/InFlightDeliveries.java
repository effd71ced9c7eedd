package io.omnibus.core.internal;

import io.omnibus.core.store.TopicPartition;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What a subscription's consumers hold and have not settled, by delivery tag in delivery order, and the sweep that
 * takes back what a consumer held past the ack timeout. Taking a delivery out (settled, given back, timed out, its
 * consumer gone) counts it off its consumer's unacknowledged and its key's outstanding deliveries. On the
 * subscription's mailbox.
 */
final class InFlightDeliveries {
    record InFlight(Pending pending, ConsumerState consumer, long deliveredAt) {
    }

    private final LinkedHashMap<Long, InFlight> byTag = new LinkedHashMap<>();
    private final Mailbox mailbox;
    private final Duration ackTimeout;
    private final KeyOwners keys;
    /** Given what the sweep took back from consumers that held it too long (never empty). */
    private final java.util.function.Consumer<List<Pending>> late;
    private long timerId = -1;

    InFlightDeliveries(Mailbox mailbox, Duration ackTimeout, KeyOwners keys,
                       java.util.function.Consumer<List<Pending>> late) {
        this.mailbox = mailbox;
        this.ackTimeout = ackTimeout;
        this.keys = keys;
        this.late = late;
    }

    /** {@code c} holds {@code p} under {@code tag} from now on ({@code now}: the wall clock, millis). */
    void add(long tag, Pending p, ConsumerState c, long now) {
        byTag.put(tag, new InFlight(p, c, now));
        c.unacked++;
        armTimer();
    }

    InFlight get(long tag) {
        return byTag.get(tag);
    }

    /** Takes the delivery {@code tag} out; null when it was settled already (ack timeout, consumer gone, cumulative ack). */
    InFlight remove(long tag) {
        InFlight f = byTag.remove(tag);
        if (f != null) {
            released(f);
        }
        return f;
    }

    /** Takes out the deliveries of {@code tp} up to {@code offset} (a cumulative acknowledgement); how many. */
    int removeUpTo(TopicPartition tp, long offset) {
        int n = 0;
        for (Iterator<InFlight> it = byTag.values().iterator(); it.hasNext(); ) {
            InFlight f = it.next();
            if (f.pending().msg.partition().equals(tp) && f.pending().msg.offset() <= offset) {
                it.remove();
                released(f);
                n++;
            }
        }
        return n;
    }

    /** Takes out everything {@code c} holds: its messages, in delivery order. */
    List<Pending> removeAll(ConsumerState c) {
        List<Pending> out = new ArrayList<>();
        for (Iterator<InFlight> it = byTag.values().iterator(); it.hasNext(); ) {
            InFlight f = it.next();
            if (f.consumer() == c) {
                it.remove();
                released(f);
                out.add(f.pending());
            }
        }
        return out;
    }

    /** The offsets held, per partition: what a purge leaves to the consumers holding them. */
    Map<TopicPartition, SortedSet<Long>> offsets() {
        Map<TopicPartition, SortedSet<Long>> out = new HashMap<>();
        for (InFlight f : byTag.values()) {
            out.computeIfAbsent(f.pending().msg.partition(), tp -> new TreeSet<>()).add(f.pending().msg.offset());
        }
        return out;
    }

    int size() {
        return byTag.size();
    }

    /** Forgets everything (the subscription was deleted); the consumers' counts are the caller's. */
    void clear() {
        byTag.clear();
    }

    void cancelTimer() {
        if (timerId >= 0) {
            mailbox.cancelTimer(timerId);
            timerId = -1;
        }
    }

    /** Sets the sweep again from the calling context (after its subscription moved), if one is running. */
    void rearmTimer() {
        if (timerId >= 0) {
            cancelTimer();
            armTimer();
        }
    }

    private void released(InFlight f) {
        f.consumer().unacked--;
        keys.done(f.pending().key);
    }

    /** The sweep runs four times per ack timeout while anything is held, and stops when nothing is. */
    private void armTimer() {
        if (timerId >= 0 || ackTimeout.isZero()) {
            return;
        }
        timerId = mailbox.setPeriodic(Math.max(10, ackTimeout.toMillis() / 4), id -> {
            if (id == timerId) { // not one cancelled after it fired
                sweep();
            }
        });
    }

    private void sweep() {
        long limit = System.currentTimeMillis() - ackTimeout.toMillis();
        List<Pending> taken = new ArrayList<>();
        for (Iterator<InFlight> it = byTag.values().iterator(); it.hasNext(); ) {
            InFlight f = it.next();
            if (f.deliveredAt() > limit) {
                break; // insertion order is delivery order
            }
            it.remove();
            released(f);
            taken.add(f.pending());
        }
        if (byTag.isEmpty()) {
            cancelTimer();
        }
        if (!taken.isEmpty()) {
            late.accept(taken);
        }
    }
}
