package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * Moves the dead letters in a dead-letter address back to the addresses they came from (an operator's "redrive"):
 * each is published again to its {@code omnibus.dead-letter.original-address}, without the dead-letter headers, in
 * the order of its partition; what is not a dead letter, or cannot be published again (its address is gone and may
 * not be made), stays. Each partition is read from where the last redrive stopped to its end when this one began;
 * the position is kept in the store's state after every batch, so a redrive that fails part way (or a crash) goes on
 * from there: a message is published again at least once, never lost. A partition that holds nothing but moved dead
 * letters and got nothing new meanwhile is then emptied (the check and the truncation are one step on the store's
 * writer). One redrive of an address runs at a time.
 */
final class Redrive {
    private static final Logger LOG = LoggerFactory.getLogger(Redrive.class);
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

    /**
     * Completes with {moved, kept}: dead letters published again, and messages left where they are. Fails at once
     * when a redrive of the address is under way.
     */
    static Future<long[]> run(DefaultBroker broker, java.util.Set<Address> redriving, Address address) {
        if (!redriving.add(address)) {
            return Future.failedFuture(new IllegalStateException("a redrive of " + address + " is under way"));
        }
        Redrive r = new Redrive(broker, address);
        Future<Void> chain = Future.succeededFuture();
        for (int p = 0; p < broker.topics().existingPartitionCount(address); p++) {
            int partition = p;
            chain = chain.compose(v -> r.partition(partition));
        }
        return chain.map(v -> new long[] {r.moved, r.kept}).onComplete(x -> redriving.remove(address));
    }

    /**
     * One partition, from where the last redrive stopped. Its state is "next:kept": the offset to go on from, and how
     * many messages before it stayed (while any did, the partition is not emptied).
     */
    private Future<Void> partition(int partition) {
        Logs logs = broker.logs();
        String key = address.name() + "@" + partition;
        byte[] done = broker.state(DONE, key);
        String[] last = done == null ? new String[] {"0", "0"} : new String(done, StandardCharsets.UTF_8).split(":");
        long start = logs.startOffset(address, partition);
        long from = Math.max(start, Long.parseLong(last[0]));
        long keptBefore = from > start && last.length > 1 ? Long.parseLong(last[1]) : 0;
        long end = logs.endOffset(address, partition);
        return copy(partition, key, from, end, keptBefore).compose(keptAll -> keptAll == 0
                ? emptyIfUnchanged(partition, end) : Future.succeededFuture());
    }

    /**
     * Publishes the dead letters of [from, end) again, a batch at a time, keeping the position after each; completes
     * with how many messages before {@code end} stayed.
     */
    private Future<Long> copy(int partition, String key, long from, long end, long keptSoFar) {
        if (from >= end) {
            return Future.succeededFuture(keptSoFar);
        }
        return broker.logs().read(address, partition, from, BATCH).compose(entries -> {
            Future<Long> chain = Future.succeededFuture(keptSoFar);
            long next = end; // nothing read before end (retention moved the start past it): done
            for (Logs.Entry e : entries) {
                if (e.offset() >= end) {
                    break;
                }
                next = e.offset() + 1;
                chain = chain.compose(k -> back(e.envelope()).map(stayed -> stayed ? k + 1 : k));
            }
            long after = next;
            return chain.compose(k -> broker.putState(DONE, key, (after + ":" + k).getBytes(StandardCharsets.UTF_8))
                    .compose(v -> copy(partition, key, after, end, k)));
        });
    }

    /** Publishes one message back to where it came from; completes with true when it stays instead. */
    private Future<Boolean> back(Envelope letter) {
        Address target = DeadLetters.original(letter);
        if (target == null) {
            kept++;
            return Future.succeededFuture(true);
        }
        Envelope again = DeadLetters.back(letter, target);
        return broker.publish(again).map(r -> {
            moved++;
            return false;
        }).recover(e -> {
            LOG.warn("redrive of {}: a dead letter for {} stays: {}", address, target, e.getMessage());
            kept++;
            return Future.succeededFuture(true);
        });
    }

    /** Empties the partition when nothing was appended after {@code end}, as one step on the store's writer. */
    private Future<Void> emptyIfUnchanged(int partition, long end) {
        io.vertx.core.Context ctx = broker.topics().partitionContext(address, partition);
        if (ctx == null) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        TopicPartition tp = new TopicPartition(address, partition);
        Contexts.run(ctx, () -> broker.store().truncateIfEndsAt(tp, end).onComplete(ar -> done.handle(ar.mapEmpty())));
        return Contexts.on(io.vertx.core.Vertx.currentContext(), done.future());
    }
}
