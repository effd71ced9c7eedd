package io.omnibus.core.internal;

import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.BrokerException.Reason;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.PublishResult;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One partition of a {@link BrokerTopic}: appends to the store in call order, then routes what was stored to the
 * subscriptions. Confined to its broker context ({@code ctx}).
 */
final class BrokerPartition {
    private final DefaultBroker broker;
    final BrokerTopic topic;
    final TopicPartition tp;
    final Context ctx;
    // confined to ctx
    boolean ready;
    /** Atomic appends to this and other partitions queued and not yet routed: appends wait meanwhile. */
    int held;
    final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    /** Waiting for the next append (long polls of {@link Logs#awaitAppend}); confined to ctx. */
    final ArrayDeque<Runnable> appendWaiters = new ArrayDeque<>();
    // written on ctx, read by the admin API
    volatile long messages;
    volatile long bytes;

    BrokerPartition(DefaultBroker broker, BrokerTopic topic, TopicPartition tp, Context ctx, boolean ready) {
        this.broker = broker;
        this.topic = topic;
        this.tp = tp;
        this.ctx = ctx;
        this.ready = ready;
    }

    /** On ctx: append, then route, then answer; held back until the queue subscription exists. */
    void append(Envelope e, Promise<PublishResult> promise) {
        append(List.of(e), promise);
    }

    /** On ctx: the batch is stored whole (or not at all) at consecutive offsets, then routed in order. */
    void append(List<Envelope> batch, Promise<PublishResult> promise) {
        if (!ready || held > 0) {
            waiting.add(() -> append(batch, promise));
            return;
        }
        long began = System.nanoTime();
        io.omnibus.core.store.MessageStore store = broker.store();
        Future<Long> stored = batch.size() == 1 && !(batch instanceof io.omnibus.core.spi.WireBatch)
                ? store.append(tp, batch.get(0)) : store.appendAll(tp, batch);
        // always queued, never run inline: a future the writer completed before this listener was attached would
        // otherwise be routed at once, ahead of earlier appends still queued on ctx, and a subscription meeting
        // the partition for the first time would start its cursor past them and drop them as acknowledged
        stored.onComplete(ar -> ctx.runOnContext(v -> {
            if (ar.failed()) {
                promise.fail(storeFailure(ar.cause()));
            } else {
                broker.metrics().stored(batch.get(0).origin().protocol(), System.nanoTime() - began);
                routeStored(batch, ar.result(), promise);
            }
            broker.publishDone(batch.size());
        }));
    }

    /** On ctx: messages stored at {@code offset} on are routed, each subscription getting its run in one hop. */
    void routeStored(List<Envelope> batch, long offset, Promise<PublishResult> promise) {
        List<Future<Void>> full = new ArrayList<>(0);
        int routed = 0;
        long first = offset;
        Map<SubscriptionQueue, List<StoredMessage>> runs = new java.util.LinkedHashMap<>();
        boolean held = tp.address().equals(io.omnibus.core.spi.Transaction.PREPARED);
        long now = System.currentTimeMillis();
        for (Envelope e : batch) {
            messages++;
            bytes += e.payloadSize();
            if (!held) { // a prepared transaction's messages count once, when it commits
                broker.metrics().messageIn(e.origin().protocol(), e);
            }
            routed = broker.route(new StoredMessage(tp, offset++, e, now), full, runs);
        }
        runs.forEach(SubscriptionQueue::offer);
        while (!appendWaiters.isEmpty()) {
            appendWaiters.poll().run();
        }
        PublishResult result = new PublishResult(tp.address(), tp.partition(), first, routed);
        if (full.isEmpty()) {
            promise.complete(result);
        } else { // overflow: block: acknowledged when the consumers have caught up
            Future.all(full).onComplete(x -> promise.complete(result));
        }
    }

    BrokerException storeFailure(Throwable cause) {
        return new BrokerException(Reason.STORE_FAILURE, "could not store the message for " + tp.address() + ": "
                + cause.getMessage(), cause);
    }

    /**
     * On ctx: an atomic append to several partitions is about to be queued; appends here wait until it is
     * routed, so offsets and routing keep one order. Holds of several such appends do not wait for each other.
     */
    void hold(Promise<Void> held) {
        if (!ready) {
            waiting.add(() -> hold(held));
            return;
        }
        this.held++;
        held.complete();
    }

    /** On ctx: the atomic append is routed (or failed); the appends that waited go on. */
    void release() {
        held--;
        runWaiting();
    }

    private void runWaiting() {
        while (ready && held == 0 && !waiting.isEmpty()) {
            waiting.poll().run();
        }
    }

    void open() {
        Contexts.run(ctx, () -> {
            ready = true;
            runWaiting();
        });
    }
}
