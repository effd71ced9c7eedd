package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.BrokerException.Reason;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.spi.TopicFilter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The broker's topics (an address's partitioned log) by address: made on a first publish (when
 * {@code broker.auto-create-topics} allows it) or by an adapter with a partition count, made again at a start from the
 * counts kept in the store's state ({@value #TOPICS}), deleted by operators. A queue's topic makes the queue's
 * subscription before its partitions take messages. Read from any context; a topic is made once
 * ({@code computeIfAbsent}).
 */
final class BrokerTopics {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerTopics.class);
    /** The namespace of the store's state that keeps each topic's partition count, by address. */
    static final String TOPICS = "omnibus.topics";

    private final DefaultBroker broker;
    private final ConcurrentHashMap<Address, BrokerTopic> topics = new ConcurrentHashMap<>();

    BrokerTopics(DefaultBroker broker) {
        this.broker = broker;
    }

    int size() {
        return topics.size();
    }

    /**
     * The partition a publish of {@code envelope} goes to: {@code partition}, or the one its topic chooses when
     * negative; the topic is made when missing and broker.auto-create-topics allows it.
     */
    BrokerPartition partitionFor(Envelope envelope, int partition) throws BrokerException {
        BrokerTopic topic = topics.get(envelope.address());
        if (topic == null) {
            if (!broker.config().autoCreateTopics()) {
                throw new BrokerException(Reason.UNKNOWN_ADDRESS, "address '" + envelope.address()
                        + "' does not exist and broker.auto-create-topics is false");
            }
            topic = topicFor(envelope.address());
        }
        if (partition >= topic.partitions.length) {
            throw new BrokerException(Reason.NOT_FOUND, "address '" + envelope.address() + "' has "
                    + topic.partitions.length + " partitions; there is no partition " + partition);
        }
        return partition >= 0 ? topic.partitions[partition] : topic.choose(envelope);
    }

    private BrokerTopic topicFor(Address address) {
        return topicFor(address, 0);
    }

    /** The topic, created with {@code partitions} (the configured count when 0) if it does not exist. */
    private BrokerTopic topicFor(Address address, int partitions) {
        BrokerTopic[] created = new BrokerTopic[1];
        BrokerTopic t = topics.computeIfAbsent(address, a -> {
            boolean queue = broker.config().isQueue(a);
            int count = partitions > 0 ? partitions : broker.config().partitionsFor(a);
            created[0] = new BrokerTopic(broker, a, count, queue, !queue);
            return created[0];
        });
        if (created[0] != null && t.queue) {
            // nothing is appended before the queue's subscription exists, so the first message waits for its consumer
            broker.subscribe(new SubscriptionSpec(address.name(), TopicFilter.exactly(address), true, null))
                    .onComplete(ar -> {
                        if (ar.failed()) {
                            LOG.error("could not create the queue subscription of {}", address, ar.cause());
                        }
                        for (BrokerPartition p : t.partitions) {
                            p.open();
                        }
                    });
        }
        return t;
    }

    /** The partition count; creates the topic (its count kept in the store's state) when asked to. */
    Future<Integer> partitionCount(Address address, int partitions, boolean create) {
        BrokerTopic t = topics.get(address);
        if (t != null) {
            return Future.succeededFuture(t.partitions.length);
        }
        if (!create) {
            return Future.failedFuture(new BrokerException(Reason.UNKNOWN_ADDRESS, "address '" + address
                    + "' does not exist"));
        }
        BrokerTopic made = topicFor(address, partitions);
        return broker.store().putState(TOPICS, address.name(), Integer.toString(made.partitions.length)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)).map(v -> made.partitions.length);
    }

    /**
     * Deletes a topic: it is forgotten, its partitions are emptied in the store (offsets go on from their ends
     * if it is made again), its kept partition count removed. Completes with false when it did not exist.
     */
    Future<Boolean> delete(Address address) {
        BrokerTopic t = topics.remove(address);
        if (t == null) {
            return Future.succeededFuture(false);
        }
        List<Future<Void>> done = new ArrayList<>();
        for (BrokerPartition p : t.partitions) {
            Promise<Void> truncated = Promise.promise();
            Contexts.run(p.ctx, () -> broker.store().truncate(p.tp).onComplete(truncated));
            done.add(truncated.future());
        }
        done.add(broker.store().putState(TOPICS, address.name(), null));
        return Future.all(done).map(cf -> true);
    }

    /** The partition count of an existing topic, 0 when it does not exist. */
    int existingPartitionCount(Address address) {
        BrokerTopic t = topics.get(address);
        return t == null ? 0 : t.partitions.length;
    }

    Map<Address, Integer> counts() {
        Map<Address, Integer> out = new java.util.HashMap<>();
        topics.forEach((a, t) -> out.put(a, t.partitions.length));
        return out;
    }

    /** The partition's context, or null when the topic or partition does not exist. */
    Context partitionContext(Address address, int partition) {
        BrokerTopic t = topics.get(address);
        return t == null || partition < 0 || partition >= t.partitions.length ? null : t.partitions[partition].ctx;
    }

    /**
     * On the partition's context: runs {@code r} after the next append to it. False when the partition is gone
     * (its topic was deleted, or made again with fewer partitions): nothing will run.
     */
    boolean onNextAppend(Address address, int partition, Runnable r) {
        BrokerPartition p = existingPartition(address, partition);
        if (p == null || Vertx.currentContext() != p.ctx) {
            return false;
        }
        p.appendWaiters.add(r);
        return true;
    }

    /** On the partition's context: forgets a waiter added by {@link #onNextAppend}. */
    void cancelNextAppend(Address address, int partition, Runnable r) {
        BrokerPartition p = existingPartition(address, partition);
        if (p != null && Vertx.currentContext() == p.ctx) {
            p.appendWaiters.remove(r);
        }
    }

    private BrokerPartition existingPartition(Address address, int partition) {
        BrokerTopic t = topics.get(address);
        return t == null || partition < 0 || partition >= t.partitions.length ? null : t.partitions[partition];
    }

    /** A topic the store holds, made again at a start. */
    void restore(Address address, int partitions, boolean queue) {
        topics.put(address, new BrokerTopic(broker, address, partitions, queue, true));
    }

    List<TopicView> views() {
        List<TopicView> out = new ArrayList<>();
        for (BrokerTopic t : topics.values()) {
            long messages = 0;
            long bytes = 0;
            long start = 0;
            long end = 0;
            for (BrokerPartition p : t.partitions) {
                messages += p.messages;
                bytes += p.bytes;
                start += broker.store().startOffset(p.tp);
                end += broker.store().endOffset(p.tp);
            }
            out.add(new TopicView(t.address.name(), t.partitions.length, t.queue, messages, bytes, start, end));
        }
        out.sort(Comparator.comparing(TopicView::name));
        return out;
    }
}
