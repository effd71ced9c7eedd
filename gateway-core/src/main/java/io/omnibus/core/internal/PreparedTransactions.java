package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.BrokerException.Reason;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.PreparedTransaction;
import io.omnibus.core.spi.Transaction;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.StateChange;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Two-phase transactions of the core ({@link Transaction#prepare}). A prepared transaction's messages are one atomic
 * append to {@link Transaction#PREPARED}, each carrying where it goes; the first also its count, time and
 * attributes. A durable cursor ({@value #CURSOR}, made with the first prepared transaction) on that log stays at the
 * oldest unresolved one, so retention keeps them. Resolving writes the outcome in {@value #OUTCOMES} (id to {@code c} or {@code r}): a commit in the same atomic
 * append as the released messages, so after a crash a transaction is either committed whole or still prepared, and
 * a resolution repeated after its outcome is written publishes nothing. Recovery reads the prepared log from its
 * start and keeps those without an outcome; outcomes go once retention removed their messages.
 *
 * <p>State is confined to one context (the broker's registry).
 */
final class PreparedTransactions {
    private static final Logger LOG = LoggerFactory.getLogger(PreparedTransactions.class);
    static final String OUTCOMES = "omnibus.transactions";
    static final String CURSOR = "$transactions";
    private static final String HEADER = "omnibus.tx.";
    private static final String TARGET = HEADER + "target";
    private static final String PARTITION = HEADER + "partition";
    private static final String COUNT = HEADER + "count";
    private static final String AT = HEADER + "at";
    private static final String ATTRIBUTE = HEADER + "attribute.";
    private static final TopicPartition LOG_PARTITION = new TopicPartition(Transaction.PREPARED, 0);

    private final DefaultBroker broker;
    private final MessageStore store;
    private final Context ctx;
    // confined to ctx
    private final TreeMap<Long, PreparedTransaction> open = new TreeMap<>();
    private final Map<Long, Future<Void>> resolving = new HashMap<>();
    /** The ids with an outcome (as in {@value #OUTCOMES}, read once at start): asked per resolution, not copied. */
    private final java.util.TreeSet<Long> resolved = new java.util.TreeSet<>();
    /** The prepared log's start when outcomes were last pruned: they are pruned again once retention moved it. */
    private long prunedAt = -1;
    private int preparing;
    /** The cursor exists: made before the first prepared transaction's append, so retention keeps it from there. */
    private boolean cursorMade;

    PreparedTransactions(DefaultBroker broker, MessageStore store, Context ctx) {
        this.broker = broker;
        this.store = store;
        this.ctx = ctx;
    }

    /** After the broker's recovery: the cursor, and the prepared transactions without an outcome. */
    Future<Void> start() {
        Promise<Void> done = Promise.promise();
        Contexts.run(ctx, () -> {
            cursorMade = broker.subscription(CURSOR) != null;
            store.states(OUTCOMES).keySet().forEach(id -> resolved.add(parse(id)));
            recover(store.startOffset(LOG_PARTITION), done);
        });
        return done.future().compose(v -> onCtx(this::moveCursor));
    }

    private void recover(long from, Promise<Void> done) {
        long end = store.endOffset(LOG_PARTITION);
        if (from >= end) {
            pruneOutcomes();
            done.complete();
            return;
        }
        store.read(LOG_PARTITION, from, 1000).onComplete(ar -> ctx.runOnContext(v -> {
            if (ar.failed()) {
                done.fail(ar.cause());
                return;
            }
            long next = from + 1;
            for (StoredMessage m : ar.result()) {
                Envelope e = m.envelope();
                next = m.offset() + 1;
                if (e.header(COUNT) != null && !resolved.contains(m.offset())) {
                    open.put(m.offset(), view(m.offset(), e));
                }
            }
            recover(Math.max(next, from + 1), done);
        }));
    }

    private static PreparedTransaction view(long id, Envelope first) {
        Map<String, String> attributes = new LinkedHashMap<>();
        first.headers().forEach(h -> {
            if (h.name().startsWith(ATTRIBUTE) && h.isText()) {
                attributes.put(h.name().substring(ATTRIBUTE.length()), h.stringValue());
            }
        });
        return new PreparedTransaction(Long.toString(id), Long.parseLong(first.header(AT)), Map.copyOf(attributes),
                Integer.parseInt(first.header(COUNT)));
    }

    /** Outcomes of transactions whose messages retention removed are forgotten (when it moved the log's start). */
    private void pruneOutcomes() {
        long start = store.startOffset(LOG_PARTITION);
        if (start == prunedAt) {
            return;
        }
        prunedAt = start;
        java.util.SortedSet<Long> gone = resolved.headSet(start);
        gone.forEach(id -> store.putState(OUTCOMES, Long.toString(id), null));
        gone.clear();
    }

    Future<String> prepare(List<Envelope> messages, List<Integer> partitions, Map<String, String> attributes) {
        if (messages.isEmpty()) {
            return Future.failedFuture(new IllegalArgumentException("a prepared transaction needs a message"));
        }
        long now = System.currentTimeMillis();
        List<Envelope> held = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            Envelope e = messages.get(i);
            Envelope.Builder b = e.toBuilder().address(Transaction.PREPARED).durable(true)
                    .header(TARGET, e.address().name()).header(PARTITION, Integer.toString(partitions.get(i)));
            if (i == 0) {
                b.header(COUNT, Integer.toString(messages.size())).header(AT, Long.toString(now));
                attributes.forEach((k, v) -> b.header(ATTRIBUTE + k, v));
            }
            held.add(b.build());
        }
        Context caller = Vertx.currentContext();
        Promise<String> promise = Promise.promise();
        Contexts.run(ctx, () -> {
            preparing++; // the cursor does not pass the end while an append may land there
            Future<Void> cursor = cursorMade ? Future.succeededFuture()
                    : broker.commitPosition(CURSOR, Transaction.PREPARED, 0, store.endOffset(LOG_PARTITION));
            cursor.compose(x -> broker.topics().partitionCount(Transaction.PREPARED, 1, true))
                    .compose(n -> broker.publish(held, 0))
                    .onComplete(ar -> ctx.runOnContext(v -> {
                        preparing--;
                        cursorMade |= cursor.succeeded();
                        if (ar.succeeded()) {
                            long id = ar.result().offset();
                            open.put(id, view(id, held.get(0)));
                            promise.complete(Long.toString(id));
                        } else {
                            promise.fail(ar.cause());
                        }
                    }));
        });
        return Contexts.on(caller, promise.future());
    }

    Future<Void> resolve(String preparedId, boolean commit) {
        return onCtx(() -> {
            long id = parse(preparedId);
            if (resolved.contains(id)) {
                return Future.succeededFuture(); // resolved before: its first outcome stands
            }
            Future<Void> running = resolving.get(id);
            if (running != null) {
                return running;
            }
            if (!open.containsKey(id)) {
                return Future.failedFuture(new BrokerException(Reason.NOT_FOUND, "no prepared transaction " + preparedId));
            }
            StateChange outcome = new StateChange(OUTCOMES, preparedId,
                    (commit ? "c" : "r").getBytes(StandardCharsets.UTF_8));
            Future<Void> f = !commit ? store.putState(outcome.namespace(), outcome.key(), outcome.value())
                    : staged(id).compose(staged -> broker.publishAtomically(
                            staged.stream().map(PreparedTransaction.Staged::envelope).toList(),
                            staged.stream().mapToInt(PreparedTransaction.Staged::partition).toArray(),
                            List.of(outcome), List.of())).mapEmpty();
            Promise<Void> done = Promise.promise();
            resolving.put(id, done.future());
            f.onComplete(ar -> ctx.runOnContext(v -> {
                resolving.remove(id);
                if (ar.succeeded()) {
                    open.remove(id);
                    resolved.add(id);
                    pruneOutcomes();
                    moveCursor();
                } else {
                    LOG.warn("prepared transaction {}: {} failed: {}", preparedId, commit ? "commit" : "rollback",
                            ar.cause().toString());
                }
                done.handle(ar);
            }));
            return done.future();
        });
    }

    Future<List<PreparedTransaction>> list() {
        return onCtx(() -> Future.succeededFuture(List.copyOf(open.values())));
    }

    Future<List<PreparedTransaction.Staged>> messages(String preparedId) {
        return onCtx(() -> {
            long id = parse(preparedId);
            return open.containsKey(id) ? staged(id)
                    : Future.failedFuture(new BrokerException(Reason.NOT_FOUND, "no prepared transaction " + preparedId));
        });
    }

    /** On ctx: the messages of an open transaction as they will be published. */
    private Future<List<PreparedTransaction.Staged>> staged(long id) {
        int count = open.get(id).messages();
        return store.read(LOG_PARTITION, id, count).map(stored -> {
            if (stored.size() != count || stored.get(0).offset() != id) {
                throw new BrokerException(Reason.NOT_FOUND, "the messages of prepared transaction " + id + " are gone");
            }
            List<PreparedTransaction.Staged> out = new ArrayList<>(count);
            for (StoredMessage m : stored) {
                Envelope e = m.envelope();
                Envelope.Builder b = e.toBuilder().address(Address.of(e.header(TARGET)));
                for (String h : new String[] {TARGET, PARTITION, COUNT, AT}) {
                    b.removeHeaders(h);
                }
                e.headers().stream().map(io.omnibus.core.spi.Header::name).filter(n -> n.startsWith(ATTRIBUTE)).distinct()
                        .forEach(b::removeHeaders);
                out.add(new PreparedTransaction.Staged(b.build(), Integer.parseInt(e.header(PARTITION))));
            }
            return out;
        });
    }

    /** On ctx: the cursor at the oldest open transaction (or the log's end when none is open or being prepared). */
    private Future<Void> moveCursor() {
        if (!cursorMade) {
            return Future.succeededFuture(); // nothing was ever prepared
        }
        long next = !open.isEmpty() ? open.firstKey() : preparing > 0 ? -1 : store.endOffset(LOG_PARTITION);
        if (next < 0) {
            return Future.succeededFuture();
        }
        return broker.commitPosition(CURSOR, Transaction.PREPARED, 0, next);
    }

    private <T> Future<T> onCtx(java.util.function.Supplier<Future<T>> action) {
        Context caller = Vertx.currentContext();
        Promise<T> promise = Promise.promise();
        Contexts.run(ctx, () -> action.get().onComplete(ar -> Contexts.complete(null, promise, ar)));
        return Contexts.on(caller, promise.future());
    }

    private static long parse(String id) {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
