package io.omnibus.store.kafka;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The active node's periodic passes that wait for the cluster, on a thread of their own, each with a consumer of its
 * own: the partitions' committed ends against this node's appends ({@link KafkaEnds}, every
 * {@value KafkaEnds#INTERVAL_MILLIS} ms) and age retention ({@link KafkaRetention}, every
 * {@code store.kafka.retention-interval}). Not on the store's control thread: while the cluster is away their calls
 * take their timeouts, which would hold up a flush or a truncation queued there.
 */
final class KafkaPasses {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaPasses.class);

    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            r -> KafkaMessageStore.daemon(r, "omnibus-kafka-background"));
    /** Set once the passes start; read by {@link #close} from another thread. */
    private volatile KafkaEnds ends;
    private volatile KafkaRetention retention;

    /**
     * Starts both passes; each runs only while {@code open} says so. {@code grew} is told of partitions that another
     * node's appends made longer.
     */
    void start(KafkaEnds ends, KafkaRetention retention, long retentionEveryMillis, BooleanSupplier open,
               Runnable grew) {
        this.ends = ends;
        this.retention = retention;
        thread.scheduleWithFixedDelay(() -> {
            if (open.getAsBoolean()) {
                grew.run();
            }
        }, KafkaEnds.INTERVAL_MILLIS, KafkaEnds.INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        long every = Math.max(1, retentionEveryMillis);
        thread.scheduleWithFixedDelay(() -> {
            if (open.getAsBoolean()) {
                retention.run();
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    /** Stops the passes: one waiting for the cluster gives up; their consumers are closed on their thread. */
    void close() {
        KafkaEnds refresh = ends;
        KafkaRetention ages = retention;
        if (refresh != null) {
            refresh.wakeup();
        }
        if (ages != null) {
            ages.wakeup();
        }
        try {
            thread.submit(() -> {
                if (refresh != null) {
                    refresh.close();
                }
                if (ages != null) {
                    ages.close();
                }
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception x) {
            LOG.warn("Kafka store: closing the end-offset and retention readers failed: {}", x.toString());
        }
        thread.shutdownNow();
    }
}
