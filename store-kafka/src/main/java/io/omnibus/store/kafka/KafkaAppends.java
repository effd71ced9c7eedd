package io.omnibus.store.kafka;

import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.CursorChange;
import io.omnibus.core.store.EnvelopeCodec;
import io.omnibus.core.store.PartitionBatch;
import io.omnibus.core.store.StateChange;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongConsumer;

/**
 * The Kafka store's writes of messages: appends through the idempotent producer on the sender thread (in call order),
 * atomic appends as transactions of the active role's transactional producer on the transaction thread.
 */
final class KafkaAppends {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaAppends.class);

    private final ExecutorService sender;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaTransactions transactions;
    private final KafkaTopics topics;
    private final KafkaState state;
    private final TailCache cache;
    private final Function<TopicPartition, PartitionLog> logs;
    private final LongConsumer latency;

    /**
     * @param latency nanoseconds from an append to the cluster's acknowledgement
     */
    KafkaAppends(ExecutorService sender, KafkaProducer<byte[], byte[]> producer, KafkaTransactions transactions,
                 KafkaTopics topics, KafkaState state, TailCache cache, Function<TopicPartition, PartitionLog> logs,
                 LongConsumer latency) {
        this.sender = sender;
        this.producer = producer;
        this.transactions = transactions;
        this.topics = topics;
        this.state = state;
        this.cache = cache;
        this.logs = logs;
        this.latency = latency;
    }

    static ProducerRecord<byte[], byte[]> record(KafkaTopics.Topic t, TopicPartition tp, Envelope e, long now) {
        ByteBuffer k = e.key();
        byte[] key = null;
        if (k != null) {
            key = new byte[k.remaining()];
            k.get(key);
        }
        return new ProducerRecord<>(t.name, tp.partition(), now, key, EnvelopeCodec.encode(e));
    }

    /**
     * Sends the messages in order and completes with the first one's offset once the cluster acknowledged all of
     * them. Not all-or-none: the producer may put them in more than one record batch, so a failure can leave a part
     * stored (the producer that retries duplicates it; nothing is lost).
     */
    Future<Long> appendAll(TopicPartition partition, List<Envelope> envelopes) {
        Promise<Long> done = Promise.promise();
        PartitionLog log = logs.apply(partition);
        log.pending.incrementAndGet();
        long began = System.nanoTime();
        try {
            sender.execute(() -> {
                try {
                    KafkaTopics.Topic t = topics.ensure(partition);
                    long now = System.currentTimeMillis();
                    int n = envelopes.size();
                    AtomicInteger left = new AtomicInteger(n);
                    long[] first = {-1};
                    AtomicBoolean failed = new AtomicBoolean();
                    for (int i = 0; i < n; i++) {
                        boolean isFirst = i == 0;
                        Envelope envelope = envelopes.get(i);
                        producer.send(record(t, partition, envelope, now), (md, ex) -> {
                            if (ex != null) {
                                if (failed.compareAndSet(false, true)) {
                                    log.pending.decrementAndGet();
                                    done.fail(ex);
                                }
                                return;
                            }
                            log.ended(md.offset() + 1);
                            cache.appended(new StoredMessage(partition, md.offset(), envelope, now));
                            if (isFirst) {
                                first[0] = md.offset();
                            }
                            if (left.decrementAndGet() == 0 && !failed.get()) { // callbacks of a partition run in order
                                log.pending.decrementAndGet();
                                latency.accept(System.nanoTime() - began);
                                done.complete(first[0]);
                            }
                        });
                    }
                } catch (Exception e) {
                    log.pending.decrementAndGet();
                    done.fail(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.pending.decrementAndGet();
            return Future.failedFuture(new IllegalStateException("the Kafka store is closing"));
        }
        return done.future();
    }

    /** An atomic append, as one Kafka transaction; on the store's transaction thread. */
    void transaction(List<PartitionBatch> batches, List<StateChange> changes, List<CursorChange> cursorChanges,
                     Promise<long[]> done) {
        List<java.util.concurrent.Future<RecordMetadata>> firsts = new ArrayList<>(batches.size());
        List<java.util.concurrent.Future<RecordMetadata>> lasts = new ArrayList<>(batches.size());
        boolean begun = false;
        // counted as in flight until their ends are set, as plain appends are: KafkaEnds must not take this node's
        // committed transaction for another node's appends
        List<PartitionLog> inFlight = new ArrayList<>(batches.size());
        for (PartitionBatch b : batches) {
            PartitionLog log = logs.apply(b.partition());
            log.pending.incrementAndGet();
            inFlight.add(log);
        }
        try {
            if (!changes.isEmpty() || !cursorChanges.isEmpty()) {
                // state and cursors saved before this call are written before it (the state topic's latest record of
                // a key wins), in a transaction of their own: their callers do not fail with this one
                state.drain();
            }
            List<KafkaTopics.Topic> ts = new ArrayList<>(batches.size());
            for (PartitionBatch b : batches) {
                ts.add(topics.ensure(b.partition()));
            }
            KafkaProducer<byte[], byte[]> txProducer = transactions.begin();
            begun = true;
            long now = System.currentTimeMillis();
            for (int i = 0; i < batches.size(); i++) {
                PartitionBatch b = batches.get(i);
                java.util.concurrent.Future<RecordMetadata> f = null;
                for (Envelope e : b.envelopes()) {
                    java.util.concurrent.Future<RecordMetadata> sent = txProducer.send(record(ts.get(i), b.partition(), e, now));
                    if (f == null) {
                        firsts.add(sent);
                    }
                    f = sent;
                }
                lasts.add(f);
            }
            for (ProducerRecord<byte[], byte[]> r : state.records(changes, cursorChanges)) {
                txProducer.send(r);
            }
            transactions.commit();
            begun = false; // committed: what fails from here on is not the transaction's
            long[] offsets = new long[batches.size()];
            for (int i = 0; i < offsets.length; i++) {
                offsets[i] = firsts.get(i).get().offset();
                logs.apply(batches.get(i).partition()).ended(lasts.get(i).get().offset() + 1);
            }
            state.committed(changes, cursorChanges);
            done.complete(offsets);
        } catch (Exception e) {
            if (begun) {
                transactions.failed(e);
            }
            done.fail(e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e);
        } finally {
            inFlight.forEach(log -> log.pending.decrementAndGet());
        }
    }
}
