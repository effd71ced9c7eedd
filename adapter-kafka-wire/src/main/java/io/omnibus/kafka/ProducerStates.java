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
     * A taken batch could not be stored: if nothing was taken after it, the sequence goes back so its retry fits;
     * otherwise the batches behind it are out of order and the producer starts over (Kafka's behaviour).
     */
    void failed(Key key, Batch batch) {
        entries.computeIfPresent(key, (k, e) -> {
            e.recent.remove(batch);
            if (e.epoch == batch.epoch && e.lastSeq == batch.lastSeq) {
                e.lastSeq = batch.firstSeq == 0 ? -1 : batch.firstSeq - 1;
                if (e.recent.isEmpty() && batch.firstSeq == 0) {
                    return null;
                }
            }
            return e;
        });
    }

    /** Forgets producers idle since before {@code cutoff} (Kafka's producer id expiration). */
    void expire(long cutoff) {
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            if (it.next().lastUsed < cutoff) {
                it.remove();
            }
        }
    }

    int size() {
        return entries.size();
    }

    private static int next(int seq) {
        return seq == Integer.MAX_VALUE ? 0 : seq + 1;
    }
}
