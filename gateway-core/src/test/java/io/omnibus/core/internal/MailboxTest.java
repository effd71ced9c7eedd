package io.omnibus.core.internal;

import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@Timeout(60)
class MailboxTest {
    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));

    @AfterEach
    void close() {
        await(vertx.close());
    }

    /** Two contexts on the two event loops. */
    private List<Context> twoLoops() {
        List<Context> shards = await(Shards.start(vertx, 2)).all();
        assertThat(Mailbox.sameLoop(shards.get(0), shards.get(1))).isFalse();
        return shards;
    }

    private static Thread threadOf(Context ctx) {
        Promise<Thread> t = Promise.promise();
        ctx.runOnContext(v -> t.complete(Thread.currentThread()));
        return await(t.future());
    }

    @Test
    void tasksFromManyThreadsRunOneAtATimeInTheirOrderWhileTheMailboxMovesBackAndForth() throws Exception {
        List<Context> loops = twoLoops();
        List<Thread> loopThreads = List.of(threadOf(loops.get(0)), threadOf(loops.get(1)));
        Mailbox mailbox = new Mailbox("test", vertx, loops.get(0));
        int producers = 4;
        int each = 20_000;
        // plain lists: only the mailbox's one-at-a-time rule keeps them sound
        List<List<Integer>> seen = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            seen.add(new ArrayList<>());
        }
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger misplaced = new AtomicInteger();
        AtomicInteger moves = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        int[] bound = {0};
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    int seq = i;
                    mailbox.execute(() -> {
                        if (inside.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        if (!mailbox.isCurrent() || Thread.currentThread() != loopThreads.get(bound[0])) {
                            misplaced.incrementAndGet(); // a task after a move ran on the loop it left
                        }
                        seen.get(producer).add(seq);
                        if (producer == 0 && seq % 500 == 499) {
                            bound[0] = 1 - bound[0];
                            mailbox.moveTo(loops.get(bound[0]));
                            moves.incrementAndGet();
                        }
                        inside.decrementAndGet();
                        done.incrementAndGet();
                    });
                }
            });
            threads.add(t);
            t.start();
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        await().until(() -> done.get() == producers * each);
        assertThat(overlaps.get()).isZero();
        assertThat(misplaced.get()).isZero();
        assertThat(moves.get()).isEqualTo(each / 500);
        Promise<List<List<Integer>>> read = Promise.promise();
        mailbox.execute(() -> read.complete(seen));
        for (List<Integer> one : await(read.future())) {
            assertThat(one).hasSize(each).isSorted().doesNotHaveDuplicates();
        }
    }

    @Test
    void aTaskGivenFromTheMailboxsOwnTaskRunsAtOnceAndTimersRunInTheMailbox() {
        List<Context> loops = twoLoops();
        Mailbox mailbox = new Mailbox("test", vertx, loops.get(0));
        Promise<List<String>> order = Promise.promise();
        mailbox.execute(() -> {
            List<String> steps = new ArrayList<>();
            mailbox.run(() -> steps.add("nested"));
            steps.add("after");
            mailbox.moveTo(loops.get(1));
            // set on the loop it just left: the handler runs in the mailbox, on the loop it moved to
            mailbox.setTimer(1, id -> {
                steps.add(mailbox.isCurrent() && Mailbox.sameLoop(Vertx.currentContext(), loops.get(1)) ? "timer here"
                        : "timer elsewhere");
                order.complete(steps);
            });
        });
        assertThat(await(order.future())).containsExactly("nested", "after", "timer here");
    }

    @Test
    void aTaskGivenOnItsContextWithNothingQueuedRunsAtOnce() {
        List<Context> loops = twoLoops();
        Mailbox mailbox = new Mailbox("test", vertx, loops.get(0));
        Promise<String> seen = Promise.promise();
        Promise<Void> putOff = Promise.promise();
        loops.get(0).runOnContext(v -> {
            boolean[] ran = {false, false};
            mailbox.run(() -> {
                ran[0] = mailbox.isCurrent();
                mailbox.execute(() -> { // put off by the task: not run within the call, but after it
                    ran[1] = true;
                    putOff.complete();
                });
            });
            seen.complete((ran[0] ? "ran within the call" : "queued") + (ran[1] ? ", and what it put off too" : ""));
        });
        assertThat(await(seen.future())).isEqualTo("ran within the call");
        await(putOff.future());
        // from another context on the same loop (a duplicate of the mailbox's) it is queued, as a Vert.x context
        // queues another's calls; "within the call" is judged by the calling thread, as the turn that ran the put-off
        // task may still be on its way out and may take the new task itself
        Context other = ((ContextInternal) loops.get(0)).duplicate();
        Promise<String> elsewhere = Promise.promise();
        Promise<Void> done = Promise.promise();
        other.runOnContext(v -> {
            Thread caller = Thread.currentThread();
            boolean[] inCall = {true};
            boolean[] ranWithin = {false};
            mailbox.run(() -> {
                ranWithin[0] = Thread.currentThread() == caller && inCall[0];
                done.complete();
            });
            inCall[0] = false;
            elsewhere.complete(ranWithin[0] ? "ran within the call" : "queued");
        });
        assertThat(await(elsewhere.future())).isEqualTo("queued");
        await(done.future());
    }

    @Test
    void theLoopItLeftNoLongerRunsItsTasksInline() {
        List<Context> loops = twoLoops();
        Mailbox mailbox = new Mailbox("test", vertx, loops.get(0));
        Promise<Void> moved = Promise.promise();
        mailbox.execute(() -> {
            mailbox.moveTo(loops.get(1));
            moved.complete();
        });
        await(moved.future());
        // on the old loop's thread, outside any task: a task given with run() is queued and runs on the new loop
        Promise<String> where = Promise.promise();
        loops.get(0).runOnContext(v -> {
            boolean current = mailbox.isCurrent();
            mailbox.run(() -> where.complete((current ? "current" : "not current") + ", then ran "
                    + (Mailbox.sameLoop(Vertx.currentContext(), loops.get(1)) ? "on the new loop" : "elsewhere")));
        });
        assertThat(await(where.future())).isEqualTo("not current, then ran on the new loop");
    }

    /**
     * The window a timer's id check is for: a {@link DueQueue}'s timer set on one loop fires there after the mailbox
     * moved to the other loop, so its task waits in the mailbox while the task running there cancels it and arms a
     * new one; the stale task then runs and must do nothing (no item handed on, no "after", the new timer kept).
     */
    @Test
    void aDueQueueTimerThatFiredAfterItWasCancelledDoesNothing() {
        List<Context> loops = twoLoops();
        Mailbox mailbox = new Mailbox("test", vertx, loops.get(0));
        List<Long> handed = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicInteger afters = new AtomicInteger();
        DueQueue<Long> due = new DueQueue<>(mailbox, Long::compare, at -> at, handed::add, afters::incrementAndGet);
        Promise<String> seen = Promise.promise();
        long later = System.currentTimeMillis() + 60_000;
        mailbox.execute(() -> {
            due.add(System.currentTimeMillis() + 50); // its timer is set on this loop
            mailbox.moveTo(loops.get(1));
            mailbox.execute(() -> { // the next task, on the other loop, queued before the timer can fire
                // the timer fires on the loop left, and its task queues behind this one
                await().atMost(java.time.Duration.ofSeconds(10)).until(() -> mailbox.queued() > 0);
                due.clear(); // too late to stop it
                due.add(later);
                mailbox.execute(() -> seen.complete("handed " + handed + ", after " + afters.get() + ", waiting "
                        + due.all())); // runs after the stale task
            });
        });
        assertThat(await(seen.future())).isEqualTo("handed [], after 0, waiting [" + later + "]");
    }

    @Test
    void confinedCallsFromOutsideItsTasksFail() {
        Mailbox mailbox = new Mailbox("test", vertx, twoLoops().get(0));
        assertThatThrownBy(() -> mailbox.check("the state")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("confined");
        assertThatThrownBy(() -> mailbox.moveTo(vertx.getOrCreateContext())).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aFailingTaskDoesNotStrandTheOnesBehindIt() {
        Mailbox mailbox = new Mailbox("test", vertx, twoLoops().get(0));
        Promise<Void> after = Promise.promise();
        mailbox.execute(() -> {
            throw new IllegalStateException("boom (expected by the test)");
        });
        mailbox.execute(after::complete);
        await(after.future());
    }
}
