package io.omnibus.store.kafka;

import io.omnibus.core.store.EnvelopeCodec;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Promise;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeoutException;

/**
 * Reads partition logs back for subscriptions that are behind: a few threads, each with its own {@link KafkaConsumer}
 * (not thread-safe) reading committed records only, without a group (assign and seek). A partition is always read
 * by the same thread. A read returns what one fetch brought, at least one record if the log has any from that offset
 * on; it fails (the subscription tries again) rather than return nothing while records are there.
 */
final class KafkaReaders implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaReaders.class);
    /** Records one poll returns at most; a read takes whole polls only, so nothing fetched is dropped and refetched. */
    private static final int POLL_RECORDS = 500;

    /** Where a read comes from and how far the log goes, as the store knows it. */
    interface Logs {
        /** The Kafka topic of an address's partition, or null when the store has none. */
        String topic(TopicPartition tp);

        /** The committed end of the partition as known now. */
        long end(TopicPartition tp);

        /** Retention (or a truncation) removed records before {@code start}. */
        void startMoved(TopicPartition tp, long start);
    }

    private record Read(TopicPartition tp, long from, int max, Promise<List<StoredMessage>> done) {
    }

    private final Reader[] readers;

    KafkaReaders(int threads, Properties consumerProperties, Duration timeout, Logs logs) {
        readers = new Reader[threads];
        for (int i = 0; i < threads; i++) {
            readers[i] = new Reader("omnibus-kafka-reader-" + i, consumerProperties, timeout, logs);
            readers[i].thread.start();
        }
    }

    void read(TopicPartition tp, long from, int max, Promise<List<StoredMessage>> done) {
        readers[Math.floorMod(tp.hashCode(), readers.length)].queue.add(new Read(tp, from, max, done));
    }

    @Override
    public void close() throws InterruptedException {
        for (Reader r : readers) {
            r.thread.interrupt();
        }
        for (Reader r : readers) {
            r.thread.join(10_000);
        }
    }

    private static final class Reader implements Runnable {
        final LinkedBlockingQueue<Read> queue = new LinkedBlockingQueue<>();
        final Thread thread;
        private final Properties properties;
        private final Duration timeout;
        private final Logs logs;

        Reader(String name, Properties properties, Duration timeout, Logs logs) {
            this.properties = properties;
            this.timeout = timeout;
            this.logs = logs;
            this.thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            Properties p = new Properties();
            p.putAll(properties);
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, properties.getProperty(ConsumerConfig.CLIENT_ID_CONFIG, "omnibus") + "-"
                    + thread.getName());
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                while (!Thread.currentThread().isInterrupted()) {
                    Read r;
                    try {
                        r = queue.take();
                    } catch (InterruptedException e) {
                        break;
                    }
                    try {
                        r.done.complete(read(consumer, r));
                    } catch (org.apache.kafka.common.errors.InterruptException e) {
                        r.done.fail(new IllegalStateException("the store is closing"));
                        break;
                    } catch (RuntimeException | TimeoutException e) {
                        r.done.fail(e);
                    }
                }
            } catch (RuntimeException e) {
                LOG.error("Kafka store reader {} stopped", thread.getName(), e);
            }
            Read left;
            while ((left = queue.poll()) != null) {
                left.done.fail(new IllegalStateException("the store is closing"));
            }
        }

        private List<StoredMessage> read(KafkaConsumer<byte[], byte[]> consumer, Read r) throws TimeoutException {
            String topic = logs.topic(r.tp);
            long end = logs.end(r.tp);
            if (topic == null || r.max <= 0 || r.from >= end) {
                return List.of();
            }
            org.apache.kafka.common.TopicPartition ktp = new org.apache.kafka.common.TopicPartition(topic, r.tp.partition());
            if (!consumer.assignment().equals(java.util.Set.of(ktp))) {
                consumer.assign(List.of(ktp));
                consumer.seek(ktp, r.from);
            } else if (consumer.position(ktp) != r.from) {
                consumer.seek(ktp, r.from);
            } // else the read goes on where the last one stopped: what that fetch brought beyond it is used

            long deadline = System.nanoTime() + timeout.toNanos();
            List<StoredMessage> out = new ArrayList<>(Math.min(r.max, 512));
            while (true) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(100));
                } catch (OffsetOutOfRangeException e) {
                    long start = consumer.beginningOffsets(List.of(ktp)).get(ktp);
                    logs.startMoved(r.tp, start);
                    throw new IllegalStateException("offset " + r.from + " of " + r.tp + " is no longer in Kafka (the log "
                            + "starts at " + start + ")", e);
                }
                add(records, ktp, r, out);
                if (!out.isEmpty()) {
                    // and what the fetch brought beyond it, as long as whole polls fit (no waiting for more)
                    while (r.max - out.size() >= POLL_RECORDS) {
                        ConsumerRecords<byte[], byte[]> more = consumer.poll(Duration.ZERO);
                        if (more.isEmpty()) {
                            break;
                        }
                        add(more, ktp, r, out);
                    }
                    return out;
                }
                // nothing yet: transaction markers or aborted records only, up to the end, or the fetch is slow
                if (consumer.position(ktp) >= logs.end(r.tp)) {
                    return out;
                }
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("no record of " + r.tp + " from offset " + r.from + " within "
                            + timeout.toMillis() + " ms");
                }
            }
        }
    }

    private static void add(ConsumerRecords<byte[], byte[]> records, org.apache.kafka.common.TopicPartition ktp, Read r,
                            List<StoredMessage> out) {
        for (ConsumerRecord<byte[], byte[]> rec : records.records(ktp)) {
            if (out.size() < r.max && rec.offset() >= r.from) {
                out.add(new StoredMessage(r.tp, rec.offset(), EnvelopeCodec.decode(rec.value()), rec.timestamp()));
            }
        }
    }

    static Map<String, Object> defaults() {
        return Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(POLL_RECORDS));
    }
}
