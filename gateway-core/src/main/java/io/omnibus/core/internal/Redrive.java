package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Moves the dead letters in a dead-letter address back to the addresses they came from (an operator's "redrive"):
 * each is published again to its {@code omnibus.dead-letter.original-address}, without the dead-letter headers, in
 * the order of its partition; what is not a dead letter stays. Each partition is read from where the last redrive
 * stopped (kept in the store's state) to its end when the redrive began; a partition that holds nothing but moved
 * dead letters and got nothing new meanwhile is then emptied. A message is published again before the redrive moves past it: a crash
 * mid-way repeats some (at least once), never loses one.
 */
final class Redrive {
    static final String DONE = "omnibus.redriven";
    private static final int BATCH = 256;

    private final DefaultBroker broker;
    private final Address address;
    private long moved;
    private long kept;

    private Redrive(DefaultBroker broker, Address address) {
        this.broker = broker;
        this.address = address;
    }

    /** Completes with {moved, kept}: dead letters published again, and other messages left where they are. */
    static Future<long[]> run(DefaultBroker broker, Address address) {
        Redrive r = new Redrive(broker, address);
        Future<Void> chain = Future.succeededFuture();
        for (int p = 0; p < broker.existingPartitionCount(address); p++) {
            int partition = p;
            chain = chain.compose(v -> r.partition(partition));
        }
        return chain.map(v -> new long[] {r.moved, r.kept});
    }

    /**
     * One partition: from where the last redrive stopped to the end. Its state is "next:kept": the offset to start
     * from, and how many messages that are not dead letters stay before it (while there are any, the partition is not
     * emptied).
     */
    private Future<Void> partition(int partition) {
        Logs logs = broker.logs();
        String key = address.name() + "@" + partition;
        byte[] done = broker.states(DONE).get(key);
        String[] last = done == null ? new String[] {"0", "0"} : new String(done, StandardCharsets.UTF_8).split(":");
        long start = logs.startOffset(address, partition);
        long from = Math.max(start, Long.parseLong(last[0]));
        long keptBefore = from > start && last.length > 1 ? Long.parseLong(last[1]) : 0;
        long end = logs.endOffset(address, partition);
        long keptHere = kept;
        return copy(partition, from, end)
                .compose(v -> broker.putState(DONE, key, (end + ":" + (keptBefore + kept - keptHere))
                        .getBytes(StandardCharsets.UTF_8)))
                .compose(v -> keptBefore + kept - keptHere == 0 ? emptyIfUnchanged(partition, end) : Future.succeededFuture());
    }

    /** Publishes the dead letters of [from, end) again, one after the other. */
    private Future<Void> copy(int partition, long from, long end) {
        if (from >= end) {
            return Future.succeededFuture();
        }
        return broker.logs().read(address, partition, from, BATCH).compose(entries -> {
            Future<Void> chain = Future.succeededFuture();
            long next = from;
            for (Logs.Entry e : entries) {
                if (e.offset() >= end) {
                    break;
                }
                next = e.offset() + 1;
                chain = chain.compose(v -> back(e.envelope()));
            }
            long after = entries.isEmpty() ? end : next;
            return chain.compose(v -> copy(partition, after, end));
        });
    }

    private Future<Void> back(Envelope letter) {
        String original = letter.header(SubscriptionQueue.DLQ_ORIGINAL_ADDRESS);
        if (original == null) {
            kept++;
            return Future.succeededFuture();
        }
        Envelope again = letter.toBuilder().address(Address.of(original))
                .removeHeaders(SubscriptionQueue.DLQ_REASON).removeHeaders(SubscriptionQueue.DLQ_ORIGINAL_ADDRESS)
                .removeHeaders(SubscriptionQueue.DLQ_SUBSCRIPTION).removeHeaders(SubscriptionQueue.DLQ_DELIVERY_COUNT)
                .build();
        return broker.publish(again).map(r -> {
            moved++;
            return null;
        });
    }

    /** On the partition's context: empties it when nothing came after {@code end} (else the kept position serves). */
    private Future<Void> emptyIfUnchanged(int partition, long end) {
        io.vertx.core.Context ctx = broker.partitionContext(address, partition);
        if (ctx == null) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        TopicPartition tp = new TopicPartition(address, partition);
        Contexts.run(ctx, () -> {
            if (broker.store().endOffset(tp) == end) {
                broker.store().truncate(tp).onComplete(done);
            } else {
                done.complete();
            }
        });
        return Contexts.on(io.vertx.core.Vertx.currentContext(), done.future());
    }
}
