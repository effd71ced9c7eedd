package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sequence state of idempotent producers, per producer and partition, as Kafka's broker keeps it: the
 * epoch, the last sequence taken, and the last five batches with their offsets for answering a retried batch
 * with its original offset. A producer talks to a partition over one connection, so its entries are updated
 * from one context at a time; {@link ConcurrentHashMap#compute} keeps each check-and-take atomic anyway.
 *
 * <p>Kept in memory: after a gateway restart a producer is new to every partition, and its next batch is
 * taken whatever its sequence (what Kafka does for a producer whose state it no longer has).
 */
final class ProducerStates {
    static final int KEPT_BATCHES = 5;

    record Key(long producerId, Address address, int partition) {
    }

    /** A batch taken: its sequences, and its base offset once stored. */
    static final class Batch {
        final short epoch;
        final int firstSeq;
        final int lastSeq;
        /** Completed with the base offset once stored (on a connection's context: hop before use). */
        final Promise<Long> offset = Promise.promise();

        Batch(short epoch, int firstSeq, int lastSeq) {
            this.epoch = epoch;
            this.firstSeq = firstSeq;
            this.lastSeq = lastSeq;
        }
    }

    private static final class Entry {
        short epoch;
        int lastSeq;
        long lastUsed;
        final ArrayDeque<Batch> recent = new ArrayDeque<>(KEPT_BATCHES);
    }

    /** What to do with a batch: append it, answer with an earlier batch's offset, or refuse it. */
    record Verdict(Batch append, Future<Long> duplicateOf, Errors error) {
    }

    private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();

    Verdict check(Key key, short epoch, int firstSeq, int lastSeq, long now) {
        Verdict[] verdict = new Verdict[1];
        entries.compute(key, (k, e) -> {
            if (e == null) {
                e = new Entry();
                e.epoch = epoch;
            } else if (epoch < e.epoch) {
                verdict[0] = new Verdict(null, null, Errors.INVALID_PRODUCER_EPOCH);
                return e;
            } else if (epoch > e.epoch) {
                if (firstSeq != 0) {
                    verdict[0] = new Verdict(null, null, Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
                    return e;
                }
                e.epoch = epoch;
                e.recent.clear();
            } else {
                for (Batch b : e.recent) {
                    if (b.firstSeq == firstSeq && b.lastSeq == lastSeq) {
                        verdict[0] = new Verdict(null, b.offset.future(), Errors.NONE);
                        e.lastUsed = now;
                        return e;
                    }
                }
                if (firstSeq != next(e.lastSeq)) {
                    verdict[0] = new Verdict(null, null, Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
                    return e;
                }
            }
            Batch b = new Batch(epoch, firstSeq, lastSeq);
            e.lastSeq = lastSeq;
            e.lastUsed = now;
            e.recent.addLast(b);
            if (e.recent.size() > KEPT_BATCHES) {
                e.recent.removeFirst();
            }
            verdict[0] = new Verdict(b, null, Errors.NONE);
            return e;
        });
        return verdict[0];
    }

    /**
     * A taken batch could not be stored (the store takes a batch whole or not at all): the sequence goes back to
     * just before it, so its retry fits. Batches taken after it are forgotten; one of those already stored would
     * be stored again if retried, and a later new batch finds a gap (OUT_OF_ORDER_SEQUENCE_NUMBER) and the producer
     * bumps its epoch (KIP-360). Store failures are rare (a full write queue, a failing disk).
     */
    void failed(Key key, Batch batch) {
        entries.computeIfPresent(key, (k, e) -> {
            if (e.epoch != batch.epoch || !e.recent.contains(batch)) {
                return e;
            }
            // the sequence goes back to just before the failed batch; batches taken after it are forgotten, so
            // their retries are checked again (the store took the failed one whole or not at all)
            boolean after = false;
            for (Iterator<Batch> it = e.recent.iterator(); it.hasNext(); ) {
                Batch b = it.next();
                after |= b == batch;
                if (after) {
                    it.remove();
                }
            }
            e.lastSeq = batch.firstSeq == 0 ? -1 : batch.firstSeq - 1;
            return e;
        });
    }

    /** Forgets producers idle since before {@code cutoff} (Kafka's producer id expiration). */
    void expire(long cutoff) {
        for (Key key : entries.keySet()) {
            entries.computeIfPresent(key, (k, e) -> e.lastUsed < cutoff ? null : e); // atomic with check()
        }
    }

    int size() {
        return entries.size();
    }

    private static int next(int seq) {
        return seq == Integer.MAX_VALUE ? 0 : seq + 1;
    }
}
