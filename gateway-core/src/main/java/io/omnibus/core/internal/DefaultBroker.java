package io.omnibus.core.internal;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.omnibus.core.config.BrokerConfig;
import io.omnibus.core.config.DeliveryPolicy;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.BrokerException.Reason;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.PublishResult;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.spi.TopicFilter;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.PartitionBatch;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker: topics (partitioned logs in the store) and subscriptions (cursors with dispatch).
 *
 * <p>Confinement: each topic partition and each subscription belongs to one of a fixed set of
 * broker contexts (shards), chosen by hashing its name; the subscription registry (the topic tree)
 * is written only on shard 0 and read anywhere. Work is handed over with
 * {@code runOnContext}, so per-partition order is the order of calls.
 */
public final class DefaultBroker implements Broker {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultBroker.class);

    private final Vertx vertx;
    private final MessageStore store;
    private final BrokerConfig config;
    private final BrokerMetrics metrics;
    private final List<Context> shards;
    private final ConcurrentHashMap<Address, Topic> topics = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, SubscriptionQueue> subscriptions = new ConcurrentHashMap<>();
    private final TopicTree<SubscriptionQueue> tree = new TopicTree<>();
    private final AtomicInteger publishing = new AtomicInteger();
    private final ConcurrentHashMap<Address, Envelope> retained = new ConcurrentHashMap<>();
    private static final String RETAINED = "omnibus.retained";
    private volatile boolean closing;
    private volatile Promise<Void> drained;

    /** One address: its partitions, and whether it is a queue whose default subscription must exist first. */
    private final class Topic {
        final Address address;
        final Partition[] partitions;
        final boolean queue;
        final AtomicInteger next = new AtomicInteger();

        Topic(Address address, int partitionCount, boolean queue, boolean ready) {
            this.address = address;
            this.queue = queue;
            this.partitions = new Partition[partitionCount];
            for (int i = 0; i < partitionCount; i++) {
                TopicPartition tp = new TopicPartition(address, i);
                partitions[i] = new Partition(this, tp, shardFor(tp.toString()), ready);
            }
        }

        Partition choose(Envelope e) {
            if (partitions.length == 1) {
                return partitions[0];
            }
            // the key's partition is the one a Kafka producer's default partitioner picks for the same key
            int h = e.hasKey() ? Murmur2.hash(e.key()) : next.getAndIncrement();
            return partitions[(h & Integer.MAX_VALUE) % partitions.length];
        }
    }

    private final class Partition {
        final Topic topic;
        final TopicPartition tp;
        final Context ctx;
        // confined to ctx
        boolean ready;
        /** Atomic appends to this and other partitions queued and not yet routed: appends wait meanwhile. */
        int held;
        final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
        /** Waiting for the next append (long polls of {@link Logs#awaitAppend}); confined to ctx. */
        final ArrayDeque<Runnable> appendWaiters = new ArrayDeque<>();
        // written on ctx, read by the admin API
        volatile long messages;
        volatile long bytes;

        Partition(Topic topic, TopicPartition tp, Context ctx, boolean ready) {
            this.topic = topic;
            this.tp = tp;
            this.ctx = ctx;
            this.ready = ready;
        }

        /** On ctx: append, then route, then answer; held back until the queue subscription exists. */
        void append(Envelope e, Promise<PublishResult> promise) {
            append(List.of(e), promise);
        }

        /** On ctx: the batch is stored whole (or not at all) at consecutive offsets, then routed in order. */
        void append(List<Envelope> batch, Promise<PublishResult> promise) {
            if (!ready || held > 0) {
                waiting.add(() -> append(batch, promise));
                return;
            }
            long began = System.nanoTime();
            Future<Long> stored = batch.size() == 1 ? store.append(tp, batch.get(0)) : store.appendAll(tp, batch);
            // always queued, never run inline: a future the writer completed before this listener was attached would
            // otherwise be routed at once, ahead of earlier appends still queued on ctx, and a subscription meeting
            // the partition for the first time would start its cursor past them and drop them as acknowledged
            stored.onComplete(ar -> ctx.runOnContext(v -> {
                if (ar.failed()) {
                    promise.fail(storeFailure(ar.cause()));
                } else {
                    metrics.stored(batch.get(0).origin().protocol(), System.nanoTime() - began);
                    routeStored(batch, ar.result(), promise);
                }
                publishDone(batch.size());
            }));
        }

        /** On ctx: messages stored at {@code offset} on are routed, each subscription getting its run in one hop. */
        void routeStored(List<Envelope> batch, long offset, Promise<PublishResult> promise) {
            List<Future<Void>> full = new ArrayList<>(0);
            int routed = 0;
            long first = offset;
            Map<SubscriptionQueue, List<StoredMessage>> runs = new java.util.LinkedHashMap<>();
            boolean held = tp.address().equals(io.omnibus.core.spi.Transaction.PREPARED);
            long now = System.currentTimeMillis();
            for (Envelope e : batch) {
                messages++;
                bytes += e.payloadSize();
                if (!held) { // a prepared transaction's messages count once, when it commits
                    metrics.messageIn(e.origin().protocol(), e);
                }
                routed = route(new StoredMessage(tp, offset++, e, now), full, runs);
            }
            runs.forEach(SubscriptionQueue::offer);
            while (!appendWaiters.isEmpty()) {
                appendWaiters.poll().run();
            }
            PublishResult result = new PublishResult(tp.address(), tp.partition(), first, routed);
            if (full.isEmpty()) {
                promise.complete(result);
            } else { // overflow: block: acknowledged when the consumers have caught up
                Future.all(full).onComplete(x -> promise.complete(result));
            }
        }

        BrokerException storeFailure(Throwable cause) {
            return new BrokerException(Reason.STORE_FAILURE, "could not store the message for " + tp.address() + ": "
                    + cause.getMessage(), cause);
        }

        /**
         * On ctx: an atomic append to several partitions is about to be queued; appends here wait until it is
         * routed, so offsets and routing keep one order. Holds of several such appends do not wait for each other.
         */
        void hold(Promise<Void> held) {
            if (!ready) {
                waiting.add(() -> hold(held));
                return;
            }
            this.held++;
            held.complete();
        }

        /** On ctx: the atomic append is routed (or failed); the appends that waited go on. */
        void release() {
            held--;
            runWaiting();
        }

        private void runWaiting() {
            while (ready && held == 0 && !waiting.isEmpty()) {
                waiting.poll().run();
            }
        }

        void open() {
            Contexts.run(ctx, () -> {
                ready = true;
                runWaiting();
            });
        }
    }

    private DefaultBroker(Vertx vertx, MessageStore store, BrokerConfig config, BrokerMetrics metrics, List<Context> shards) {
        this.vertx = vertx;
        this.store = store;
        this.config = config;
        this.metrics = metrics;
        this.shards = shards;
        this.prepared = new PreparedTransactions(this, store, shards.get(0));
        Gauge.builder("omnibus.subscriptions.backlog", this, b -> b.subscriptions.values().stream()
                .mapToLong(SubscriptionQueue::backlog).sum())
                .description("Messages waiting in subscriptions, all subscriptions together").register(metrics.registry());
        Gauge.builder("omnibus.subscriptions", subscriptions, Map::size)
                .description("Subscriptions").register(metrics.registry());
        Gauge.builder("omnibus.topics", topics, Map::size).description("Topics (addresses with a log)")
                .register(metrics.registry());
        FunctionCounter.builder("omnibus.store.retention.dropped", store, MessageStore::droppedByRetention)
                .description("Messages the store dropped to stay within its retention limits").register(metrics.registry());
    }

    /** Starts the broker contexts, opens the store and brings back the durable subscriptions. */
    public static Future<DefaultBroker> start(Vertx vertx, MessageStore store, BrokerConfig config, BrokerMetrics metrics) {
        int n = config.shards() > 0 ? config.shards() : Math.max(1, 2 * Runtime.getRuntime().availableProcessors());
        List<Context> shards = new CopyOnWriteArrayList<>();
        return vertx.deployVerticle(() -> new VerticleBase() {
                    @Override
                    public Future<?> start() {
                        shards.add(context);
                        return Future.succeededFuture();
                    }
                }, new DeploymentOptions().setInstances(n))
                .compose(id -> store.open())
                .compose(v -> {
                    DefaultBroker broker = new DefaultBroker(vertx, store, config, metrics, List.copyOf(shards));
                    return broker.recover().compose(x -> broker.prepared.start()).map(x -> {
                        store.onAppendedElsewhere(broker::grewElsewhere);
                        return broker;
                    });
                });
    }

    /**
     * Another node appended to {@code tp} from {@code from} on: every subscription matching it reads what it has not
     * seen.
     */
    private void grewElsewhere(TopicPartition tp, long from) {
        for (SubscriptionQueue q : subscriptions.values()) {
            if (q.filter.matches(tp.address())) {
                Contexts.run(q.ctx, () -> q.logGrew(tp, from));
            }
        }
    }

    public Vertx vertx() {
        return vertx;
    }

    public MessageStore store() {
        return store;
    }

    BrokerMetrics metrics() {
        return metrics;
    }

    public BrokerConfig config() {
        return config;
    }

    private Context shardFor(String name) {
        return shards.get((name.hashCode() & Integer.MAX_VALUE) % shards.size());
    }

    private Context registry() {
        return shards.get(0);
    }

    // ---- publish ----------------------------------------------------------------------------------

    @Override
    public int maxMessageSize() {
        return (int) Math.min(Integer.MAX_VALUE, config.maxMessageSize());
    }

    private final Selectors selectors = new Selectors();
    private final PreparedTransactions prepared;

    @Override
    public Future<Void> resolve(String preparedId, boolean commit) {
        return prepared.resolve(preparedId, commit);
    }

    @Override
    public Future<List<io.omnibus.core.spi.PreparedTransaction>> preparedTransactions() {
        return prepared.list();
    }

    @Override
    public Future<List<io.omnibus.core.spi.PreparedTransaction.Staged>> preparedMessages(String preparedId) {
        return prepared.messages(preparedId);
    }

    /** The first phase of a two-phase transaction: see {@link PreparedTransactions}. */
    Future<String> prepare(List<Envelope> messages, List<Integer> partitions, Map<String, String> attributes) {
        return prepared.prepare(messages, partitions, attributes);
    }

    @Override
    public void addSelectorVocabulary(io.omnibus.core.spi.SelectorVocabulary vocabulary) {
        selectors.add(vocabulary);
    }

    @Override
    public java.util.function.Predicate<Envelope> selector(String expression) {
        return selectors.compile(expression);
    }

    /** What a subscription takes of what its filter matches: null for everything. */
    private java.util.function.Predicate<Envelope> selection(String selector, String noLocal) {
        java.util.function.Predicate<Envelope> selects = selector == null ? null : selectors.compile(selector);
        if (noLocal == null) {
            return selects;
        }
        java.util.function.Predicate<Envelope> notOwn = SubscriptionSpec.notFrom(noLocal);
        return selects == null ? notOwn : notOwn.and(selects);
    }

    /** Payload bytes open transactions stage in memory, all together (broker.max-staged-bytes). */
    private final java.util.concurrent.atomic.AtomicLong staged = new java.util.concurrent.atomic.AtomicLong();

    boolean reserveStaged(long bytes) {
        if (staged.addAndGet(bytes) > config.maxStagedBytes()) {
            staged.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    void releaseStaged(long bytes) {
        staged.addAndGet(-bytes);
    }

    @Override
    public io.omnibus.core.spi.Transaction begin() {
        return new LocalTransaction(this);
    }

    @Override
    public Logs logs() {
        return logs;
    }

    private final Logs logs = new PartitionLogs(this);

    @Override
    public Future<PublishResult> publish(Envelope envelope) {
        return publish(envelope, -1);
    }

    /** Publishes to {@code partition}, or to the one the topic chooses when it is negative. */
    Future<PublishResult> publish(Envelope envelope, int partition) {
        return publish(List.of(envelope), partition);
    }

    /**
     * Publishes messages of one address to one partition (the one the topic chooses for the first, when
     * negative): stored whole or not at all, at consecutive offsets; completes with the first one's result.
     */
    Future<PublishResult> publish(List<Envelope> batch, int partition) {
        Context caller = Vertx.currentContext();
        Envelope first = batch.get(0);
        for (Envelope envelope : batch) {
            if (envelope.payloadSize() > config.maxMessageSize()) {
                return Future.failedFuture(new BrokerException(Reason.MESSAGE_TOO_LARGE, "message of "
                        + envelope.payloadSize() + " bytes exceeds broker.max-message-size (" + config.maxMessageSize()
                        + " bytes)"));
            }
            if (!envelope.address().equals(first.address())) {
                throw new IllegalArgumentException("a batch goes to one address: " + first.address() + ", "
                        + envelope.address());
            }
        }
        int n = batch.size();
        publishing.addAndGet(n); // before the check: drain() waits for every publish that passed it
        if (closing) {
            publishDone(n);
            return Future.failedFuture(new BrokerException(Reason.SHUTTING_DOWN, "the gateway is shutting down"));
        }
        Topic topic = topics.get(first.address());
        if (topic == null) {
            if (!config.autoCreateTopics()) {
                publishDone(n);
                return Future.failedFuture(new BrokerException(Reason.UNKNOWN_ADDRESS, "address '" + first.address()
                        + "' does not exist and broker.auto-create-topics is false"));
            }
            topic = topicFor(first.address());
        }
        if (partition >= topic.partitions.length) {
            publishDone(n);
            return Future.failedFuture(new BrokerException(Reason.NOT_FOUND, "address '" + first.address() + "' has "
                    + topic.partitions.length + " partitions; there is no partition " + partition));
        }
        Partition p = partition >= 0 ? topic.partitions[partition] : topic.choose(first);
        Promise<PublishResult> promise = Promise.promise();
        Contexts.run(p.ctx, () -> p.append(batch, promise));
        return Contexts.on(caller, promise.future());
    }

    /**
     * Publishes messages of any addresses as one (a transaction's commit), with changes to adapters' key-value state
     * and durable subscriptions' cursors (the transaction's acknowledgements):
     * each message to {@code partitions[i]}, or where its topic chooses when that is negative (or the array null); all
     * stored with the state changes or none, also across a crash, and routed once all are stored. Completes with
     * their results in order.
     */
    public Future<List<PublishResult>> publishAtomically(List<Envelope> envelopes, int[] partitions,
                                                         List<io.omnibus.core.store.StateChange> states,
                                                         List<io.omnibus.core.store.CursorChange> cursors) {
        Context caller = Vertx.currentContext();
        if (envelopes.isEmpty()) {
            if (states.isEmpty() && cursors.isEmpty()) {
                return Future.succeededFuture(List.of());
            }
            Promise<long[]> written = Promise.promise();
            store.appendAtomically(List.of(), states, cursors, written);
            return Contexts.on(caller, written.future().map(x -> List.of()));
        }
        for (Envelope envelope : envelopes) {
            if (envelope.payloadSize() > config.maxMessageSize()) {
                return Future.failedFuture(new BrokerException(Reason.MESSAGE_TOO_LARGE, "message of "
                        + envelope.payloadSize() + " bytes exceeds broker.max-message-size (" + config.maxMessageSize()
                        + " bytes)"));
            }
        }
        int n = envelopes.size();
        publishing.addAndGet(n);
        if (closing) {
            publishDone(n);
            return Future.failedFuture(new BrokerException(Reason.SHUTTING_DOWN, "the gateway is shutting down"));
        }
        Map<Partition, List<Envelope>> parts = new java.util.LinkedHashMap<>();
        Partition[] placed = new Partition[n];
        for (int i = 0; i < n; i++) {
            Envelope envelope = envelopes.get(i);
            Topic topic = topics.get(envelope.address());
            if (topic == null) {
                if (!config.autoCreateTopics()) {
                    publishDone(n);
                    return Future.failedFuture(new BrokerException(Reason.UNKNOWN_ADDRESS, "address '"
                            + envelope.address() + "' does not exist and broker.auto-create-topics is false"));
                }
                topic = topicFor(envelope.address());
            }
            int wanted = partitions == null ? -1 : partitions[i];
            if (wanted >= topic.partitions.length) {
                publishDone(n);
                return Future.failedFuture(new BrokerException(Reason.NOT_FOUND, "address '" + envelope.address()
                        + "' has " + topic.partitions.length + " partitions; there is no partition " + wanted));
            }
            Partition p = wanted >= 0 ? topic.partitions[wanted] : topic.choose(envelope);
            parts.computeIfAbsent(p, x -> new ArrayList<>()).add(envelope);
            placed[i] = p;
        }
        List<Partition> order = new ArrayList<>(parts.keySet());
        List<Future<Void>> holds = new ArrayList<>(order.size());
        for (Partition p : order) {
            Promise<Void> held = Promise.promise();
            Contexts.run(p.ctx, () -> p.hold(held));
            holds.add(held.future());
        }
        Promise<List<PublishResult>> promise = Promise.promise();
        Future.all(holds).onComplete(x -> Contexts.run(registry(), () -> {
            // one context queues every atomic append, so two of them never reach a partition out of order
            List<PartitionBatch> batches = new ArrayList<>(order.size());
            for (Partition p : order) {
                batches.add(new PartitionBatch(p.tp, parts.get(p)));
            }
            Promise<long[]> stored = Promise.promise();
            stored.future().onComplete(ar -> { // on the store's thread, in append order
                List<Future<PublishResult>> routed = new ArrayList<>(order.size());
                for (int i = 0; i < order.size(); i++) {
                    Partition p = order.get(i);
                    long offset = ar.succeeded() ? ar.result()[i] : -1;
                    Promise<PublishResult> one = Promise.promise();
                    routed.add(one.future());
                    p.ctx.runOnContext(v -> {
                        if (ar.failed()) {
                            one.fail(p.storeFailure(ar.cause()));
                        } else {
                            p.routeStored(parts.get(p), offset, one);
                        }
                        p.release();
                    });
                }
                Future.all(routed).onComplete(all -> {
                    publishDone(n);
                    if (all.failed()) {
                        promise.fail(all.cause());
                        return;
                    }
                    Map<Partition, Long> next = new java.util.HashMap<>(); // each partition's next offset
                    for (int i = 0; i < order.size(); i++) {
                        next.put(order.get(i), routed.get(i).result().offset());
                    }
                    List<PublishResult> results = new ArrayList<>(n);
                    for (Partition p : placed) {
                        long offset = next.merge(p, 1L, Long::sum) - 1;
                        results.add(new PublishResult(p.tp.address(), p.tp.partition(), offset,
                                routed.get(order.indexOf(p)).result().subscriptions()));
                    }
                    promise.complete(results);
                });
            });
            store.appendAtomically(batches, states, cursors, stored);
        }));
        return Contexts.on(caller, promise.future());
    }

    private Topic topicFor(Address address) {
        return topicFor(address, 0);
    }

    /** The topic, created with {@code partitions} (the configured count when 0) if it does not exist. */
    private Topic topicFor(Address address, int partitions) {
        Topic[] created = new Topic[1];
        Topic t = topics.computeIfAbsent(address, a -> {
            boolean queue = config.isQueue(a);
            created[0] = new Topic(a, partitions > 0 ? partitions : config.partitionsFor(a), queue, !queue);
            return created[0];
        });
        if (created[0] != null && t.queue) {
            // nothing is appended before the queue's subscription exists, so the first message waits for its consumer
            subscribe(new SubscriptionSpec(address.name(), TopicFilter.exactly(address), true, null))
                    .onComplete(ar -> {
                        if (ar.failed()) {
                            LOG.error("could not create the queue subscription of {}", address, ar.cause());
                        }
                        for (Partition p : t.partitions) {
                            p.open();
                        }
                    });
        }
        return t;
    }

    // ---- for PartitionLogs -----------------------------------------------------------------------

    static final String TOPICS = "omnibus.topics";

    /** The partition count; creates the topic (its count kept in the store's state) when asked to. */
    Future<Integer> partitionCount(Address address, int partitions, boolean create) {
        Topic t = topics.get(address);
        if (t != null) {
            return Future.succeededFuture(t.partitions.length);
        }
        if (!create) {
            return Future.failedFuture(new BrokerException(Reason.UNKNOWN_ADDRESS, "address '" + address
                    + "' does not exist"));
        }
        Topic made = topicFor(address, partitions);
        return store.putState(TOPICS, address.name(), Integer.toString(made.partitions.length)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)).map(v -> made.partitions.length);
    }

    // ---- operators' actions (the admin API) -------------------------------------------------------------

    /** Where paused subscriptions are remembered, so that a pause outlives a restart. */
    static final String PAUSED = "omnibus.paused";

    /** Purges a subscription (see {@link SubscriptionQueue#purge}): completes with how many messages were waiting. */
    public Future<Long> purge(String subscription) {
        return followsCommits(subscription) ? Future.failedFuture(groupCursorRefusal(subscription, "purged"))
                : onSubscription(subscription, SubscriptionQueue::purge);
    }

    /** A consumer group's cursor ({@link #commitPosition}): it follows the group's own committed offsets. */
    private boolean followsCommits(String subscription) {
        return groupCursors.containsKey(subscription) || GROUP_CURSOR.matcher(subscription).matches();
    }

    private static BrokerException groupCursorRefusal(String subscription, String what) {
        return new BrokerException(Reason.CONFLICT, "'" + subscription + "' is a consumer group's cursor: it follows the "
                + "group's committed offsets and is not " + what + " here; reset or pause the group with its own "
                + "tools (kafka-consumer-groups.sh --reset-offsets, RocketMQ's resetOffsetByTime)");
    }

    /**
     * Pauses or resumes a subscription: a paused one hands nothing out, to push or pull consumers, until resumed (a
     * durable one stays paused across restarts). Completes with false when there is no such subscription.
     */
    public Future<Boolean> pause(String subscription, boolean pause) {
        if (followsCommits(subscription)) {
            return Future.failedFuture(groupCursorRefusal(subscription, pause ? "paused" : "resumed"));
        }
        Context caller = Vertx.currentContext();
        SubscriptionQueue q = subscriptions.get(subscription);
        if (q == null) {
            return Future.succeededFuture(false);
        }
        Future<Void> kept = q.durable ? store.putState(PAUSED, subscription, pause ? new byte[] {1} : null)
                : Future.succeededFuture();
        Promise<Boolean> done = Promise.promise();
        kept.onComplete(ar -> Contexts.run(q.ctx, () -> {
            if (ar.succeeded() && pause && subscriptions.get(subscription) != q) {
                store.putState(PAUSED, subscription, null); // deleted meanwhile: its successor does not inherit the pause
            }
            if (ar.succeeded()) {
                q.pause(pause);
            }
            Contexts.complete(caller, done, ar.map(true));
        }));
        return done.future();
    }

    private <T> Future<T> onSubscription(String subscription, java.util.function.Function<SubscriptionQueue, T> action) {
        Context caller = Vertx.currentContext();
        SubscriptionQueue q = subscriptions.get(subscription);
        if (q == null) {
            return Future.failedFuture(new BrokerException(Reason.NOT_FOUND, "no subscription named " + subscription));
        }
        Promise<T> done = Promise.promise();
        Contexts.run(q.ctx, () -> {
            try {
                Contexts.complete(caller, done, Future.succeededFuture(action.apply(q)));
            } catch (RuntimeException e) {
                Contexts.complete(caller, done, Future.failedFuture(e));
            }
        });
        return done.future();
    }

    /** Addresses a redrive is under way for: one at a time each. */
    final java.util.Set<Address> redriving = ConcurrentHashMap.newKeySet();

    /** Moves the dead letters of a dead-letter address back where they came from ({@link Redrive}): {moved, kept}. */
    public Future<long[]> redrive(Address deadLetters) {
        return Redrive.run(this, deadLetters);
    }

    /** Deletes an address and its log (the admin API's DELETE): false when there was none. */
    public Future<Boolean> deleteAddress(Address address) {
        return Contexts.on(Vertx.currentContext(), deleteTopic(address));
    }

    /**
     * Deletes a topic: it is forgotten, its partitions are emptied in the store (offsets go on from their ends
     * if it is made again), its kept partition count removed. Completes with false when it did not exist.
     */
    Future<Boolean> deleteTopic(Address address) {
        Topic t = topics.remove(address);
        if (t == null) {
            return Future.succeededFuture(false);
        }
        List<Future<Void>> done = new ArrayList<>();
        for (Partition p : t.partitions) {
            Promise<Void> truncated = Promise.promise();
            Contexts.run(p.ctx, () -> store.truncate(p.tp).onComplete(truncated));
            done.add(truncated.future());
        }
        done.add(store.putState(TOPICS, address.name(), null));
        return Future.all(done).map(cf -> true);
    }

    int existingPartitionCount(Address address) {
        Topic t = topics.get(address);
        return t == null ? 0 : t.partitions.length;
    }

    Map<Address, Integer> partitionCounts() {
        Map<Address, Integer> out = new java.util.HashMap<>();
        topics.forEach((a, t) -> out.put(a, t.partitions.length));
        return out;
    }

    /** The partition's context, or null when the topic or partition does not exist. */
    Context partitionContext(Address address, int partition) {
        Topic t = topics.get(address);
        return t == null || partition < 0 || partition >= t.partitions.length ? null : t.partitions[partition].ctx;
    }

    /**
     * On the partition's context: runs {@code r} after the next append to it. False when the partition is gone
     * (its topic was deleted, or made again with fewer partitions): nothing will run.
     */
    boolean onNextAppend(Address address, int partition, Runnable r) {
        Partition p = existingPartition(address, partition);
        if (p == null || Vertx.currentContext() != p.ctx) {
            return false;
        }
        p.appendWaiters.add(r);
        return true;
    }

    /** On the partition's context: forgets a waiter added by {@link #onNextAppend}. */
    void cancelNextAppend(Address address, int partition, Runnable r) {
        Partition p = existingPartition(address, partition);
        if (p != null && Vertx.currentContext() == p.ctx) {
            p.appendWaiters.remove(r);
        }
    }

    private Partition existingPartition(Address address, int partition) {
        Topic t = topics.get(address);
        return t == null || partition < 0 || partition >= t.partitions.length ? null : t.partitions[partition];
    }

    private int route(StoredMessage m, List<Future<Void>> full, Map<SubscriptionQueue, List<StoredMessage>> runs) {
        int[] count = new int[1];
        tree.match(m.partition().address(), sub -> {
            count[0]++;
            Future<Void> room = sub.room();
            if (room != null) {
                full.add(room);
            }
            runs.computeIfAbsent(sub, s -> new ArrayList<>(1)).add(m);
        });
        return count[0];
    }

    private void publishDone(int n) {
        if (publishing.addAndGet(-n) == 0 && closing) {
            Promise<Void> d = drained;
            if (d != null) {
                d.tryComplete();
            }
        }
    }

    // ---- subscriptions ----------------------------------------------------------------------------

    @Override
    public Future<Subscription> subscribe(SubscriptionSpec spec) {
        Context caller = Vertx.currentContext();
        Promise<Subscription> promise = Promise.promise();
        Contexts.run(registry(), () -> {
            SubscriptionQueue existing = subscriptions.get(spec.name());
            if (existing != null) {
                if (!existing.filter.equals(spec.filter())) {
                    promise.fail(new BrokerException(Reason.SUBSCRIPTION_CONFLICT, "subscription '" + spec.name()
                            + "' exists with filter '" + existing.filter + "', not '" + spec.filter() + "'"));
                } else if (!java.util.Objects.equals(existing.selector, spec.selector())
                        || !java.util.Objects.equals(existing.noLocal, spec.noLocal())) {
                    promise.fail(new BrokerException(Reason.SUBSCRIPTION_CONFLICT, "subscription '" + spec.name()
                            + "' exists with " + (existing.selector == null ? "no selector" : "selector '"
                            + existing.selector + "'") + (existing.noLocal == null ? "" : ", no-local")));
                } else {
                    promise.complete(existing);
                }
                return;
            }
            java.util.function.Predicate<Envelope> selects;
            try {
                selects = selection(spec.selector(), spec.noLocal());
            } catch (BrokerException e) {
                promise.fail(e);
                return;
            }
            if (closing) {
                promise.fail(new BrokerException(Reason.SHUTTING_DOWN, "the gateway is shutting down"));
                return;
            }
            DeliveryPolicy policy = config.policyFor(spec.name(), spec.filter(), spec.policy());
            SubscriptionQueue q = new SubscriptionQueue(this, spec.name(), spec.filter(), spec.durable(),
                    shardFor(spec.name()), policy, spec.selector(), spec.noLocal(), selects);
            register(q);
            if (spec.durable()) {
                store.saveSubscription(new SubscriptionRecord(spec.name(), spec.filter().filter(), policy.dispatch(),
                                spec.selector(), spec.noLocal()))
                        .onComplete(ar -> Contexts.complete(null, promise, ar.map(q)));
            } else {
                promise.complete(q);
            }
        });
        return Contexts.on(caller, promise.future());
    }

    /** Group cursors by name, made once: commits wait for it in call order (the first one's subscribe included). */
    private final ConcurrentHashMap<String, Future<Subscription>> groupCursors = new ConcurrentHashMap<>();

    @Override
    public Future<Void> commitPosition(String subscription, Address address, int partition, long nextOffset) {
        Future<Subscription> cursor = groupCursors.computeIfAbsent(subscription, name -> subscribe(new SubscriptionSpec(
                name, TopicFilter.exactly(address), true, io.omnibus.core.spi.DispatchPolicy.PULL))
                .onFailure(e -> groupCursors.remove(name)));
        return cursor.map(s -> {
            s.commit(address, partition, nextOffset);
            return null;
        });
    }

    private void register(SubscriptionQueue q) {
        Contexts.check(registry(), "the subscription registry");
        subscriptions.put(q.name, q);
        tree.add(q.filter, q);
    }

    @Override
    public Future<Void> unsubscribe(String name) {
        Context caller = Vertx.currentContext();
        Promise<Void> promise = Promise.promise();
        groupCursors.remove(name);
        Contexts.run(registry(), () -> {
            SubscriptionQueue q = subscriptions.remove(name);
            if (q == null) {
                promise.complete();
                return;
            }
            tree.remove(q.filter, q);
            q.delete();
            if (store.states(PAUSED).containsKey(name)) { // also a pause still being written when this began
                store.putState(PAUSED, name, null);
            }
            if (q.durable) {
                store.deleteSubscription(name).onComplete(promise);
            } else {
                promise.complete();
            }
        });
        return Contexts.on(caller, promise.future());
    }

    // ---- retained messages and adapter state ---------------------------------------------------------

    @Override
    public Future<Void> retain(Envelope envelope) {
        Context caller = Vertx.currentContext();
        Address address = envelope.address();
        Future<Void> stored;
        if (envelope.payloadSize() == 0) {
            retained.remove(address);
            stored = store.putState(RETAINED, address.name(), null);
        } else {
            retained.put(address, envelope);
            stored = store.putState(RETAINED, address.name(), io.omnibus.core.store.EnvelopeCodec.encode(envelope));
        }
        return Contexts.on(caller, stored);
    }

    @Override
    public List<Envelope> retained(TopicFilter filter) {
        if (!filter.hasWildcard()) {
            Envelope e = retained.get(Address.of(filter.filter()));
            return e == null ? List.of() : List.of(e);
        }
        List<Envelope> out = new ArrayList<>();
        retained.forEach((a, e) -> {
            if (filter.matches(a)) {
                out.add(e);
            }
        });
        return out;
    }

    @Override
    public Future<Void> putState(String namespace, String key, byte[] value) {
        return Contexts.on(Vertx.currentContext(), store.putState(namespace, key, value));
    }

    @Override
    public Map<String, byte[]> states(String namespace) {
        return store.states(namespace);
    }

    /** The subscription of that name, if it exists. */
    public Subscription subscription(String name) {
        return subscriptions.get(name);
    }

    // ---- recovery and shutdown ----------------------------------------------------------------------

    /**
     * Brings back topics and durable subscriptions after a restart: each subscription resumes on its cursors,
     * and its backlog is read from the log as its consumers take it.
     */
    private Future<Void> recover() {
        store.states(RETAINED).forEach((address, bytes) -> {
            try {
                retained.put(Address.of(address), io.omnibus.core.store.EnvelopeCodec.decode(bytes));
            } catch (RuntimeException e) {
                LOG.error("retained message of {} cannot be read back; dropped: {}", address, e.toString());
            }
        });
        // partitions with messages say a topic exists; a kept count (Kafka CreateTopics) says how many partitions it
        // has; empty partitions alone (what a deleted topic leaves) say nothing: such a topic comes back on first use
        Map<Address, Integer> stored = new java.util.HashMap<>();
        for (TopicPartition tp : store.partitions()) {
            if (store.startOffset(tp) < store.endOffset(tp)) {
                stored.merge(tp.address(), tp.partition() + 1, Math::max);
            }
        }
        store.states(TOPICS).forEach((name, count) -> {
            try {
                stored.put(Address.of(name), Integer.parseInt(new String(count, java.nio.charset.StandardCharsets.UTF_8)));
            } catch (RuntimeException e) {
                LOG.error("the partition count kept for {} cannot be read back: {}", name, e.toString());
            }
        });
        stored.forEach((a, n) -> topics.put(a, new Topic(a, Math.max(config.partitionsFor(a), n), config.isQueue(a), true)));
        return store.subscriptions().compose(saved -> {
            Promise<Void> done = Promise.promise();
            Contexts.run(registry(), () -> {
                List<Future<?>> reads = new ArrayList<>();
                saved.forEach((record, cursors) -> {
                    TopicFilter filter = TopicFilter.of(record.filter());
                    DeliveryPolicy policy = config.policyFor(record.name(), filter, record.policy());
                    java.util.function.Predicate<Envelope> selects;
                    try {
                        selects = selection(record.selector(), record.noLocal());
                    } catch (BrokerException e) {
                        LOG.error("subscription {}: its selector no longer parses ({}); it takes every message",
                                record.name(), e.getMessage());
                        selects = null;
                    }
                    SubscriptionQueue q = new SubscriptionQueue(this, record.name(), filter, true,
                            shardFor(record.name()), policy, record.selector(), record.noLocal(), selects);
                    register(q);
                    reads.add(replay(q, cursors));
                });
                Future.all(reads).<Void>mapEmpty().onComplete(done);
            });
            return done.future();
        });
    }

    /**
     * Puts a recovered subscription back on its cursors: each partition it has a cursor for is read from there on;
     * a partition it matches without a cursor began after the subscription was made (a new subscription's cursors
     * start at the end of every partition it matched then), so it is read from its start. Messages are read back
     * when consumers attach; until then they are lag.
     */
    private Future<Void> replay(SubscriptionQueue q, Map<TopicPartition, CursorState> cursors) {
        Promise<Void> done = Promise.promise();
        Contexts.run(q.ctx, () -> {
            cursors.forEach(q::restoreCursor);
            for (TopicPartition tp : store.partitions()) {
                if (!cursors.containsKey(tp) && q.filter.matches(tp.address())) {
                    q.discoverPartition(tp, store.startOffset(tp));
                }
            }
            q.recovered();
            done.complete();
        });
        return done.future();
    }

    /**
     * Stops taking publishes and subscriptions, waits for the publishes in flight to be stored,
     * then flushes the store. The store stays open; {@link #close()} closes it.
     */
    public Future<Void> drain() {
        closing = true;
        Promise<Void> d = Promise.promise();
        drained = d;
        if (publishing.get() == 0) {
            d.tryComplete();
        }
        return d.future().compose(v -> store.flush());
    }

    public Future<Void> close() {
        return drain().compose(v -> store.close());
    }

    public boolean isClosing() {
        return closing;
    }

    // ---- admin views ---------------------------------------------------------------------------------

    public List<TopicView> topicViews() {
        List<TopicView> out = new ArrayList<>();
        for (Topic t : topics.values()) {
            long messages = 0;
            long bytes = 0;
            long start = 0;
            long end = 0;
            for (Partition p : t.partitions) {
                messages += p.messages;
                bytes += p.bytes;
                start += store.startOffset(p.tp);
                end += store.endOffset(p.tp);
            }
            out.add(new TopicView(t.address.name(), t.partitions.length, t.queue, messages, bytes, start, end));
        }
        out.sort(Comparator.comparing(TopicView::name));
        return out;
    }

    /** One subscription's view, or null: without listing (and sorting) them all. */
    public SubscriptionView subscriptionView(String name) {
        SubscriptionQueue q = subscriptions.get(name);
        return q == null ? null : q.view();
    }

    /** Every subscription's view, in no order, without a list of them all (a million MQTT sessions). */
    public void forEachSubscriptionView(java.util.function.Consumer<SubscriptionView> each) {
        for (SubscriptionQueue q : subscriptions.values()) {
            each.accept(q.view());
        }
    }

    public List<SubscriptionView> subscriptionViews() {
        List<SubscriptionView> out = new ArrayList<>();
        for (SubscriptionQueue q : subscriptions.values()) {
            out.add(q.view());
        }
        out.sort(Comparator.comparing(SubscriptionView::name));
        return out;
    }
}
