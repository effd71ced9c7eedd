package io.omnibus.core.spi;

import io.vertx.core.Future;

/**
 * A local transaction of the core, for protocols that have them (AMQP 1.0 transactions now): the messages
 * published in it become visible together when it commits and never when it rolls back; acknowledgements made in
 * it take effect at commit, and at rollback their messages go back as failed attempts (delivered again with their
 * delivery count raised, dead-lettered past the subscription's maximum).
 *
 * <p>Staged messages are held in memory until the commit, which stores all of them as one atomic append together
 * with the cursor states its acknowledgements leave on durable subscriptions: after a crash a committed
 * transaction's messages are all there and the messages it consumed stay consumed; an uncommitted one left no
 * trace. The acknowledgements are applied in memory (so the messages are delivered to nobody else) once the append
 * is stored.
 *
 * <p>Confined to the context that began it: call it from there. After commit or rollback it is over.
 */
public interface Transaction {
    /**
     * Stages a message. Fails at once, leaving the transaction usable, when the message could never be published
     * (over {@code broker.max-message-size}, past {@code broker.max-transaction-size} staged in this transaction, or
     * past {@code broker.max-staged-bytes} staged by all open transactions together).
     */
    Future<Void> publish(Envelope envelope);

    /** Stages a message for one partition of its address (a negative one: where the address chooses). */
    Future<Void> publish(Envelope envelope, int partition);

    /**
     * Stages a change to an adapter's durable key-value state ({@link Broker#putState}), written in the same atomic
     * append as the messages: a protocol's record of what the transaction did (a RocketMQ transaction's outcome)
     * is there exactly when its messages are.
     */
    void putState(String namespace, String key, byte[] value);

    /** Stages the acknowledgement of {@code delivery}, which {@code consumer} delivered. */
    void acknowledge(Consumer consumer, Delivery delivery);

    /** Messages staged so far. */
    int staged();

    /**
     * Publishes what was staged, atomically, then applies the acknowledgements. On failure nothing was
     * published and the acknowledgements are undone as by a rollback.
     */
    Future<Void> commit();

    /** Drops the staged messages; the acknowledged messages go back as failed attempts. */
    Future<Void> rollback();

    /** Where prepared transactions keep their messages until they are resolved: a log of the gateway's own. */
    Address PREPARED = Address.of("$tx/prepared");

    /**
     * The first phase of a two-phase transaction (RocketMQ's transactional messages now, Kafka's later): the staged
     * messages are made durable in {@link #PREPARED}, invisible to consumers, and the transaction survives restarts
     * until {@link Broker#resolve} commits it (its messages published atomically, once) or rolls it back, from any
     * connection. Completes with its id: the offset of its first message in {@link #PREPARED}, in decimal. Staged
     * acknowledgements and state changes are not part of a prepared transaction (it fails if there are any); the
     * transaction is over here.
     */
    Future<String> prepare(java.util.Map<String, String> attributes);
}
