package io.omnibus.core.store.file;

import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.TopicPartition;
import io.omnibus.core.store.file.WriteOps.Change;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The file store's cursor journal: the latest state saved per durable subscription and partition, not written yet.
 * The first save after a take queues one CURSORS control to the writer, which takes every state saved by then
 * ({@link #changes}) the fsync interval after it dequeues that control, or sooner: ahead of the next state change or
 * transaction it writes (in queue order with those), and at every flush, checkpoint and close. Saves meanwhile only
 * replace states, so one record per cursor carries the acknowledgements of that while. No caller waits for a save:
 * the states written never make an fsync of their own run at once, but are made durable by the next fsync the writer
 * runs anyway, at the latest the fsync interval after they were written (after a crash, what was acknowledged since
 * the last durable state is delivered again, as at-least-once allows). A written state is applied to the
 * subscription as the next checkpoint keeps it. Saved from any thread; {@link #changes} on the writer's.
 */
final class CursorJournal {
    private record Key(String subscription, TopicPartition tp) {
    }

    private final StoreState state;
    /** Queues the CURSORS control. */
    private final Runnable queueWrite;
    private final ConcurrentHashMap<Key, CursorState> saved = new ConcurrentHashMap<>();
    /** A CURSORS control is queued: saves until the writer takes them only replace states. */
    private final AtomicBoolean queued = new AtomicBoolean();

    CursorJournal(StoreState state, Runnable queueWrite) {
        this.state = state;
        this.queueWrite = queueWrite;
    }

    void save(String subscription, TopicPartition tp, CursorState cursor) {
        saved.put(new Key(subscription, tp), cursor);
        if (queued.compareAndSet(false, true)) {
            queueWrite.run();
        }
    }

    /** The subscription is deleted: its states saved and not written go. */
    void forget(String subscription) {
        saved.keySet().removeIf(k -> k.subscription().equals(subscription));
    }

    /** Writer thread: the journal records of the states saved since the last call. */
    List<Change> changes() {
        queued.set(false); // saves from now on queue another round
        List<Change> out = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (Key k : List.copyOf(saved.keySet())) {
            CursorState c = saved.remove(k);
            if (c != null) {
                out.add(new Change(record(k.subscription(), k.tp(), c, now), () -> apply(k.subscription(), k.tp(), c),
                        true)); // nobody waits: durable with the next fsync
            }
        }
        return out;
    }

    /** The journal record of one state, applied once written (part of an atomic append, which waits for it). */
    Change change(String subscription, TopicPartition tp, CursorState cursor, long now) {
        return new Change(record(subscription, tp, cursor, now), () -> apply(subscription, tp, cursor));
    }

    private static java.nio.ByteBuffer record(String subscription, TopicPartition tp, CursorState cursor, long now) {
        return Record.encodeState(StoreState.cursorPut(subscription, tp, cursor), now);
    }

    /** Once written: the cursor as the next checkpoint keeps it. */
    private void apply(String subscription, TopicPartition tp, CursorState cursor) {
        StoreState.Durable d = state.subscriptions.get(subscription);
        if (d != null) {
            d.cursors().put(tp, cursor);
        }
    }
}
