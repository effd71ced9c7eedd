package io.omnibus.core.internal;

import io.omnibus.core.config.BrokerConfig;
import io.omnibus.core.config.DeliveryPolicy;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.TopicFilter;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A broker's start on a store that holds something: what it kept is put back before anything is served. */
final class BrokerRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultBroker.class);

    private BrokerRecovery() {
    }

    /**
     * Brings back topics and durable subscriptions after a restart: each subscription resumes on its cursors,
     * and its backlog is read from the log as its consumers take it.
     */
    static Future<Void> recover(DefaultBroker broker) {
        MessageStore store = broker.store();
        BrokerConfig config = broker.config();
        broker.retainedMessages().recover();
        // partitions with messages say a topic exists; a kept count (Kafka CreateTopics) says how many partitions it
        // has; empty partitions alone (what a deleted topic leaves) say nothing: such a topic comes back on first use
        Map<Address, Integer> stored = new java.util.HashMap<>();
        for (TopicPartition tp : store.partitions()) {
            if (store.startOffset(tp) < store.endOffset(tp)) {
                stored.merge(tp.address(), tp.partition() + 1, Math::max);
            }
        }
        store.states(BrokerTopics.TOPICS).forEach((name, count) -> {
            try {
                stored.put(Address.of(name), Integer.parseInt(new String(count, java.nio.charset.StandardCharsets.UTF_8)));
            } catch (RuntimeException e) {
                LOG.error("the partition count kept for {} cannot be read back: {}", name, e.toString());
            }
        });
        stored.forEach((a, n) -> broker.topics().restore(a, Math.max(config.partitionsFor(a), n), config.isQueue(a)));
        return store.subscriptions().compose(saved -> {
            Promise<Void> done = Promise.promise();
            Contexts.run(broker.shards().registry(), () -> {
                List<Future<?>> reads = new ArrayList<>();
                Map<SubscriptionQueue, Map<TopicPartition, CursorState>> queues = new java.util.LinkedHashMap<>();
                saved.forEach((record, cursors) -> {
                    TopicFilter filter = TopicFilter.of(record.filter());
                    DeliveryPolicy policy = config.policyFor(record.name(), filter, record.policy());
                    java.util.function.Predicate<Envelope> selects;
                    try {
                        selects = broker.selection(record.selector(), record.noLocal());
                    } catch (BrokerException e) {
                        LOG.error("subscription {}: its selector no longer parses ({}); it takes every message",
                                record.name(), e.getMessage());
                        selects = null;
                    }
                    SubscriptionQueue q = new SubscriptionQueue(broker, record.name(), filter, true,
                            broker.shards().forName(record.name()), policy, record.selector(), record.noLocal(), selects);
                    broker.subscriptions().register(q);
                    queues.put(q, cursors);
                });
                Map<SubscriptionQueue, List<TopicPartition>> matched = matching(store.partitions(), queues.keySet());
                queues.forEach((q, cursors) -> reads.add(replay(store, q, cursors, matched.getOrDefault(q, List.of()))));
                Future.all(reads).<Void>mapEmpty().onComplete(done);
            });
            return done.future();
        });
    }

    /**
     * The stored partitions each subscription's filter matches, found by walking each address through a tree of the
     * filters (one node per distinct filter): not every filter against every partition, which took 7-9 s of a start
     * with 12,000 MQTT sessions and 10,000 topics.
     */
    private static Map<SubscriptionQueue, List<TopicPartition>> matching(java.util.Set<TopicPartition> partitions,
                                                                          java.util.Collection<SubscriptionQueue> queues) {
        TopicTree<List<SubscriptionQueue>> filters = TopicTree.grouped(queues, q -> q.filter);
        Map<SubscriptionQueue, List<TopicPartition>> out = new java.util.HashMap<>();
        for (TopicPartition tp : partitions) {
            filters.match(tp.address(), same -> same.forEach(q -> out.computeIfAbsent(q, x -> new ArrayList<>()).add(tp)));
        }
        return out;
    }

    /**
     * Puts a recovered subscription back on its cursors: each partition it has a cursor for is read from there on;
     * a partition it matches without a cursor began after the subscription was made (a new subscription's cursors
     * start at the end of every partition it matched then), so it is read from its start. Messages are read back
     * when consumers attach; until then they are lag.
     */
    private static Future<Void> replay(MessageStore store, SubscriptionQueue q, Map<TopicPartition, CursorState> cursors,
                                       List<TopicPartition> matched) {
        Promise<Void> done = Promise.promise();
        q.mailbox.run(() -> {
            cursors.forEach(q::restoreCursor);
            for (TopicPartition tp : matched) {
                if (!cursors.containsKey(tp)) {
                    q.discoverPartition(tp, store.startOffset(tp));
                }
            }
            q.recovered();
            done.complete();
        });
        return done.future();
    }
}
