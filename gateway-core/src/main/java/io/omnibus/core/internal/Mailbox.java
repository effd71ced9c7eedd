package io.omnibus.core.internal;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/**
 * The one queue a subscription's work runs from: tasks run one at a time, in the order they were given, on the
 * broker context the mailbox is bound to ({@link #target}); and the mailbox can be bound to another context between
 * two tasks ({@link #moveTo}), which a plain Vert.x context cannot. A subscription moves so to the event loop of its
 * consumer: deliveries and acknowledgements are then tasks on one thread instead of wake-ups of another.
 *
 * <p>Everything that touches the subscription's state goes through here: calls from other contexts, store reads
 * completing, and timers (which fire on the context that set them, perhaps one the mailbox has left since, and hand
 * their work back here). A task given while a task of this mailbox runs on the calling thread runs at once
 * ({@link #run}), as a Vert.x context runs its own tasks' nested calls.
 */
final class Mailbox {
    private static final Logger LOG = LoggerFactory.getLogger(Mailbox.class);
    /** Tasks run in one turn before the rest is queued behind the event loop's other work. */
    private static final int TURN = 1024;

    private final String owner;
    private final Vertx vertx;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Set while a turn is queued on the target or running: at most one thread runs the tasks. */
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Written only by a task of this mailbox ({@link #moveTo}); read by callers choosing to run now or queue. */
    private volatile Context target;
    /** The thread running a turn now (null: none); each thread reads its own writes, so {@link #isCurrent} holds. */
    private Thread runner;

    Mailbox(String owner, Vertx vertx, Context target) {
        this.owner = owner;
        this.vertx = vertx;
        this.target = target;
    }

    /**
     * Runs {@code task} at once when called from this mailbox's own task, or from its context with nothing queued or
     * running (as a Vert.x context runs a call made on it; a partition and a subscription on one broker context hand
     * runs over so); else as a task behind the ones given.
     */
    void run(Runnable task) {
        if (isCurrent()) {
            task.run();
        } else if (Vertx.currentContext() == target && ((ContextInternal) target).nettyEventLoop().inEventLoop()
                && tasks.isEmpty() && scheduled.compareAndSet(false, true)) {
            runNow(task);
        } else {
            execute(task);
        }
    }

    /**
     * Runs {@code task} alone, now, with the flag won (what it or others queue meanwhile runs in a turn of its own,
     * later: put-off work stays put off). A failure goes to the caller, as a call on a context's own thread does.
     */
    private void runNow(Runnable task) {
        Context bound = target;
        runner = Thread.currentThread();
        try {
            task.run();
        } finally {
            runner = null;
            if (target != bound || !tasks.isEmpty()) {
                schedule(); // the flag stays set
            } else {
                release();
            }
        }
    }

    /** Queues {@code task} behind the ones given before it. */
    void execute(Runnable task) {
        tasks.add(task);
        if (scheduled.compareAndSet(false, true)) {
            schedule();
        }
    }

    /**
     * Runs {@code task} as a task of this mailbox once its context's event loop has done the work at hand (the rest
     * of a read, the tasks queued before): behind the event loop's queue, not the mailbox's, so the tasks given
     * meanwhile still run at once ({@link #run}).
     */
    void later(Runnable task) {
        target.runOnContext(v -> run(task));
    }

    /** Whether the calling thread is running one of this mailbox's tasks. */
    boolean isCurrent() {
        return runner == Thread.currentThread();
    }

    /** Fails fast when confined state is touched from outside this mailbox's tasks. */
    void check(String what) {
        if (!isCurrent()) {
            throw new IllegalStateException(what + " is confined to its mailbox; called from "
                    + Thread.currentThread().getName());
        }
    }

    Context target() {
        return target;
    }

    /** The tasks queued and not yet run (for tests). */
    int queued() {
        return tasks.size();
    }

    /**
     * Binds the mailbox to {@code next} (from one of its own tasks): the tasks after the running one run there, in
     * the same order, and none runs on the old context once the running one returns.
     */
    void moveTo(Context next) {
        check("moving " + owner);
        target = next;
    }

    /** Whether {@code a} and {@code b} run on one event loop thread. */
    static boolean sameLoop(Context a, Context b) {
        return a instanceof ContextInternal x && b instanceof ContextInternal y && x.nettyEventLoop() == y.nettyEventLoop();
    }

    /** A one-shot timer whose handler runs as a task of this mailbox (the id is the timer's, for cancelling). */
    long setTimer(long delayMillis, LongConsumer handler) {
        return vertx.setTimer(delayMillis, id -> run(() -> handler.accept(id)));
    }

    /** A periodic timer whose handler runs as a task of this mailbox. */
    long setPeriodic(long periodMillis, LongConsumer handler) {
        return vertx.setPeriodic(periodMillis, id -> run(() -> handler.accept(id)));
    }

    void cancelTimer(long id) {
        vertx.cancelTimer(id);
    }

    private void schedule() {
        try {
            target.runOnContext(v -> turn());
        } catch (RuntimeException e) { // the event loop is shutting down: nothing more runs here
            LOG.error("{}: its context refused its tasks ({} waiting)", owner, tasks.size(), e);
            scheduled.set(false);
        }
    }

    private void turn() {
        Context bound = target;
        runner = Thread.currentThread();
        boolean moved = false;
        try {
            for (int n = 0; n < TURN && !moved; n++) {
                Runnable task = tasks.poll();
                if (task == null) {
                    break;
                }
                try {
                    task.run();
                } catch (Throwable e) { // one failing task must not strand the ones behind it
                    LOG.error("{}: a task failed", owner, e);
                }
                moved = target != bound;
            }
        } finally {
            runner = null; // before the next turn can start on another thread
        }
        if (moved || !tasks.isEmpty()) {
            schedule(); // on the new context, or after the loop's other work; the flag stays set
            return;
        }
        release();
    }

    private void release() {
        scheduled.set(false);
        // a task added after the queue was seen empty, but before the flag was cleared, scheduled nothing
        if (!tasks.isEmpty() && scheduled.compareAndSet(false, true)) {
            schedule();
        }
    }
}
