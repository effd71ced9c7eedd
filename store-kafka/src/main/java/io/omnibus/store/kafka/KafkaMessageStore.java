package io.omnibus.store.kafka;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.CursorChange;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.EnvelopeCodec;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.PartitionBatch;
import io.omnibus.core.store.StateChange;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The message store kept in an Apache Kafka cluster ({@code store.type: kafka}, docs/cluster.md): the gateway keeps
 * no state of its own, so a node that dies loses nothing that was acknowledged and another node can start from the
 * cluster alone.
 * <ul>
 *   <li>Each address is a Kafka topic ({@link KafkaTopics}), each of its partitions a partition of that topic; a
 *       record's value is the whole envelope ({@link EnvelopeCodec}), its timestamp the time it was stored, its key
 *       the envelope's key.</li>
 *   <li>Appends go through one idempotent producer with {@code acks=all} ({@link KafkaAppends}): an append completes
 *       when the cluster's in-sync replicas have the record, and offsets are Kafka's. Appends to a partition complete
 *       in call order.</li>
 *   <li>Key-value state, durable subscriptions, their cursors and the topic registry are records of one compacted
 *       state topic ({@link StateRecords}), read whole when the store opens and kept in memory after, written in
 *       transactions of the active role's transactional id ({@link KafkaState}).</li>
 *   <li>One node is active ({@link KafkaLease}); the cluster's health is checked on a thread of its own
 *       ({@link KafkaHealth}).</li>
 *   <li>An atomic append (a transaction's commit) is a Kafka transaction: its records, state and cursor changes are
 *       all visible or none. Reads are {@code read_committed}. Its commit marker takes an offset, so the offsets of
 *       a partition that had transactions have gaps; readers step over them.</li>
 * </ul>
 */
public final class KafkaMessageStore implements MessageStore {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaMessageStore.class);

    private final KafkaStoreOptions options;
    private final String nodeId;
    private final TailCache cache;
    private final KafkaClientSettings clients;
    private final KafkaPartitions logs = new KafkaPartitions();
    /** Sends in call order (a send may block on metadata or a full buffer, never an event loop). */
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> daemon(r, "omnibus-kafka-send"));
    /** Transactions, one at a time (one transactional producer). */
    private final ExecutorService transactions = Executors.newSingleThreadExecutor(r -> daemon(r, "omnibus-kafka-tx"));
    /** Opening, flushes, truncations and the cluster's health: calls that wait for the cluster. */
    private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "omnibus-kafka-control"));
    /** The active node's periodic passes: the partitions' committed ends, age retention. */
    private final KafkaPasses passes = new KafkaPasses();
    private Admin admin;
    private KafkaProducer<byte[], byte[]> producer;
    /** The active role's transactional producer; on the transaction thread once open. */
    private KafkaTransactions txs;
    private KafkaTopics topics;
    private KafkaState state;
    private KafkaReaders readers;
    private KafkaAppends appends;
    private KafkaLease lease;
    /** Where the active node listens: written once this node serves, followed while it is a standby. */
    private volatile KafkaEndpoints endpoints;
    /** While active: stops this node when no broker answers it for a session timeout and standbys wait. */
    private volatile KafkaContact contact;
    private volatile String role = "starting";
    private volatile Timer appendLatency;
    private volatile boolean open;
    private volatile KafkaHealth health;
    /** What to tell when a partition grew by another node's appends; on the passes' thread. */
    private volatile java.util.function.ObjLongConsumer<TopicPartition> elsewhere;

    public KafkaMessageStore(KafkaStoreOptions options) {
        this.options = options;
        this.nodeId = options.nodeId() != null ? options.nodeId() : UUID.randomUUID().toString();
        this.cache = new TailCache(options.cacheBytes());
        this.clients = new KafkaClientSettings(options, nodeId);
    }

    /** The store's threads are daemons: they never keep the JVM from exiting. */
    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public String type() {
        return "kafka";
    }

    @Override
    public boolean healthy() {
        return open && healthyCluster();
    }

    /** The cluster as this node sees it: where, as which node, the brokers that answered the last check. */
    @Override
    public Map<String, Object> status() {
        KafkaHealth h = health;
        return Map.of("bootstrap-servers", options.bootstrapServers(), "node-id", nodeId, "role", role,
                "active-node", h == null ? "" : h.activeNode(), "reachable", h != null && h.reachable(),
                "brokers", h == null ? List.of() : h.brokers(), "nodes", h == null ? List.of() : h.nodes(),
                "topic-prefix", options.topicPrefix());
    }

    @Override
    public void instrument(MeterRegistry registry) {
        appendLatency = Timer.builder("omnibus.store.kafka.append").description("From an append to the Kafka cluster's "
                + "acknowledgement (acks=all)").publishPercentiles(0.5, 0.99).register(registry);
        io.micrometer.core.instrument.Gauge.builder("omnibus.store.kafka.reachable", this, s -> s.healthyCluster() ? 1 : 0)
                .description("1 while the Kafka cluster answers").register(registry);
        io.micrometer.core.instrument.Gauge.builder("omnibus.store.kafka.cache", cache, TailCache::bytes)
                .baseUnit("bytes").description("Messages last appended, kept in memory for reads").register(registry);
    }

    private boolean healthyCluster() {
        KafkaHealth h = health;
        return h != null && h.reachable();
    }

    /**
     * Joins the nodes' group and waits there as a standby until this node is the active one; then takes the active
     * role's transactional id, reads the state and the partitions' offsets, and serves. On the control thread.
     */
    @Override
    public Future<Void> open() {
        Promise<Void> opened = Promise.promise();
        control.execute(() -> {
            try {
                join();
                lease.acquire().get(); // a standby waits here
                serve();
                opened.complete();
            } catch (Exception e) {
                opened.fail(e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e);
            }
        });
        return opened.future();
    }

    /** The clients, the store's topics, the endpoints followed, and this node in the nodes' group as a standby. */
    private void join() throws Exception {
        admin = Admin.create(clients.client());
        health = new KafkaHealth(admin, options);
        health.start();
        producer = new KafkaProducer<>(clients.producer(), new ByteArraySerializer(), new ByteArraySerializer());
        state = new KafkaState(options.topicPrefix() + "state", producer, transactions, control);
        topics = new KafkaTopics(admin, options, state::register);
        topics.ensureStateTopic();
        topics.ensureEndpointsTopic();
        KafkaEndpoints where = new KafkaEndpoints(topics.endpointsTopic());
        where.follow(clients.client(), health::checkSoon); // a new active node: ask the group who it is
        endpoints = where;
        lease = new KafkaLease(clients.client(), options.topicPrefix() + "nodes", topics.stateTopic(),
                options.sessionTimeout(), options.leaseLost());
        role = "standby";
        LOG.info("Kafka store: node {} joins group {}nodes; it serves once it is the active node",
                nodeId, options.topicPrefix());
    }

    /** This node is the active one: fences its predecessor, reads what it needs and opens for appends and reads. */
    private void serve() throws Exception {
        role = "active";
        endpoints.watchForSuccessor(options.leaseLost()); // followed on: a node active after this one says so
        contact = new KafkaContact(admin, options.sessionTimeout(), health::otherNodes, options.leaseLost());
        contact.start();
        long began = System.nanoTime();
        // the active role's transactional id fences the predecessor's producer and aborts the transaction it left
        // open, before anything is read: a read_committed reader sees nothing past a transaction still open (what a
        // killed node wrote after it would be missed)
        Properties tx = clients.transactional();
        txs = new KafkaTransactions(() -> new KafkaProducer<>(tx, new ByteArraySerializer(),
                new ByteArraySerializer()), () -> lease.holdsRole(admin), options.leaseLost());
        txs.init();
        long fenced = System.nanoTime();
        state.writeWith(txs);
        Properties reader = clients.reader();
        long loaded;
        // one consumer reads what a takeover needs: consumers follow a partition's leader to its new broker
        // at once, where the admin client's calls were seen to wait out their timeouts after a broker's death
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(reader, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            Map<String, String> registry = state.load(c);
            loaded = System.nanoTime();
            topics.load(registry, c);
            logs.load(topics, c);
        }
        long listed = System.nanoTime();
        readers = new KafkaReaders(options.readers(), clients.fetcher(), options.readTimeout(), logs.forReaders(topics));
        appends = new KafkaAppends(sender, producer, txs, topics, state, cache, logs::log, nanos -> {
            Timer t = appendLatency;
            if (t != null) {
                t.record(nanos, TimeUnit.NANOSECONDS);
            }
        });
        health.checkSoon(); // on its own thread: /health shows this node as the active one
        KafkaEnds ends = new KafkaEnds(new KafkaConsumer<>(reader, new ByteArrayDeserializer(),
                new ByteArrayDeserializer()), logs.logs, logs.widths, topics, options.topicPrefix());
        KafkaRetention ages = new KafkaRetention(admin, new KafkaConsumer<>(reader, new ByteArrayDeserializer(),
                new ByteArrayDeserializer()), topics, logs.logs, options.retention(), state::subscriptions);
        passes.start(ends, ages, options.retentionInterval().toMillis(), () -> open, () -> ends.refresh(elsewhere));
        open = true;
        LOG.info("Kafka store open on {} as node {}: {} topics, {} partitions, {} durable subscriptions, in {} ms "
                        + "(fencing the active role's transactional id {} ms, reading the state {} ms, "
                        + "the partitions' offsets {} ms)", options.bootstrapServers(), nodeId,
                topics.all().size(), logs.count(), state.subscriptionCount(), millis(began, System.nanoTime()),
                millis(began, fenced), millis(fenced, loaded), millis(loaded, listed));
    }

    @Override
    public Future<Long> append(TopicPartition partition, Envelope envelope) {
        return appendAll(partition, List.of(envelope));
    }

    /** See {@link KafkaAppends#appendAll}. */
    @Override
    public Future<Long> appendAll(TopicPartition partition, List<Envelope> envelopes) {
        if (!open) {
            return Future.failedFuture(new IllegalStateException("the Kafka store is not open"));
        }
        return appends.appendAll(partition, envelopes);
    }

    @Override
    public void appendAtomically(List<PartitionBatch> batches, List<StateChange> changes, List<CursorChange> cursorChanges,
                                 Promise<long[]> done) {
        if (!open) {
            done.fail(new IllegalStateException("the Kafka store is not open"));
            return;
        }
        try {
            transactions.execute(() -> appends.transaction(batches, changes, cursorChanges, done));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.fail(new IllegalStateException("the Kafka store is closing"));
        }
    }

    @Override
    public Future<List<StoredMessage>> read(TopicPartition partition, long fromOffset, int max) {
        if (!open) {
            return Future.failedFuture(new IllegalStateException("the Kafka store is not open"));
        }
        long from = Math.max(fromOffset, startOffset(partition));
        List<StoredMessage> cached = cache.read(partition, from, max);
        if (cached != null) {
            return Future.succeededFuture(cached);
        }
        Promise<List<StoredMessage>> done = Promise.promise();
        readers.read(partition, from, max, done);
        return done.future();
    }

    @Override
    public long startOffset(TopicPartition partition) {
        return logs.start(partition);
    }

    @Override
    public long endOffset(TopicPartition partition) {
        return logs.end(partition);
    }

    @Override
    public Future<Void> truncate(TopicPartition partition) {
        return truncateIfEndsAt(partition, -1).mapEmpty();
    }

    @Override
    public Future<Boolean> truncateIfEndsAt(TopicPartition partition, long end) {
        Promise<Boolean> done = Promise.promise();
        control.execute(() -> {
            try {
                done.complete(logs.truncate(partition, end, topics, admin, cache));
            } catch (Exception e) {
                done.fail(e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e);
            }
        });
        return done.future();
    }

    @Override
    public Set<TopicPartition> partitions() {
        return logs.all();
    }

    @Override
    public Future<Void> saveSubscription(SubscriptionRecord record) {
        // it starts where the partitions it matches end now, as the file store's does
        return state.saveSubscription(record, logs.endsMatching(record.filter()));
    }

    @Override
    public Future<Void> deleteSubscription(String name) {
        return state.deleteSubscription(name);
    }

    @Override
    public void saveCursor(String subscription, TopicPartition partition, CursorState cursor) {
        if (open) {
            state.saveCursor(subscription, partition, cursor);
        }
    }

    @Override
    public Future<Map<SubscriptionRecord, Map<TopicPartition, CursorState>>> subscriptions() {
        return Future.succeededFuture(state.subscriptions());
    }

    @Override
    public Future<Void> putState(String namespace, String key, byte[] value) {
        return open ? state.putState(namespace, key, value)
                : Future.failedFuture(new IllegalStateException("the Kafka store is not open"));
    }

    @Override
    public Map<String, byte[]> states(String namespace) {
        return state.states(namespace);
    }

    @Override
    public byte[] state(String namespace, String key) {
        return state.state(namespace, key);
    }

    @Override
    public long droppedByRetention() {
        return logs.droppedByRetention();
    }

    /** Writes the pending state and completes once everything sent so far is acknowledged (the sender never waits). */
    @Override
    public Future<Void> flush() {
        if (!open) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        try {
            sender.execute(() -> {
                try {
                    producer.flush();
                } catch (RuntimeException e) {
                    done.fail(e);
                    return;
                }
                // the state goes on the transaction thread; the sender does not wait for it (appends queue behind)
                try {
                    transactions.execute(() -> {
                        try {
                            state.drain();
                            done.complete();
                        } catch (RuntimeException e) {
                            done.fail(e);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    done.complete();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.complete();
        }
        return done.future();
    }

    @Override
    public boolean sharedByNodes() {
        return true;
    }

    /** The hosts the members of the nodes' group connect from, as {@link KafkaHealth} last saw them. */
    @Override
    public java.util.Collection<String> nodeAddresses() {
        KafkaHealth h = health;
        return h == null ? List.of() : h.hosts();
    }

    @Override
    public void advertise(Map<String, Integer> ports) {
        KafkaEndpoints.Advertised self = new KafkaEndpoints.Advertised(nodeId, lease.memberId(),
                lease.generation(), options.advertisedHost(), ports, true);
        publishEndpoints(self, 1);
    }

    /**
     * Writes where this node listens in a transaction of the role's; one that failed (its records are not retried as
     * a plain producer's are) is followed by another, 1, 2, 4 ... up to 30 seconds later, while the store is open.
     */
    private void publishEndpoints(KafkaEndpoints.Advertised self, int attempt) {
        if (!open) {
            return;
        }
        endpoints.publish(state, self).onFailure(e -> {
            long delay = Math.min(30, 1L << Math.min(attempt - 1, 5));
            LOG.warn("Kafka store: telling the standbys where this node listens failed (attempt {}){}: {}", attempt,
                    open ? "; trying again in " + delay + " s" : "", e.toString());
            if (open) {
                try {
                    control.schedule(() -> publishEndpoints(self, attempt + 1), delay, TimeUnit.SECONDS);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    // closed meanwhile
                }
            }
        });
    }

    /**
     * The active node as the nodes' group shows it, with where it said it listens; null while this node is not a
     * standby, while the group shows none, or while the active node has not said where it listens yet.
     */
    @Override
    public io.omnibus.core.store.ServingNode servingNode() {
        KafkaEndpoints where = endpoints;
        KafkaHealth h = health;
        KafkaEndpoints.Advertised a = where == null ? null : where.latest();
        if (a == null || h == null || !"standby".equals(role) || a.member() == null
                || !a.member().equals(h.activeMember())
                || a.member().equals(lease.memberId())) { // lease is set before role is "standby"
            return null;
        }
        return new io.omnibus.core.store.ServingNode(a.nodeId(), a.host() != null ? a.host() : h.activeHost(),
                a.ports());
    }

    @Override
    public void onAppendedElsewhere(java.util.function.ObjLongConsumer<TopicPartition> grew) {
        this.elsewhere = grew;
    }

    @Override
    public Future<Void> close() {
        Promise<Void> closed = Promise.promise();
        Thread t = new Thread(() -> {
            long began = System.nanoTime();
            try {
                if (open) {
                    sender.submit(() -> producer.flush()).get(30, TimeUnit.SECONDS);
                    transactions.submit(state::drain).get(30, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                LOG.warn("Kafka store: writing the last cursors on close failed: {}", e.toString());
            }
            open = false;
            if (endpoints != null) {
                endpoints.stop();
            }
            long flushed = System.nanoTime();
            try {
                if (lease != null) {
                    lease.close(); // leaves the group: a standby takes over at once
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long left = System.nanoTime();
            sender.shutdown();
            transactions.shutdown();
            control.shutdownNow();
            passes.close();
            if (health != null) {
                health.close();
            }
            if (contact != null) {
                contact.close();
            }
            try {
                transactions.awaitTermination(30, TimeUnit.SECONDS);
                if (readers != null) {
                    readers.close();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long stopped = System.nanoTime();
            Duration grace = Duration.ofSeconds(10); // everything acknowledged is written: nothing should need it
            if (txs != null) {
                txs.close(grace);
            }
            if (producer != null) {
                producer.close(grace);
            }
            if (admin != null) {
                admin.close(Duration.ZERO); // only health checks and retention may be pending
            }
            long end = System.nanoTime();
            LOG.info("Kafka store: closed in {} ms (last cursors {} ms, leaving the nodes' group {} ms, readers {} ms, "
                    + "clients {} ms)", millis(began, end), millis(began, flushed), millis(flushed, left),
                    millis(left, stopped), millis(stopped, end));
            closed.complete();
        }, "omnibus-kafka-close");
        t.start();
        return closed.future();
    }

    private static long millis(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1_000_000;
    }
}
