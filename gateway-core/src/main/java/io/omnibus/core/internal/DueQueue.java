package io.omnibus.core.internal;


import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;

/**
 * Items not to be handed on before a time (a subscription's deliver-at messages and redeliveries waiting out their
 * backoff), earliest first, with one timer for the earliest. When items come due they go to {@code due}, then
 * {@code after} runs once. Confined to the owner's mailbox (the timer's handler runs as one of its tasks; one that
 * fires after it was cancelled, its task still queued, does nothing).
 */
final class DueQueue<T> {
    private final Mailbox mailbox;
    private final PriorityQueue<T> queue;
    private final ToLongFunction<T> readyAt;
    private final Consumer<T> due;
    private final Runnable after;
    private long timerId = -1;
    private long timerAt = Long.MAX_VALUE;

    DueQueue(Mailbox mailbox, Comparator<T> order, ToLongFunction<T> readyAt, Consumer<T> due, Runnable after) {
        this.mailbox = mailbox;
        this.queue = new PriorityQueue<>(order);
        this.readyAt = readyAt;
        this.due = due;
        this.after = after;
    }

    void add(T item) {
        queue.add(item);
        arm();
    }

    int size() {
        return queue.size();
    }

    /** The items, in no particular order (a view: not to be changed). */
    java.util.Collection<T> all() {
        return java.util.Collections.unmodifiableCollection(queue);
    }

    /** Forgets every item and the timer. */
    void clear() {
        queue.clear();
        cancel();
    }

    void cancel() {
        if (timerId >= 0) {
            mailbox.cancelTimer(timerId);
            timerId = -1;
            timerAt = Long.MAX_VALUE;
        }
    }

    private void arm() {
        T head = queue.peek();
        if (head == null) {
            cancel();
            return;
        }
        long at = readyAt.applyAsLong(head);
        if (timerId >= 0 && timerAt <= at) {
            return;
        }
        cancel();
        timerAt = at;
        timerId = mailbox.setTimer(Math.max(1, at - System.currentTimeMillis()), id -> {
            if (id != timerId) {
                return; // cancelled after it fired, before its task ran
            }
            timerId = -1;
            timerAt = Long.MAX_VALUE;
            long now = System.currentTimeMillis();
            while (!queue.isEmpty() && readyAt.applyAsLong(queue.peek()) <= now) {
                due.accept(queue.poll());
            }
            arm();
            after.run();
        });
    }
}
