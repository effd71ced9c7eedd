package io.omnibus.core.spi;

import io.vertx.core.Future;

import java.util.List;
import java.util.Map;

/**
 * The broker as adapters see it. Every method may be called from any thread; futures complete
 * on the caller's Vert.x context (or on a broker thread when the caller has none). Failures are
 * {@link BrokerException}s whose reason an adapter maps to its protocol's error.
 */
public interface Broker {
    /**
     * Stores and routes one message. Completes once the message is as durable as the store's
     * policy says (never before): only then may an adapter acknowledge its producer.
     */
    Future<PublishResult> publish(Envelope envelope);

    /**
     * Stores and routes a run of messages to one address, in order, each where {@link #publish} would put it.
     * Completes once all are as durable as {@code publish}'s would be; fails when any was not stored (some of the
     * others may have been: a producer that resends them duplicates those, loses none). Cheaper than a publish each:
     * one hand-over and one append per partition the run goes to. For an adapter that has several messages of one
     * producer at once (the packets of one read).
     */
    default Future<Void> publishAll(List<Envelope> envelopes) {
        List<Future<PublishResult>> each = new java.util.ArrayList<>(envelopes.size());
        for (Envelope e : envelopes) {
            each.add(publish(e));
        }
        return Future.all(each).mapEmpty();
    }

    /**
     * Adds a protocol's names to the selector language (an adapter calls it once, when it is created): see
     * {@link SelectorVocabulary}.
     */
    void addSelectorVocabulary(SelectorVocabulary vocabulary);

    /**
     * The predicate of a message selector, for protocols that filter what their clients read by offset (RocketMQ's
     * SQL92 filters); subscriptions take theirs in {@link SubscriptionSpec}. Fails with
     * {@link BrokerException.Reason#INVALID_SELECTOR} when it does not parse.
     */
    java.util.function.Predicate<Envelope> selector(String expression);

    /** Begins a local transaction ({@link Transaction}), confined to the caller's context. */
    Transaction begin();

    /**
     * Resolves a prepared transaction ({@link Transaction#prepare}): commit publishes its messages atomically with
     * the outcome, rollback records the outcome. A transaction resolved before keeps its first outcome and this
     * completes as if it had been resolved now (a late or repeated resolution never publishes twice); an id that
     * was never prepared (or whose record retention removed) fails with {@code NOT_FOUND}.
     */
    Future<Void> resolve(String preparedId, boolean commit);

    /** The prepared transactions not resolved yet, oldest first (after a restart: as recovered). */
    Future<List<PreparedTransaction>> preparedTransactions();

    /** The messages of a prepared transaction not resolved yet, as they will be published; {@code NOT_FOUND} else. */
    Future<List<PreparedTransaction.Staged>> preparedMessages(String preparedId);

    /** Offset-addressed access to the partition logs (Kafka, RocketMQ). */
    Logs logs();

    /** The largest payload {@link #publish} accepts ({@code broker.max-message-size}), for protocols that announce it. */
    int maxMessageSize();

    /**
     * Creates the subscription, or returns the existing one of that name when its filter is the
     * same (otherwise fails with {@link BrokerException.Reason#SUBSCRIPTION_CONFLICT}).
     */
    Future<Subscription> subscribe(SubscriptionSpec spec);

    /**
     * Records a consumer group's committed position in one partition of {@code address}, for protocols whose
     * consumers read the log by offset and commit (Kafka, RocketMQ): the group is a durable cursor of the core named
     * {@code subscription} (made on first use), so it shows in the admin API with its lag and retention keeps what
     * it has not consumed. Everything before {@code nextOffset} counts as consumed; it may move back. The
     * protocol's own committed offsets stay the protocol's answer to its clients. Name it
     * {@code PROTOCOL-group:GROUP@ADDRESS} ({@link #GROUP_CURSOR}): operators' actions (purge, pause) refuse such
     * cursors, which follow the group's commits rather than lead them.
     */
    Future<Void> commitPosition(String subscription, Address address, int partition, long nextOffset);

    /** The names of the cursors {@link #commitPosition} keeps: {@code kafka-group:billing@orders}. */
    java.util.regex.Pattern GROUP_CURSOR = java.util.regex.Pattern.compile("[a-z0-9]+-group:.+@.+");

    /** Deletes a subscription and drops its backlog; completes even when it did not exist. */
    Future<Void> unsubscribe(String name);

    /**
     * Makes {@code envelope} the retained message of its address, or clears it when the payload is
     * empty. Completes once as durable as the store's policy says.
     */
    Future<Void> retain(Envelope envelope);

    /** The retained messages of the addresses {@code filter} matches ({@code $} addresses only for filters naming them). */
    List<Envelope> retained(TopicFilter filter);

    /**
     * Durable key-value state an adapter keeps for itself (MQTT sessions, for instance), in a
     * namespace it owns; a null value removes the key. Completes once durable.
     */
    Future<Void> putState(String namespace, String key, byte[] value);

    /** The state of a namespace, as last written (after a restart: as recovered): a copy, made at each call. */
    Map<String, byte[]> states(String namespace);

    /** One key's state, as last written, or null: a lookup, not a copy of the namespace as {@link #states} makes. */
    default byte[] state(String namespace, String key) {
        return states(namespace).get(key);
    }
}
