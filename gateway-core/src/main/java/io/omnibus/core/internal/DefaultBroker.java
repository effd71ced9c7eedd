package io.omnibus.core.internal;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.omnibus.core.config.BrokerConfig;
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
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker: topics (partitioned logs in the store) and subscriptions (cursors with dispatch).
 *
 * <p>Confinement: each topic partition and each subscription belongs to one of a fixed set of
 * broker contexts ({@link Shards}: a partition's chosen by its name, a new subscription's on the event loop of the
 * connection that makes it); the subscription registry (the topic tree)
 * is written only on shard 0 and read anywhere. Work is handed over with
 * {@code runOnContext}, so per-partition order is the order of calls.
 *
 * <p>Its parts: {@link BrokerTopics} (the topics by address), {@link BrokerTopic} and {@link BrokerPartition}
 * (appends and routing, per partition),
 * {@link Subscriptions} (the registry and its topic tree), {@link AtomicPublish} (a transaction's commit),
 * {@link RetainedMessages}, {@link BrokerRecovery} (a start on a store that holds something) and
 * {@link OperatorActions} (the admin API's actions).
 */
public final class DefaultBroker implements Broker {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultBroker.class);

    private final Vertx vertx;
    private final MessageStore store;
    private final BrokerConfig config;
    private final BrokerMetrics metrics;
    private final Shards shards;
    /** The topics and their partitions. */
    private final BrokerTopics topics = new BrokerTopics(this);
    private final Subscriptions subs = new Subscriptions(this);
    private final AtomicInteger publishing = new AtomicInteger();
    private final RetainedMessages retained;
    private volatile boolean closing;
    private volatile Promise<Void> drained;

    private DefaultBroker(Vertx vertx, MessageStore store, BrokerConfig config, BrokerMetrics metrics, Shards shards) {
        this.vertx = vertx;
        this.store = store;
        this.config = config;
        this.metrics = metrics;
        this.shards = shards;
        this.prepared = new PreparedTransactions(this, store, shards.registry());
        this.retained = new RetainedMessages(store);
        Gauge.builder("omnibus.subscriptions.backlog", subs, r -> r.all().stream()
                .mapToLong(SubscriptionQueue::backlog).sum())
                .description("Messages waiting in subscriptions, all subscriptions together").register(metrics.registry());
        Gauge.builder("omnibus.subscriptions", subs, Subscriptions::size)
                .description("Subscriptions").register(metrics.registry());
        Gauge.builder("omnibus.topics", topics, BrokerTopics::size).description("Topics (addresses with a log)")
                .register(metrics.registry());
        FunctionCounter.builder("omnibus.store.retention.dropped", store, MessageStore::droppedByRetention)
                .description("Messages the store dropped to stay within its retention limits").register(metrics.registry());
    }

    /** Starts the broker contexts, opens the store and brings back the durable subscriptions. */
    public static Future<DefaultBroker> start(Vertx vertx, MessageStore store, BrokerConfig config, BrokerMetrics metrics) {
        int n = config.shards() > 0 ? config.shards() : Math.max(1, 2 * Runtime.getRuntime().availableProcessors());
        return Shards.start(vertx, n).compose(shards -> store.open().compose(v -> {
            DefaultBroker broker = new DefaultBroker(vertx, store, config, metrics, shards);
            return BrokerRecovery.recover(broker).compose(x -> broker.prepared.start()).map(x -> {
                store.onAppendedElsewhere(broker::grewElsewhere);
                return broker;
            });
        }));
    }

    /**
     * Another node appended to {@code tp} from {@code from} on: every subscription matching it reads what it has not
     * seen.
     */
    private void grewElsewhere(TopicPartition tp, long from) {
        for (SubscriptionQueue q : subs.all()) {
            if (q.filter.matches(tp.address())) {
                q.mailbox.run(() -> q.logGrew(tp, from));
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

    /** The broker's contexts, and which one owns what. */
    Shards shards() {
        return shards;
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
    java.util.function.Predicate<Envelope> selection(String selector, String noLocal) {
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
        BrokerException refused = refusal(batch);
        if (refused != null) {
            return Future.failedFuture(refused);
        }
        int n = batch.size();
        if (!admit(n)) {
            return Future.failedFuture(shuttingDown());
        }
        BrokerPartition p;
        try {
            p = topics.partitionFor(batch.get(0), partition);
        } catch (BrokerException e) {
            publishDone(n);
            return Future.failedFuture(e);
        }
        return append(p, batch);
    }

    /**
     * A run of one address's messages, each to the partition its topic chooses, as a {@link #publish} each would:
     * the messages that go to one partition one after the other are stored in one append (whole or not at all) and
     * routed in one hand-over; for a topic of one partition, the whole run.
     */
    @Override
    public Future<Void> publishAll(List<Envelope> envelopes) {
        BrokerException refused = refusal(envelopes);
        if (refused != null) {
            return Future.failedFuture(refused);
        }
        int n = envelopes.size();
        if (!admit(n)) {
            return Future.failedFuture(shuttingDown());
        }
        List<Future<PublishResult>> appends = new ArrayList<>(1);
        int from = 0;
        BrokerPartition run = null;
        try {
            for (int i = 0; i < n; i++) {
                BrokerPartition p = topics.partitionFor(envelopes.get(i), -1);
                if (p != run) {
                    if (run != null) {
                        appends.add(append(run, envelopes.subList(from, i)));
                    }
                    run = p;
                    from = i;
                }
            }
        } catch (BrokerException e) { // the address cannot be made: then for every message of the run
            publishDone(n - from);
            return Future.failedFuture(e);
        }
        appends.add(append(run, from == 0 ? envelopes : envelopes.subList(from, n)));
        return appends.size() == 1 ? appends.get(0).mapEmpty() : Future.all(appends).mapEmpty();
    }

    /** Why a batch of messages is refused whole (one too large); null when it is not. All go to one address. */
    private BrokerException refusal(List<Envelope> batch) {
        Envelope first = batch.get(0);
        for (Envelope envelope : batch) {
            BrokerException tooLarge = tooLarge(envelope);
            if (tooLarge != null) {
                return tooLarge;
            }
            if (!envelope.address().equals(first.address())) {
                throw new IllegalArgumentException("a batch goes to one address: " + first.address() + ", "
                        + envelope.address());
            }
        }
        return null;
    }

    /** Appends {@code batch} (counted in by {@link #admit}) on {@code p}'s context; completes on the caller's. */
    private Future<PublishResult> append(BrokerPartition p, List<Envelope> batch) {
        Context caller = Vertx.currentContext();
        Promise<PublishResult> promise = Promise.promise();
        Contexts.run(p.ctx, () -> p.append(batch, promise));
        return Contexts.on(caller, promise.future());
    }

    /** A refusal of {@code envelope} for its size (over broker.max-message-size); null when it fits. */
    BrokerException tooLarge(Envelope envelope) {
        return envelope.payloadSize() <= config.maxMessageSize() ? null : new BrokerException(Reason.MESSAGE_TOO_LARGE,
                "message of " + envelope.payloadSize() + " bytes exceeds broker.max-message-size ("
                        + config.maxMessageSize() + " bytes)");
    }

    /**
     * Counts {@code n} publishes in ({@link #drain()} waits for every publish counted before it began); false, and
     * counted out again, when the broker is closing.
     */
    boolean admit(int n) {
        publishing.addAndGet(n); // before the check: drain() waits for every publish that passed it
        if (closing) {
            publishDone(n);
            return false;
        }
        return true;
    }

    static BrokerException shuttingDown() {
        return new BrokerException(Reason.SHUTTING_DOWN, "the gateway is shutting down");
    }

    /**
     * Publishes messages of any addresses as one (a transaction's commit), with changes to adapters' key-value state
     * and durable subscriptions' cursors (the transaction's acknowledgements):
     * each message to {@code partitions[i]}, or where its topic chooses when that is negative (or the array null); all
     * stored with the state changes or none, also across a crash, and routed once all are stored. Completes with
     * their results in order ({@link AtomicPublish}).
     */
    public Future<List<PublishResult>> publishAtomically(List<Envelope> envelopes, int[] partitions,
                                                         List<io.omnibus.core.store.StateChange> states,
                                                         List<io.omnibus.core.store.CursorChange> cursors) {
        return AtomicPublish.publish(this, envelopes, partitions, states, cursors);
    }

    // ---- operators' actions (the admin API) -------------------------------------------------------------

    private final OperatorActions operators = new OperatorActions(this);

    /** Purges, pauses, redrives, deletes addresses: what operators do through the admin API. */
    public OperatorActions operators() {
        return operators;
    }

    Subscriptions subscriptions() {
        return subs;
    }

    BrokerTopics topics() {
        return topics;
    }

    /** Routes a stored message to the subscriptions matching it: adds it to their runs; returns how many. */
    int route(StoredMessage m, List<Future<Void>> full, Map<SubscriptionQueue, List<StoredMessage>> runs) {
        int[] count = new int[1];
        subs.match(m.partition().address(), sub -> {
            count[0]++;
            Future<Void> room = sub.stats.routedHere();
            if (room != null) {
                full.add(room);
            }
            runs.computeIfAbsent(sub, s -> new ArrayList<>(1)).add(m);
        });
        return count[0];
    }

    /** {@code n} publishes counted in by {@link #admit} are done. */
    void publishDone(int n) {
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
        return subs.subscribe(spec);
    }

    @Override
    public Future<Void> commitPosition(String subscription, Address address, int partition, long nextOffset) {
        return subs.commitPosition(subscription, address, partition, nextOffset);
    }

    @Override
    public Future<Void> unsubscribe(String name) {
        return subs.unsubscribe(name);
    }

    // ---- retained messages and adapter state ---------------------------------------------------------

    @Override
    public Future<Void> retain(Envelope envelope) {
        return Contexts.on(Vertx.currentContext(), retained.retain(envelope));
    }

    @Override
    public List<Envelope> retained(TopicFilter filter) {
        return retained.matching(filter);
    }

    @Override
    public Future<Void> putState(String namespace, String key, byte[] value) {
        return Contexts.on(Vertx.currentContext(), store.putState(namespace, key, value));
    }

    @Override
    public Map<String, byte[]> states(String namespace) {
        return store.states(namespace);
    }

    @Override
    public byte[] state(String namespace, String key) {
        return store.state(namespace, key);
    }

    /** The subscription of that name, if it exists. */
    public Subscription subscription(String name) {
        return subs.get(name);
    }

    // ---- recovery ({@link BrokerRecovery}) and shutdown ----------------------------------------------

    RetainedMessages retainedMessages() {
        return retained;
    }

    /**
     * Stops taking publishes and subscriptions, waits for the publishes in flight to be stored, saves the cursors
     * acknowledged and not saved yet, then flushes the store. The store stays open; {@link #close()} closes it.
     */
    public Future<Void> drain() {
        closing = true;
        Promise<Void> d = Promise.promise();
        drained = d;
        if (publishing.get() == 0) {
            d.tryComplete();
        }
        return d.future().compose(v -> subs.saveCursors()).compose(v -> store.flush());
    }

    public Future<Void> close() {
        return drain().compose(v -> store.close());
    }

    public boolean isClosing() {
        return closing;
    }

    // ---- admin views ---------------------------------------------------------------------------------

    public List<TopicView> topicViews() {
        return topics.views();
    }

    /** One subscription's view, or null: without listing (and sorting) them all. */
    public SubscriptionView subscriptionView(String name) {
        SubscriptionQueue q = subs.get(name);
        return q == null ? null : q.view();
    }

    /** Every subscription's view, in no order, without a list of them all (a million MQTT sessions). */
    public void forEachSubscriptionView(java.util.function.Consumer<SubscriptionView> each) {
        for (SubscriptionQueue q : subs.all()) {
            each.accept(q.view());
        }
    }

    public List<SubscriptionView> subscriptionViews() {
        List<SubscriptionView> out = new ArrayList<>();
        for (SubscriptionQueue q : subs.all()) {
            out.add(q.view());
        }
        out.sort(Comparator.comparing(SubscriptionView::name));
        return out;
    }
}
