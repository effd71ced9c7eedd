package io.omnibus.core.internal;

import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.SubscriptionCursor;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A subscription's place in each partition log it reads (DESIGN.md §2, "a log with cursors").
 *
 * <p>Per partition: what is acknowledged (a {@link SubscriptionCursor}, journaled through the store when the
 * subscription is durable), and how far messages have been taken into memory ({@code readNext}). Everything
 * below {@code readNext} that is not acknowledged is in the subscription's memory (waiting, in flight, scheduled);
 * everything from {@code readNext} on is in the log only. A partition is <em>behind</em> when the log holds
 * messages past {@code readNext}: they are read back in batches when the subscription has room, so a slow or
 * absent consumer costs a cursor, not memory, and nothing durable is dropped for it.
 *
 * <p>Confined to the subscription's mailbox; store reads complete back through it.
 */
final class LogCursors {
    private static final Logger LOG = LoggerFactory.getLogger(LogCursors.class);
    /** Pause before reading again after a failed read. */
    private static final long RETRY_MILLIS = 1000;
    /**
     * A cursor with more separate acknowledged ranges than this is saved once per pass of its event loop, not at each
     * acknowledgement ({@link #ack}): a save copies every range, and consumers that acknowledge out of order
     * (competing consumers, each with its prefetch) leave thousands, which made such copies a tenth of the gateway's
     * CPU in MQTT → AMQP with four AMQP receivers (bench/README.md, 2026-12-07). A cursor with fewer is saved at once.
     */
    static final int SAVED_AT_ONCE_RANGES = 64;

    private final String subscription;
    private final boolean durable;
    private final MessageStore store;
    private final Mailbox mailbox;
    private final Map<TopicPartition, PartitionCursor> partitions = new HashMap<>();
    /** Partitions with messages in the log past readNext, served in turn. */
    private final ArrayDeque<PartitionCursor> behind = new ArrayDeque<>();
    private boolean reading;
    private boolean retryArmed;
    private boolean cleared;
    private long skippedByRetention;
    /** Cursors acknowledged since they were last saved, to be saved by {@link #saveUnsaved}, queued once. */
    private final List<PartitionCursor> unsaved = new ArrayList<>();
    private boolean saveQueued;

    private static final class PartitionCursor {
        final TopicPartition tp;
        final SubscriptionCursor acks;
        long readNext;
        /** Past the last offset routed here or read (what the backlog counts; the store may be further on). */
        long seen;
        boolean behind;
        /** In {@link #unsaved}: acknowledged since it was last saved. */
        boolean unsaved;

        PartitionCursor(TopicPartition tp, SubscriptionCursor acks, long readNext) {
            this.tp = tp;
            this.acks = acks;
            this.readNext = readNext;
            this.seen = readNext;
        }
    }

    LogCursors(String subscription, boolean durable, MessageStore store, Mailbox mailbox) {
        this.subscription = subscription;
        this.durable = durable;
        this.store = store;
        this.mailbox = mailbox;
    }

    /** A cursor read back from the store: everything past its cumulative point is in the log. */
    void restore(TopicPartition tp, CursorState state) {
        PartitionCursor pc = new PartitionCursor(tp, SubscriptionCursor.from(state), state.ackedBelow());
        pc.seen = Math.max(pc.seen, store.endOffset(tp));
        partitions.put(tp, pc);
        markBehind(pc);
    }

    /** A partition that began after the subscription (it had no cursor): all of it is the subscription's. */
    void discover(TopicPartition tp, long from) {
        if (partitions.containsKey(tp)) {
            return;
        }
        PartitionCursor pc = new PartitionCursor(tp, new SubscriptionCursor(from), from);
        pc.seen = Math.max(pc.seen, store.endOffset(tp));
        partitions.put(tp, pc);
        persist(pc);
        markBehind(pc);
    }

    /**
     * The log of {@code tp} grew by appends this node did not route (another node's): what is past this cursor's
     * last routed message up to the log's end is read back like a backlog. A partition this subscription has no
     * cursor for (nothing was routed to it there yet, or this node did not know the partition) is read from
     * {@code from}, where this node's appends had ended: what the other node appended came after the subscription.
     */
    void grew(TopicPartition tp, long from) {
        PartitionCursor pc = partitions.get(tp);
        if (pc == null) {
            discover(tp, Math.max(from, store.startOffset(tp)));
            return;
        }
        long end = store.endOffset(tp);
        if (end > pc.seen) {
            pc.seen = end;
            markBehind(pc);
        }
    }

    boolean knows(TopicPartition tp) {
        return partitions.containsKey(tp);
    }

    /**
     * A message routed to the subscription as it was stored. True when it is taken into memory now; false when it
     * is there already, acknowledged, or stays in the log to be read back ({@code room} false, or earlier messages
     * of its partition are still in the log).
     */
    boolean admit(StoredMessage m, boolean room) {
        PartitionCursor pc = partitions.get(m.partition());
        if (pc == null) { // the first message of this partition since the subscription began
            pc = new PartitionCursor(m.partition(), new SubscriptionCursor(m.offset()), m.offset());
            partitions.put(m.partition(), pc);
            persist(pc);
        }
        long offset = m.offset();
        pc.seen = Math.max(pc.seen, offset + 1);
        if (offset < pc.readNext) {
            return false;
        }
        if (pc.behind || offset > pc.readNext || !room) {
            markBehind(pc);
            return false;
        }
        pc.readNext = offset + 1;
        return !pc.acks.isAcked(offset);
    }

    private void markBehind(PartitionCursor pc) {
        if (!pc.behind) {
            pc.behind = true;
            behind.addLast(pc);
        }
    }

    /** Whether a read from the log is under way. */
    boolean isReading() {
        return reading;
    }

    /** Whether messages wait in the log and no read is under way. */
    boolean canRead() {
        return !behind.isEmpty() && !reading && !retryArmed && !cleared;
    }

    /**
     * Reads up to {@code max} messages of the next partition that is behind; {@code sink} gets (on the
     * subscription's mailbox) those not acknowledged, in offset order, and {@code again} runs when reading could go
     * on (after the batch, or after a failed read's pause).
     */
    void read(int max, Consumer<List<StoredMessage>> sink, Runnable again) {
        if (reading) {
            return;
        }
        PartitionCursor pc;
        while ((pc = behind.peekFirst()) != null) { // partitions that caught up meanwhile are routed to again
            skipRetained(pc);
            pc.readNext = Math.max(pc.readNext, pc.acks.ackedBelow()); // acknowledged (dropped, committed): not read
            if (pc.readNext < pc.seen) {
                break;
            }
            pc.behind = false;
            behind.pollFirst();
        }
        if (pc == null) {
            return;
        }
        PartitionCursor reads = pc;
        reading = true;
        long from = reads.readNext;
        // only what was routed here: a message stored but not yet routed may still fail, or be rolled back
        int want = (int) Math.min(max, reads.seen - from);
        Future<List<StoredMessage>> read;
        try {
            read = store.read(reads.tp, from, want);
        } catch (RuntimeException e) { // the store is closing
            read = Future.failedFuture(e);
        }
        read.onComplete(ar -> mailbox.execute(() -> {
            reading = false;
            if (cleared) {
                return;
            }
            if (partitions.get(reads.tp) != reads) {
                again.run(); // the cursor was set anew meanwhile: it is read from its new place
                return;
            }
            if (ar.failed()) {
                LOG.warn("subscription {}: reading {} from offset {} failed, trying again in {} ms: {}", subscription,
                        reads.tp, from, RETRY_MILLIS, ar.cause().toString());
                retryArmed = true;
                mailbox.setTimer(RETRY_MILLIS, t -> {
                    retryArmed = false;
                    again.run();
                });
                return;
            }
            List<StoredMessage> batch = ar.result();
            List<StoredMessage> out = new ArrayList<>(batch.size());
            for (StoredMessage m : batch) {
                if (m.offset() >= reads.readNext && m.offset() < reads.seen) {
                    if (m.offset() > reads.readNext) {
                        // offsets the log holds no message at (a Kafka-backed store's transaction markers): nothing
                        // to deliver there, so the cumulative point may pass them. Saved with the next ack, not now:
                        // a save here could overtake a transaction's commit of acks with an older state
                        reads.acks.ackRange(reads.readNext, m.offset());
                    }
                    reads.readNext = m.offset() + 1;
                    if (!reads.acks.isAcked(m.offset())) {
                        out.add(m);
                    }
                }
            }
            if (batch.isEmpty() && reads.readNext == from) {
                skipRetained(reads);
                if (reads.readNext == from) {
                    // nothing readable here although the index says there is: records it skips (corrupt ones)
                    reads.readNext = Math.min(reads.seen, from + want);
                }
            }
            // round-robin over partitions that are behind: one busy partition does not starve the others
            behind.remove(reads);
            if (reads.readNext >= reads.seen) {
                reads.behind = false; // later messages are routed here as they are stored
            } else {
                behind.addLast(reads);
            }
            sink.accept(out);
            again.run();
        }));
    }

    /** Moves past what retention removed before this subscription got it: counted and logged, never silent. */
    private void skipRetained(PartitionCursor pc) {
        long start = store.startOffset(pc.tp);
        if (start <= pc.readNext) {
            return;
        }
        long lost = 0;
        for (long o = pc.readNext; o < start && lost < Long.MAX_VALUE; o++) {
            if (!pc.acks.isAcked(o)) {
                lost++;
            }
            if (o - pc.readNext > 1_000_000) { // a huge gap: count it whole rather than walk it
                lost += start - o - 1;
                break;
            }
        }
        if (lost > 0) {
            skippedByRetention += lost;
            LOG.warn("subscription {}: retention removed {} message(s) of {} it had not acknowledged (offsets {} to {})",
                    subscription, lost, pc.tp, pc.readNext, start - 1);
        }
        pc.acks.ackUpTo(start - 1);
        pc.readNext = start;
        persist(pc);
    }

    boolean isAcked(TopicPartition tp, long offset) {
        PartitionCursor pc = partitions.get(tp);
        return pc != null && pc.acks.isAcked(offset);
    }

    /** Acknowledges one offset; false when it was acknowledged already. */
    boolean ack(TopicPartition tp, long offset) {
        PartitionCursor pc = partitions.get(tp);
        if (pc == null || !pc.acks.ack(offset)) {
            return false;
        }
        if (!durable || cleared || pc.acks.rangeCount() <= SAVED_AT_ONCE_RANGES) {
            persist(pc);
        } else {
            saveSoon(pc);
        }
        return true;
    }

    /** Saves {@code pc} once the event loop has done the work at hand (the acknowledgements of one read, say). */
    private void saveSoon(PartitionCursor pc) {
        if (!pc.unsaved) {
            pc.unsaved = true;
            unsaved.add(pc);
        }
        if (!saveQueued) {
            saveQueued = true;
            try {
                mailbox.later(this::saveUnsaved);
            } catch (RuntimeException refused) { // the event loop is shutting down: saved now instead
                saveQueued = false;
                persist(pc);
            }
        }
    }

    /**
     * Saves the cursors acknowledged since they were last saved: queued by {@link #saveSoon}, and run by the broker's
     * drain before it flushes the store, so that a stop writes every acknowledgement taken before it.
     */
    void saveUnsaved() {
        saveQueued = false;
        for (PartitionCursor pc : unsaved) {
            if (pc.unsaved && partitions.get(pc.tp) == pc) { // not one a seek or a clear has replaced since
                persist(pc);
            }
            pc.unsaved = false;
        }
        unsaved.clear();
    }

    /** Acknowledges everything up to and including {@code offset}: what is still in the log is not read. */
    void ackUpTo(TopicPartition tp, long offset) {
        PartitionCursor pc = partitions.get(tp);
        if (pc == null) {
            pc = new PartitionCursor(tp, new SubscriptionCursor(offset + 1), offset + 1);
            partitions.put(tp, pc);
        }
        pc.acks.ackUpTo(offset);
        pc.readNext = Math.max(pc.readNext, offset + 1);
        persist(pc);
    }

    /**
     * Sets the cursor to exactly {@code next} (everything before it acknowledged, nothing after): a Kafka or RocketMQ
     * group's committed offset, which may also move back. Only for subscriptions that hold nothing in memory.
     */
    void seek(TopicPartition tp, long next) {
        PartitionCursor pc = partitions.get(tp);
        if (pc != null && pc.acks.ackedBelow() == next && pc.acks.rangeCount() == 0) {
            return;
        }
        if (pc != null) {
            behind.remove(pc);
        }
        long seen = pc == null ? 0 : pc.seen;
        pc = new PartitionCursor(tp, new SubscriptionCursor(next), next);
        pc.seen = Math.max(next, Math.max(seen, store.endOffset(tp)));
        partitions.put(tp, pc);
        persist(pc);
        markBehind(pc);
    }

    /**
     * Acknowledges, unread, everything of every partition up to its end in the store, but the offsets in
     * {@code keep} (deliveries in flight, by partition): an operator's purge.
     */
    void purge(Map<TopicPartition, java.util.SortedSet<Long>> keep) {
        for (PartitionCursor pc : partitions.values()) {
            long end = Math.max(pc.seen, store.endOffset(pc.tp));
            long from = pc.acks.ackedBelow();
            for (long offset : keep.getOrDefault(pc.tp, java.util.Collections.emptySortedSet())) {
                if (offset >= from) {
                    pc.acks.ackRange(from, offset);
                    from = offset + 1;
                }
            }
            pc.acks.ackRange(from, end);
            pc.readNext = Math.max(pc.readNext, end);
            pc.behind = false;
            behind.remove(pc);
            persist(pc);
        }
    }

    /**
     * Messages in the log past what is in memory: the part of the backlog that costs no memory. Counted up to what
     * was routed here: messages stored but still on their way are not counted twice.
     */
    long lag() {
        long lag = 0;
        for (PartitionCursor pc : behind) {
            long from = Math.max(pc.readNext, pc.acks.ackedBelow());
            lag += Math.max(0, pc.seen - from - pc.acks.ackedFrom(from));
        }
        return lag;
    }

    long skippedByRetention() {
        return skippedByRetention;
    }

    void clear() {
        cleared = true;
        partitions.clear();
        behind.clear();
    }

    /**
     * The state a partition's cursor would have with {@code offsets} acknowledged too, without acknowledging them:
     * what a transaction's commit writes in its atomic group. Null when the partition has no cursor.
     */
    CursorState prospective(TopicPartition tp, List<Long> offsets) {
        PartitionCursor pc = partitions.get(tp);
        if (pc == null) {
            return null;
        }
        if (pc.unsaved) {
            // saved before the commit's group is queued: a save after it would write a state without its offsets
            persist(pc);
        }
        SubscriptionCursor copy = SubscriptionCursor.from(pc.acks.snapshot());
        for (long offset : offsets) {
            copy.ack(offset);
        }
        return copy.snapshot();
    }

    private void persist(PartitionCursor pc) {
        pc.unsaved = false; // saved whole: what saveSoon queued is in it
        if (durable && !cleared) {
            store.saveCursor(subscription, pc.tp, pc.acks.snapshot());
        }
    }
}
