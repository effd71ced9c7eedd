package io.omnibus.core.internal;

import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.PublishResult;
import io.omnibus.core.store.CursorChange;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.PartitionBatch;
import io.omnibus.core.store.StateChange;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A publish of messages to several addresses and partitions as one, with state and cursor changes: a transaction's
 * commit. Every partition it appends to holds its other appends while it is stored, so offsets and routing keep one
 * order; one context (the registry's) queues every such append.
 */
final class AtomicPublish {
    private AtomicPublish() {
    }

    /**
     * Publishes messages of any addresses as one (a transaction's commit), with changes to adapters' key-value state
     * and durable subscriptions' cursors (the transaction's acknowledgements):
     * each message to {@code partitions[i]}, or where its topic chooses when that is negative (or the array null); all
     * stored with the state changes or none, also across a crash, and routed once all are stored. Completes with
     * their results in order.
     */
    static Future<List<PublishResult>> publish(DefaultBroker broker, List<Envelope> envelopes, int[] partitions,
                                               List<StateChange> states, List<CursorChange> cursors) {
        Context caller = Vertx.currentContext();
        MessageStore store = broker.store();
        if (envelopes.isEmpty()) {
            if (states.isEmpty() && cursors.isEmpty()) {
                return Future.succeededFuture(List.of());
            }
            Promise<long[]> written = Promise.promise();
            store.appendAtomically(List.of(), states, cursors, written);
            return Contexts.on(caller, written.future().map(x -> List.of()));
        }
        for (Envelope envelope : envelopes) {
            BrokerException tooLarge = broker.tooLarge(envelope);
            if (tooLarge != null) {
                return Future.failedFuture(tooLarge);
            }
        }
        int n = envelopes.size();
        if (!broker.admit(n)) {
            return Future.failedFuture(DefaultBroker.shuttingDown());
        }
        Map<BrokerPartition, List<Envelope>> parts = new java.util.LinkedHashMap<>();
        BrokerPartition[] placed = new BrokerPartition[n];
        for (int i = 0; i < n; i++) {
            Envelope envelope = envelopes.get(i);
            int wanted = partitions == null ? -1 : partitions[i];
            BrokerPartition p;
            try {
                p = broker.topics().partitionFor(envelope, wanted);
            } catch (BrokerException e) {
                broker.publishDone(n);
                return Future.failedFuture(e);
            }
            parts.computeIfAbsent(p, x -> new ArrayList<>()).add(envelope);
            placed[i] = p;
        }
        List<BrokerPartition> order = new ArrayList<>(parts.keySet());
        List<Future<Void>> holds = new ArrayList<>(order.size());
        for (BrokerPartition p : order) {
            Promise<Void> held = Promise.promise();
            Contexts.run(p.ctx, () -> p.hold(held));
            holds.add(held.future());
        }
        Promise<List<PublishResult>> promise = Promise.promise();
        Future.all(holds).onComplete(x -> Contexts.run(broker.shards().registry(), () -> {
            // one context queues every atomic append, so two of them never reach a partition out of order
            List<PartitionBatch> batches = new ArrayList<>(order.size());
            for (BrokerPartition p : order) {
                batches.add(new PartitionBatch(p.tp, parts.get(p)));
            }
            Promise<long[]> stored = Promise.promise();
            stored.future().onComplete(ar -> { // on the store's thread, in append order
                List<Future<PublishResult>> routed = new ArrayList<>(order.size());
                for (int i = 0; i < order.size(); i++) {
                    BrokerPartition p = order.get(i);
                    long offset = ar.succeeded() ? ar.result()[i] : -1;
                    Promise<PublishResult> one = Promise.promise();
                    routed.add(one.future());
                    p.ctx.runOnContext(v -> {
                        if (ar.failed()) {
                            one.fail(p.storeFailure(ar.cause()));
                        } else {
                            p.routeStored(parts.get(p), offset, one);
                        }
                        p.release();
                    });
                }
                Future.all(routed).onComplete(all -> {
                    broker.publishDone(n);
                    if (all.failed()) {
                        promise.fail(all.cause());
                        return;
                    }
                    Map<BrokerPartition, Long> next = new java.util.HashMap<>(); // each partition's next offset
                    for (int i = 0; i < order.size(); i++) {
                        next.put(order.get(i), routed.get(i).result().offset());
                    }
                    List<PublishResult> results = new ArrayList<>(n);
                    for (BrokerPartition p : placed) {
                        long offset = next.merge(p, 1L, Long::sum) - 1;
                        results.add(new PublishResult(p.tp.address(), p.tp.partition(), offset,
                                routed.get(order.indexOf(p)).result().subscriptions()));
                    }
                    promise.complete(results);
                });
            });
            store.appendAtomically(batches, states, cursors, stored);
        }));
        return Contexts.on(caller, promise.future());
    }
}
