package io.omnibus.core.store;

import io.vertx.core.Future;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The seam between the broker and where messages live. The in-memory store and the durable commit
 * log implement it; the broker does not know which it has.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Per partition, appends are assigned consecutive offsets in call order, and their futures
 *       complete in that order.</li>
 *   <li>An append future completes only once the record is as durable as the store's policy says;
 *       a failed append fails its future (and the producer gets a protocol error), it never throws.</li>
 *   <li>Futures may complete on a store thread; the broker moves back to its own context.</li>
 *   <li>Methods may be called from any thread; they never block the caller.</li>
 * </ul>
 */
public interface MessageStore {
    /** What {@code /health} shows: the kind of store and whether it can take writes. */
    /** Registers the store's own meters (size, disk, fsync latency, ...); none by default. */
    default void instrument(io.micrometer.core.instrument.MeterRegistry registry) {
    }

    String type();

    /** More for {@code /health}'s store section (where the store lives, what it sees); empty by default. */
    default Map<String, Object> status() {
        return Map.of();
    }

    boolean healthy();

    /** Opens the store and runs recovery; completes when it is ready for appends. */
    Future<Void> open();

    /** Appends a message to the end of a partition and returns its offset. */
    Future<Long> append(TopicPartition partition, io.omnibus.core.spi.Envelope envelope);

    /**
     * Appends messages to the end of a partition at consecutive offsets, all or none (a producer retrying a
     * failed batch must not find part of it stored), and returns the first one's offset.
     */
    Future<Long> appendAll(TopicPartition partition, List<io.omnibus.core.spi.Envelope> envelopes);

    /**
     * Appends to several partitions as one (a transaction's commit), with changes to key-value state and to durable
     * subscriptions' cursors (the transaction's acknowledgements): each batch at consecutive offsets of its partition;
     * after a crash all of them and the changes are there or none.
     * {@code done} gets each batch's first offset, in the
     * order given. The caller attaches its listeners before the call: they run on the store's thread in append
     * order, so the messages can be handed on from there without racing later appends to the same partitions.
     */
    void appendAtomically(List<PartitionBatch> batches, List<StateChange> states, List<CursorChange> cursors,
                          io.vertx.core.Promise<long[]> done);

    /** Reads up to {@code max} messages from {@code fromOffset} (or from the first one kept, if later). */
    Future<List<StoredMessage>> read(TopicPartition partition, long fromOffset, int max);

    /** Whether a {@link io.omnibus.core.spi.WireBatch} appended is kept as it came (else as its messages); false by default. */
    default boolean keepsBatches() {
        return false;
    }

    /**
     * As {@link #read}, for a reader that may want only the batches the messages were kept in
     * ({@link StoredMessage#batch()}): a store may leave the messages of such a batch to be decoded when
     * {@link StoredMessage#envelope()} is first called, by the caller; with {@code inFiles}, it may also give a batch
     * as the place of its bytes in a file ({@link io.omnibus.core.spi.WireBatch#file()}) without reading them. As
     * {@link #read} by default.
     */
    default Future<List<StoredMessage>> readLazily(TopicPartition partition, long fromOffset, int max, boolean inFiles) {
        return read(partition, fromOffset, max);
    }

    /** The offset of the first message kept (retention may have dropped earlier ones). */
    long startOffset(TopicPartition partition);

    /** The offset the next append will get. */
    long endOffset(TopicPartition partition);

    /**
     * Drops every message of a partition (a deleted topic): its start moves to its end, durably, and
     * offsets go on from there. The space is freed as retention frees it.
     */
    Future<Void> truncate(TopicPartition partition);

    /**
     * Truncates the partition only if the offset its next append gets is {@code end}, counting appends accepted
     * and not yet written: nothing appended after {@code end} is dropped. Completes with whether it truncated.
     */
    Future<Boolean> truncateIfEndsAt(TopicPartition partition, long end);

    /** Every partition the store holds. */
    Set<TopicPartition> partitions();

    /** Saves a durable subscription (idempotent) or, with {@link #deleteSubscription}, forgets it and its cursors. */
    Future<Void> saveSubscription(SubscriptionRecord record);

    Future<Void> deleteSubscription(String name);

    /** Records a cursor's new state. Stores may coalesce calls; the latest state for a pair wins. */
    void saveCursor(String subscription, TopicPartition partition, CursorState state);

    /** The durable subscriptions and their cursors, as of the last save, for recovery on start. */
    Future<Map<SubscriptionRecord, Map<TopicPartition, CursorState>>> subscriptions();

    /**
     * Sets ({@code value} non-null) or removes durable key-value state in a namespace: retained
     * messages and protocol sessions live here. Completes once as durable as the fsync policy says.
     */
    Future<Void> putState(String namespace, String key, byte[] value);

    /** The state of a namespace as of now (after recovery: as of the crash): a copy, made at each call. */
    Map<String, byte[]> states(String namespace);

    /**
     * One key's state as of now, or null: a lookup, where {@link #states} copies the namespace (an MQTT CONNECT among
     * a million sessions asks for one).
     */
    default byte[] state(String namespace, String key) {
        return states(namespace).get(key);
    }

    /** Messages dropped so far to stay within retention limits (for the metric). */
    long droppedByRetention();

    /**
     * What to do when the store learns that a partition's log grew by appends this node did not make (a store shared
     * by several nodes: another node's, e.g. a node that lost the active role and whose producer still sent what it
     * held). {@code grew} gets the partition and the offset where this node's appends had ended (the first of the
     * others' it may hold; the partition's start for one this node did not know), and runs on a store thread. A store
     * only this node writes never calls it (the default).
     */
    default void onAppendedElsewhere(java.util.function.ObjLongConsumer<TopicPartition> grew) {
    }

    /**
     * Whether other nodes share this store, one serving at a time while the others wait as standbys (which then pass
     * their clients' connections on to the serving node: {@link #servingNode()}). False by default.
     */
    default boolean sharedByNodes() {
        return false;
    }

    /**
     * Tells the other nodes sharing the store where this node, now serving, listens ({@link ServingNode#ports()}'s
     * names). Nothing by default.
     */
    default void advertise(Map<String, Integer> ports) {
    }

    /**
     * The IP addresses the nodes sharing this store reach its backing cluster from, as that cluster sees them (this
     * node's among them), as last looked at; empty by default.
     */
    default java.util.Collection<String> nodeAddresses() {
        return java.util.List.of();
    }

    /**
     * The node serving now, as far as this node knows; null when it is this node, when none is, or when where it
     * listens is not known yet. Null by default.
     */
    default ServingNode servingNode() {
        return null;
    }

    /** Makes everything appended so far durable. */
    Future<Void> flush();

    /** Flushes and releases the store; nothing may be called after. */
    Future<Void> close();
}
