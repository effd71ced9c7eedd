package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.ConsumerSpec;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/** The consumer handle; its methods hand their work to the subscription's mailbox. */
final class ConsumerState implements Consumer {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerState.class);

    final SubscriptionQueue queue;
    final ConsumerSpec spec;
    final io.omnibus.core.spi.DeliveryHandler handler;
    final Context home;
    // confined to queue.mailbox
    int credit;
    int unacked;
    volatile boolean closed;

    ConsumerState(SubscriptionQueue queue, ConsumerSpec spec, Context home) {
        this.queue = queue;
        this.spec = spec;
        this.handler = spec.handler();
        this.home = home;
    }

    boolean canPush() {
        return handler != null && credit > 0 && !closed;
    }

    /** Deliveries for another context, handed over together by {@link #flush} (confined to queue.mailbox). */
    private List<Delivery> outbox;

    /** Hands a delivery to the handler: now when on its context, else with the others of this dispatch pass. */
    void push(Delivery d) {
        if (home == null || Vertx.currentContext() == home) {
            handle(d);
        } else {
            if (outbox == null) {
                outbox = new java.util.ArrayList<>();
                queue.pass.flushLater(this);
            }
            outbox.add(d);
        }
    }

    /** One hop to the consumer's context for a run of deliveries, in order. */
    void flush() {
        List<Delivery> run = outbox;
        outbox = null;
        if (run != null) {
            home.runOnContext(v -> {
                for (Delivery d : run) {
                    handle(d);
                }
            });
        }
    }

    private void handle(Delivery d) {
        if (closed) {
            return; // the close returns it to the subscription
        }
        try {
            handler.onDelivery(d);
        } catch (RuntimeException e) {
            LOG.error("subscription {}: delivery handler of {} failed; the delivery stays unacknowledged",
                    queue.name, spec.owner(), e);
        }
    }

    /**
     * What the consumer's side asked of the subscription (acks, credit, nacks, pulls, close), in order, for its
     * context: one hop runs all that came meanwhile, under one dispatch pass ({@link SubscriptionQueue#together}), so
     * a client acknowledging a run of messages costs one hand-over and one pass, not two of each per message.
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> inbox = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicBoolean inboxScheduled = new java.util.concurrent.atomic.AtomicBoolean();

    private void toQueue(Runnable op) {
        if (queue.mailbox.isCurrent() && inbox.isEmpty()) {
            op.run(); // in the subscription's own task with nothing before it: now, as before
            return;
        }
        inbox.add(op);
        if (inboxScheduled.compareAndSet(false, true)) {
            queue.mailbox.execute(this::runInbox);
        }
    }

    private void runInbox() {
        inboxScheduled.set(false); // before polling: an op added from here on schedules another run
        queue.pass.together(() -> {
            Runnable op;
            while ((op = inbox.poll()) != null) {
                try {
                    op.run();
                } catch (RuntimeException e) { // one failing operation must not strand the ones behind it
                    LOG.error("subscription {}: a settlement of {} failed", queue.name, spec.owner(), e);
                }
            }
        });
    }

    @Override
    public void credit(int messages) {
        if (messages < 0) {
            throw new IllegalArgumentException("credit must not be negative: " + messages);
        }
        toQueue(() -> queue.credit(this, messages));
    }

    @Override
    public void ack(Delivery delivery) {
        toQueue(() -> queue.ack(this, delivery.tag()));
    }

    @Override
    public void ackAndCredit(Delivery delivery, int messages) {
        if (messages < 0) {
            throw new IllegalArgumentException("credit must not be negative: " + messages);
        }
        toQueue(() -> {
            queue.ack(this, delivery.tag());
            queue.credit(this, messages);
        });
    }

    @Override
    public void ackUpTo(Address address, int partition, long offset) {
        TopicPartition tp = new TopicPartition(address, partition);
        toQueue(() -> queue.ackUpTo(tp, offset));
    }

    @Override
    public void nack(Delivery delivery) {
        toQueue(() -> queue.nack(delivery.tag(), false));
    }

    @Override
    public void nackNotHere(Delivery delivery) {
        toQueue(() -> queue.nack(delivery.tag(), true));
    }

    @Override
    public void release(Delivery delivery) {
        toQueue(() -> queue.release(delivery.tag(), false));
    }

    @Override
    public void releaseNotHere(Delivery delivery) {
        toQueue(() -> queue.release(delivery.tag(), true));
    }

    @Override
    public void reject(Delivery delivery, String reason) {
        toQueue(() -> queue.reject(delivery.tag(), reason));
    }

    @Override
    public Future<List<Delivery>> pull(int max, Duration wait) {
        if (max < 1) {
            return Future.failedFuture(new IllegalArgumentException("max must be at least 1: " + max));
        }
        Promise<List<Delivery>> promise = Promise.promise();
        toQueue(() -> queue.pull(this, max, wait, promise));
        return promise.future();
    }

    @Override
    public Future<Integer> drain() {
        Promise<Integer> promise = Promise.promise();
        toQueue(() -> queue.drain(this, promise));
        return promise.future();
    }

    @Override
    public Future<Void> close() {
        Context caller = Vertx.currentContext();
        closed = true;
        Promise<Void> promise = Promise.promise();
        toQueue(() -> {
            queue.detach(this);
            promise.complete();
        });
        return Contexts.on(caller, promise.future());
    }
}
