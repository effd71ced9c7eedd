package io.omnibus.store.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;

/**
 * Whether the active node still reaches its Kafka cluster. The group gives the active role to a standby once the active
 * node's session expired; a node cut off from every broker learns that it lost the role only when the cut heals, and
 * meanwhile it would keep its clients' connections while acknowledging nothing. So the active node asks the cluster
 * several times per session timeout ({@code describeCluster}, any broker may answer), and when no broker answered for a
 * whole session timeout while the nodes' group had other members at the last look ({@link KafkaHealth#otherNodes()}),
 * it stops serving ({@code cutOff}): its clients' failover lists take them to the node the group made active.
 *
 * <p>A Kafka broker's death is not a cut: the other brokers answer while the group's coordinator moves (which takes
 * the brokers' {@code broker.session.timeout.ms}, longer than a short session timeout), and the coordinator that takes
 * the group over counts its members' sessions from then on. A node alone in its group waits for the cluster instead
 * of stopping: no other node could serve its clients. A cut that leaves some brokers reachable but not the group's
 * coordinator is not detected here: the node learns it lost the role from the node that took it over
 * ({@link KafkaEndpoints#watchForSuccessor}), or when it reaches the coordinator again ({@link KafkaLease}).
 */
final class KafkaContact implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaContact.class);

    private final Admin admin;
    private final long sessionNanos;
    private final long everyMillis;
    private final IntSupplier otherNodes;
    private final Runnable cutOff;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            r -> KafkaMessageStore.daemon(r, "omnibus-kafka-contact"));
    private final AtomicBoolean asking = new AtomicBoolean();
    /** When the last question a broker answered was asked (System.nanoTime). */
    private volatile long answeredAt;
    private boolean stopped;

    KafkaContact(Admin admin, Duration sessionTimeout, IntSupplier otherNodes, Runnable cutOff) {
        this.admin = admin;
        this.sessionNanos = sessionTimeout.toNanos();
        this.everyMillis = Math.max(100, sessionTimeout.toMillis() / 6);
        this.otherNodes = otherNodes;
        this.cutOff = cutOff;
    }

    /** From the moment this node became active: the lease's assignment was its last word from the cluster. */
    void start() {
        answeredAt = System.nanoTime();
        thread.scheduleWithFixedDelay(this::round, everyMillis, everyMillis, TimeUnit.MILLISECONDS);
    }

    /** How long ago a broker last answered, in milliseconds. */
    long silentMillis() {
        return (System.nanoTime() - answeredAt) / 1_000_000;
    }

    private void round() {
        long now = System.nanoTime();
        if (asking.compareAndSet(false, true)) { // one question at a time: a cut makes each wait out its timeout
            int timeout = (int) Math.max(1_000, sessionNanos / 2_000_000);
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(timeout)).nodes()
                    .whenComplete((nodes, failed) -> {
                        if (answered(failed) && now - answeredAt > 0) {
                            answeredAt = now;
                        }
                        asking.set(false);
                    });
        }
        long silent = now - answeredAt;
        int others = otherNodes.getAsInt();
        if (!stopped && silent > sessionNanos && others > 0) {
            stopped = true;
            LOG.error("Kafka store: no broker of the cluster answered this node for {} ms, longer than the session "
                    + "timeout ({} ms), while {} other node(s) waited in the nodes' group: the group may have given the "
                    + "active role to one of them, so this one stops", silent / 1_000_000, sessionNanos / 1_000_000,
                    others);
            cutOff.run();
        }
    }

    /** Whether a broker answered: with the nodes, or with an error of its own (not a timeout or a lost connection). */
    static boolean answered(Throwable failed) {
        Throwable t = failed;
        while (t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) {
            t = t.getCause();
        }
        return t == null || !(t instanceof org.apache.kafka.common.errors.TimeoutException
                || t instanceof org.apache.kafka.common.errors.DisconnectException
                || t instanceof org.apache.kafka.common.errors.NetworkException
                || t instanceof java.util.concurrent.TimeoutException);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
