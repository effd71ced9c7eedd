package io.omnibus.core.internal;

import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.BrokerException.Reason;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Transaction;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@link Transaction}: staged messages in memory (bounded by {@code broker.max-transaction-size} each and
 * {@code broker.max-staged-bytes} for all open transactions together), committed with
 * one atomic append ({@link DefaultBroker#publishAtomically}); staged acknowledgements applied after it.
 */
final class LocalTransaction implements Transaction {
    private final DefaultBroker broker;
    private final List<Envelope> messages = new ArrayList<>();
    private final List<Integer> partitions = new ArrayList<>();
    private final List<io.omnibus.core.store.StateChange> states = new ArrayList<>();
    private final List<Ack> acks = new ArrayList<>();
    private long bytes;
    private boolean over;

    private record Ack(Consumer consumer, Delivery delivery) {
    }

    LocalTransaction(DefaultBroker broker) {
        this.broker = broker;
    }

    @Override
    public Future<Void> publish(Envelope envelope) {
        return publish(envelope, -1);
    }

    @Override
    public Future<Void> publish(Envelope envelope, int partition) {
        if (over) {
            return Future.failedFuture(new IllegalStateException("the transaction is over"));
        }
        if (envelope.payloadSize() > broker.maxMessageSize()) {
            return Future.failedFuture(new BrokerException(Reason.MESSAGE_TOO_LARGE, "message of "
                    + envelope.payloadSize() + " bytes exceeds broker.max-message-size (" + broker.maxMessageSize()
                    + " bytes)"));
        }
        long limit = broker.config().maxTransactionSize();
        if (bytes + envelope.payloadSize() > limit) {
            return Future.failedFuture(new BrokerException(Reason.STORE_FAILURE, "the transaction would stage more than "
                    + "broker.max-transaction-size (" + limit + " bytes)"));
        }
        if (!broker.reserveStaged(envelope.payloadSize())) {
            return Future.failedFuture(new BrokerException(Reason.STORE_FAILURE, "open transactions hold "
                    + "broker.max-staged-bytes (" + broker.config().maxStagedBytes() + " bytes) already"));
        }
        bytes += envelope.payloadSize();
        messages.add(envelope);
        partitions.add(partition);
        return Future.succeededFuture();
    }

    @Override
    public void putState(String namespace, String key, byte[] value) {
        if (over) {
            throw new IllegalStateException("the transaction is over");
        }
        states.add(new io.omnibus.core.store.StateChange(namespace, key, value == null ? null : value.clone()));
    }

    @Override
    public void acknowledge(Consumer consumer, Delivery delivery) {
        if (over) {
            throw new IllegalStateException("the transaction is over");
        }
        acks.add(new Ack(consumer, delivery));
    }

    @Override
    public int staged() {
        return messages.size();
    }

    @Override
    public Future<Void> commit() {
        if (over) {
            return Future.failedFuture(new IllegalStateException("the transaction is over"));
        }
        over = true;
        List<Envelope> staged = List.copyOf(messages);
        int[] at = partitions.stream().mapToInt(Integer::intValue).toArray();
        messages.clear();
        List<io.omnibus.core.store.StateChange> changes = List.copyOf(states);
        return prospectiveAcks().compose(cursors -> broker.publishAtomically(staged, at, changes, cursors)).transform(ar -> {
            releaseStaged();
            if (ar.failed()) {
                undoAcks();
                return Future.failedFuture(ar.cause());
            }
            for (Ack a : acks) {
                a.consumer().ack(a.delivery());
            }
            acks.clear();
            // retained messages become their addresses' retained ones after the commit (not atomically with it)
            List<Future<Void>> retained = new ArrayList<>();
            for (Envelope e : staged) {
                if (e.retain()) {
                    retained.add(broker.retain(e));
                }
            }
            return Future.all(retained).mapEmpty();
        });
    }

    @Override
    public Future<String> prepare(java.util.Map<String, String> attributes) {
        if (over) {
            return Future.failedFuture(new IllegalStateException("the transaction is over"));
        }
        if (!acks.isEmpty() || !states.isEmpty()) {
            return Future.failedFuture(new IllegalStateException("a prepared transaction holds messages only, "
                    + "not acknowledgements or state changes"));
        }
        over = true;
        List<Envelope> staged = List.copyOf(messages);
        messages.clear();
        return broker.prepare(staged, List.copyOf(partitions), java.util.Map.copyOf(attributes))
                .onComplete(ar -> releaseStaged());
    }

    @Override
    public Future<Void> rollback() {
        if (!over) {
            over = true;
            messages.clear();
            states.clear();
            releaseStaged();
            undoAcks();
        }
        return Future.succeededFuture();
    }

    /**
     * The cursor states of the staged acknowledgements, to be written in the commit's atomic group: after a crash the
     * consumed messages are consumed exactly when the published ones are there. They are applied in memory (and so
     * delivered to nobody else) only once the group is stored.
     */
    private Future<List<io.omnibus.core.store.CursorChange>> prospectiveAcks() {
        Map<SubscriptionQueue, List<Long>> tags = new java.util.LinkedHashMap<>();
        for (Ack a : acks) {
            if (a.consumer() instanceof ConsumerState c) {
                tags.computeIfAbsent(c.queue, q -> new ArrayList<>()).add(a.delivery().tag());
            }
        }
        if (tags.isEmpty()) {
            return Future.succeededFuture(List.of());
        }
        List<Future<List<io.omnibus.core.store.CursorChange>>> each = new ArrayList<>();
        tags.forEach((q, t) -> each.add(q.prospectiveAcks(t)));
        return Future.all(each).map(all -> {
            List<io.omnibus.core.store.CursorChange> out = new ArrayList<>();
            for (Future<List<io.omnibus.core.store.CursorChange>> f : each) {
                out.addAll(f.result());
            }
            return out;
        });
    }

    /** The staged bytes no longer held in memory: they count no more against broker.max-staged-bytes. */
    private void releaseStaged() {
        broker.releaseStaged(bytes);
        bytes = 0;
    }

    private void undoAcks() {
        for (Ack a : acks) {
            a.consumer().nack(a.delivery());
        }
        acks.clear();
    }
}
