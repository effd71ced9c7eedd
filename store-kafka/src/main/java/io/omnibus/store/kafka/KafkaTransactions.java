package io.omnibus.store.kafka;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The active role's transactional producer, used on the store's transaction thread only.
 *
 * <p>Kafka ends a producer's transactions in two ways that look alike to it: another node took the transactional id
 * over (this node lost the active role and must stop), or the transaction coordinator aborted an open transaction
 * itself because it outlived {@code transaction.timeout.ms} (the cluster went away in the middle of a commit), which
 * bumps the producer's epoch too. An abort that fails (the cluster away) leaves the producer unable to begin another
 * transaction as well. After any of these the producer is renewed before the next transaction, but only while the
 * nodes' group still gives this node the state partition: no other node can have taken the id then, as a node takes
 * it only once it holds that partition. A node the group no longer counts as active stops; so does a fenced node when
 * the group cannot be asked, as before it could tell these cases apart.
 */
final class KafkaTransactions {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaTransactions.class);

    private final Supplier<KafkaProducer<byte[], byte[]>> make;
    private final Supplier<Boolean> holdsRole;
    private final Runnable stop;
    private KafkaProducer<byte[], byte[]> producer;
    /** The producer cannot begin a transaction: renewed before the next one. */
    private boolean broken;
    /** Kafka fenced the producer (not only an abort that failed). */
    private boolean fenced;
    private int renewals;

    /**
     * @param make      a new transactional producer with the active role's id, not yet initialized
     * @param holdsRole whether the nodes' group gives this node the state partition; null when it could not be asked
     * @param stop      stops the node: it lost the active role
     */
    KafkaTransactions(Supplier<KafkaProducer<byte[], byte[]>> make, Supplier<Boolean> holdsRole, Runnable stop) {
        this.make = make;
        this.holdsRole = holdsRole;
        this.stop = stop;
    }

    /** Takes the transactional id: fences the previous holder and aborts what it left open. */
    void init() {
        KafkaProducer<byte[], byte[]> p = make.get();
        try {
            p.initTransactions();
        } catch (RuntimeException e) {
            p.close(Duration.ZERO);
            throw e;
        }
        producer = p;
    }

    /** Begins a transaction, with a new producer first if the last one cannot go on. */
    KafkaProducer<byte[], byte[]> begin() {
        if (broken) {
            renew();
        }
        producer.beginTransaction();
        return producer;
    }

    /**
     * Commits the open transaction, however long the cluster takes: a commit that timed out (the cluster away longer
     * than {@code max.block.ms}) must be retried, not aborted (Kafka refuses the abort, and every later transaction,
     * until it is). Ends when the commit does, fails, or the producer is closed under it.
     */
    void commit() {
        for (int attempt = 1; ; attempt++) {
            try {
                producer.commitTransaction();
                return;
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                LOG.warn("Kafka store: a transaction's commit is not confirmed yet (attempt {}), waiting on: {}", attempt,
                        e.getMessage());
            }
        }
    }

    /** The open transaction failed with {@code e}: ends it, so that the next one can begin. */
    void failed(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ProducerFencedException || c instanceof InvalidProducerEpochException) {
                fenced(c);
                return;
            }
        }
        try {
            producer.abortTransaction();
        } catch (ProducerFencedException | InvalidProducerEpochException f) {
            fenced(f);
        } catch (RuntimeException abortFailed) {
            LOG.warn("Kafka store: aborting a failed transaction failed too ({}); the transactional producer is "
                    + "renewed before the next one", abortFailed.toString());
            broken = true;
        }
    }

    private void fenced(Throwable e) {
        LOG.warn("Kafka store: Kafka ended this node's transaction ({}): another node took the active role, or the "
                + "transaction outlived transaction.timeout.ms; asking the nodes' group", e.toString());
        broken = true;
        fenced = true;
        try {
            renew();
        } catch (RuntimeException notYet) {
            // stopped, or renewed before the next transaction
        }
    }

    /** A new producer takes the id again, if the group still counts this node as the active one. */
    private void renew() {
        Boolean holds = holdsRole.get();
        if (Boolean.FALSE.equals(holds) || (holds == null && fenced)) {
            LOG.error("Kafka store: {}; this node stops", holds == null
                    ? "the transactional producer was fenced and the nodes' group did not answer"
                    : "another node holds the active role now");
            stop.run();
            throw new IllegalStateException("this node lost the active role");
        }
        if (holds == null) {
            throw new IllegalStateException("the transactional producer could not go on and the nodes' group did not "
                    + "answer; it is renewed before the next transaction");
        }
        producer.close(Duration.ZERO);
        init();
        broken = false;
        fenced = false;
        renewals++;
        LOG.info("Kafka store: this node still holds the active role; a new transactional producer took the id ({} "
                + "renewal(s) so far)", renewals);
    }

    int renewals() {
        return renewals;
    }

    void close(Duration grace) {
        if (producer != null) {
            producer.close(grace);
        }
    }
}
