package io.omnibus.store.kafka;

import io.omnibus.core.store.CursorChange;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.StateChange;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Kafka store's state topic ({@link StateRecords}): key-value state, durable subscriptions, their cursors and the
 * topic registry, read whole when the store opens and kept in memory after, each change applied in memory once the
 * cluster acknowledged its record. Cursor changes are coalesced: the latest state of each (subscription, partition)
 * is written {@value #CURSOR_DELAY_MILLIS} ms after the first change, as the file store journals them with its next
 * write batch.
 *
 * <p>Written only by the active node, in transactions of the active role's transactional id on the store's transaction
 * thread (what waits when one starts goes in it, in call order): a node that lost the role and still has writes
 * pending (it froze, then woke) cannot overwrite the new active node's state, because Kafka fenced its producer when
 * the new node took the id. The topic registry is the exception: written before a topic's first message through the
 * plain producer, as it never changes. Thread-safe.
 */
final class KafkaState {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaState.class);
    /** How long a cursor change may wait to be written with others. */
    static final long CURSOR_DELAY_MILLIS = 20;

    private record CursorKey(String subscription, TopicPartition partition) {
    }

    /** A state record waiting for its transaction; {@code applied}, then {@code done}, once it committed. */
    /** Records that are written in one transaction, with what follows from them. */
    private record Pending(List<ProducerRecord<byte[], byte[]>> records, Runnable applied, Promise<Void> done,
                           Runnable failed) {
        Pending(ProducerRecord<byte[], byte[]> record, Runnable applied, Promise<Void> done, Runnable failed) {
            this(List.of(record), applied, done, failed);
        }
    }

    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;
    private final ExecutorService writer;
    private final ScheduledExecutorService timer;
    private volatile KafkaTransactions transactions;
    private final java.util.concurrent.ConcurrentLinkedQueue<Pending> queued = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainQueued = new AtomicBoolean();
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, byte[]>> states = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, SubscriptionRecord> subscriptions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, ConcurrentHashMap<TopicPartition, CursorState>> cursors = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<CursorKey, CursorState> dirtyCursors = new ConcurrentHashMap<>();
    private final AtomicBoolean cursorsQueued = new AtomicBoolean();

    /**
     * @param producer the plain producer, for the topic registry
     * @param writer   the store's transaction thread, where every other record is written
     */
    KafkaState(String topic, KafkaProducer<byte[], byte[]> producer, ExecutorService writer, ScheduledExecutorService timer) {
        this.topic = topic;
        this.producer = producer;
        this.writer = writer;
        this.timer = timer;
    }

    /** The active role's transactional producer, initialized: state is written from now on. */
    void writeWith(KafkaTransactions transactional) {
        this.transactions = transactional;
    }

    /**
     * The topic registry as the state topic has it now (data topic name to address name), read whole without
     * touching this node's state: for topics another node made after this one loaded it ({@link KafkaEnds}).
     */
    static Map<String, String> readRegistry(KafkaConsumer<byte[], byte[]> c, String stateTopic, Duration timeout) {
        Map<String, String> registry = new HashMap<>();
        readWhole(c, stateTopic, timeout, (keyBytes, value) -> {
            StateRecords.Key key;
            try {
                key = StateRecords.parse(keyBytes);
            } catch (IllegalArgumentException e) {
                return; // load() says so
            }
            if (key.kind() == StateRecords.TOPIC) {
                applyTopic(registry, key, value);
            }
        });
        return registry;
    }

    /** Reads the whole state topic (committed records) into memory; returns the topic registry. */
    Map<String, String> load(KafkaConsumer<byte[], byte[]> c) {
        Map<String, String> registry = new HashMap<>();
        Map<String, Map<TopicPartition, CursorState>> loadedCursors = new HashMap<>();
        readWhole(c, topic, null, (key, value) -> applyLoaded(key, value, registry, loadedCursors));
        loadedCursors.forEach((sub, map) -> {
            if (subscriptions.containsKey(sub)) { // cursors written after their subscription's delete are left out
                cursors.put(sub, new ConcurrentHashMap<>(map));
            }
        });
        return registry;
    }

    /**
     * Each record of the state topic, from its start to its end as of now, to {@code each}; within {@code timeout},
     * or the consumer's own timeouts when null (loading takes what it takes).
     */
    private static void readWhole(KafkaConsumer<byte[], byte[]> c, String stateTopic, Duration timeout,
                                  java.util.function.BiConsumer<byte[], byte[]> each) {
        org.apache.kafka.common.TopicPartition ktp = new org.apache.kafka.common.TopicPartition(stateTopic, 0);
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        c.assign(List.of(ktp));
        try {
            c.seekToBeginning(List.of(ktp));
            long end = (timeout == null ? c.endOffsets(List.of(ktp)) : c.endOffsets(List.of(ktp), timeout)).get(ktp);
            while ((timeout == null ? c.position(ktp) : c.position(ktp, timeout)) < end) {
                if (timeout != null && System.nanoTime() > deadline) {
                    throw new org.apache.kafka.common.errors.TimeoutException("reading " + stateTopic + " took over "
                            + timeout.toMillis() + " ms");
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    each.accept(r.key(), r.value());
                }
            }
        } finally {
            c.unsubscribe();
        }
    }

    private static void applyTopic(Map<String, String> registry, StateRecords.Key key, byte[] value) {
        if (value == null) {
            registry.remove(key.part(0));
        } else {
            registry.put(key.part(0), new String(value, StandardCharsets.UTF_8));
        }
    }

    private void applyLoaded(byte[] keyBytes, byte[] value, Map<String, String> registry,
                             Map<String, Map<TopicPartition, CursorState>> loadedCursors) {
        StateRecords.Key key;
        try {
            key = StateRecords.parse(keyBytes);
        } catch (IllegalArgumentException e) {
            LOG.warn("state topic {}: a record with a key this version does not know, left out: {}", topic,
                    e.getMessage());
            return;
        }
        switch (key.kind()) {
            case StateRecords.STATE -> applyState(key.part(0), key.part(1), value);
            case StateRecords.TOPIC -> applyTopic(registry, key, value);
            case StateRecords.SUBSCRIPTION -> {
                if (value == null) {
                    subscriptions.remove(key.part(0));
                    loadedCursors.remove(key.part(0));
                } else {
                    subscriptions.put(key.part(0), StateRecords.subscription(value));
                }
            }
            case StateRecords.CURSOR -> {
                Map<TopicPartition, CursorState> m = loadedCursors.computeIfAbsent(key.part(0), k -> new HashMap<>());
                if (value == null) {
                    m.remove(StateRecords.cursorPartition(key));
                } else {
                    m.put(StateRecords.cursorPartition(key), StateRecords.cursor(value));
                }
            }
            default -> LOG.warn("state topic {}: a record of unknown kind '{}', left out", topic,
                    (char) key.kind());
        }
    }

    /** Writes a registry record and waits for the cluster's acknowledgement (on the store's threads). */
    void register(String kafkaTopic, String address) {
        try {
            producer.send(new ProducerRecord<>(topic, 0, StateRecords.topicKey(kafkaTopic),
                    address.getBytes(StandardCharsets.UTF_8))).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not register topic " + kafkaTopic + ": " + e.getMessage(), e);
        }
    }

    /**
     * A durable subscription, with its place in each partition it matches: {@code starts}, where those partitions
     * ended when it was made (what was stored before is not its). Written together, so that a node taking over reads
     * from there on, not from the partitions' starts. A subscription saved again keeps its cursors.
     */
    Future<Void> saveSubscription(SubscriptionRecord record, Map<TopicPartition, Long> starts) {
        String name = record.name();
        if (subscriptions.containsKey(name)) {
            return send(StateRecords.subscriptionKey(name), StateRecords.subscription(record),
                    () -> subscriptions.put(name, record));
        }
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(starts.size() + 1);
        Map<TopicPartition, CursorState> cursorsAt = new HashMap<>();
        starts.forEach((tp, offset) -> {
            CursorState c = new CursorState(offset, List.of());
            cursorsAt.put(tp, c);
            records.add(new ProducerRecord<>(topic, 0, StateRecords.cursorKey(name, tp), StateRecords.cursor(c)));
        });
        records.add(new ProducerRecord<>(topic, 0, StateRecords.subscriptionKey(name), StateRecords.subscription(record)));
        Promise<Void> done = Promise.promise();
        queued.add(new Pending(records, () -> {
            // cursors changed meanwhile were not taken (the subscription was not known yet): these are the first
            cursors.computeIfAbsent(name, k -> new ConcurrentHashMap<>()).putAll(cursorsAt);
            subscriptions.put(name, record);
        }, done, null));
        drainSoon();
        return done.future();
    }

    Future<Void> deleteSubscription(String name) {
        Map<TopicPartition, CursorState> had = cursors.getOrDefault(name, new ConcurrentHashMap<>());
        List<Future<Void>> sent = new ArrayList<>();
        for (TopicPartition tp : had.keySet()) {
            sent.add(send(StateRecords.cursorKey(name, tp), null, () -> { }));
        }
        sent.add(send(StateRecords.subscriptionKey(name), null, () -> {
            subscriptions.remove(name);
            cursors.remove(name);
        }));
        return Future.all(sent).mapEmpty();
    }

    void saveCursor(String subscription, TopicPartition partition, CursorState state) {
        if (!subscriptions.containsKey(subscription)) {
            return;
        }
        dirtyCursors.put(new CursorKey(subscription, partition), state);
        if (cursorsQueued.compareAndSet(false, true)) {
            try {
                timer.schedule(this::drainSoon, CURSOR_DELAY_MILLIS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // close() writes them
            }
        }
    }

    /**
     * Everything waiting to be written, in order: the records queued, then the latest state of each cursor changed
     * since the last call. On the writer thread.
     */
    private List<Pending> takePending() {
        drainQueued.set(false); // what comes from now on schedules another round
        cursorsQueued.set(false);
        List<Pending> out = new ArrayList<>();
        for (Pending p = queued.poll(); p != null; p = queued.poll()) {
            out.add(p);
        }
        for (Map.Entry<CursorKey, CursorState> e : dirtyCursors.entrySet()) {
            CursorKey k = e.getKey();
            CursorState state = e.getValue();
            if (!dirtyCursors.remove(k, state)) {
                continue; // changed again: the next round writes the newer state
            }
            if (!subscriptions.containsKey(k.subscription())) {
                continue;
            }
            out.add(new Pending(new ProducerRecord<>(topic, 0, StateRecords.cursorKey(k.subscription(), k.partition()),
                    StateRecords.cursor(state)), () -> {
                        if (subscriptions.containsKey(k.subscription())) {
                            cursors.computeIfAbsent(k.subscription(), s -> new ConcurrentHashMap<>()).put(k.partition(), state);
                        }
                    }, null, () -> dirtyCursors.putIfAbsent(k, state))); // with its next change, unless one is newer
        }
        return out;
    }

    /** Writes what waits, in one transaction. On the writer thread. */
    void drain() {
        write(takePending());
    }

    /** Writes {@code batch} in one transaction. On the writer thread. */
    private void write(List<Pending> batch) {
        if (batch.isEmpty()) {
            return;
        }
        KafkaTransactions tx = transactions;
        if (tx == null) {
            failed(batch, new IllegalStateException("the Kafka store is not active"));
            return;
        }
        boolean begun = false;
        try {
            KafkaProducer<byte[], byte[]> p = tx.begin();
            begun = true;
            for (Pending pending : batch) {
                pending.records().forEach(p::send);
            }
            tx.commit();
            begun = false;
            committed(batch);
        } catch (RuntimeException e) {
            LOG.warn("Kafka store: writing {} state record(s) failed: {}", batch.size(), e.toString());
            failed(batch, e);
            if (begun) {
                tx.failed(e);
            }
        }
    }

    /** These records committed: they are the state now. */
    private static void committed(List<Pending> batch) {
        for (Pending p : batch) {
            p.applied().run();
            if (p.done() != null) {
                p.done().complete();
            }
        }
    }

    /** These records were not written. */
    private static void failed(List<Pending> batch, Throwable e) {
        for (Pending p : batch) {
            if (p.done() != null) {
                p.done().tryFail(e);
            }
            if (p.failed() != null) {
                p.failed().run();
            }
        }
    }

    /** Writes what waits on the writer thread, once, however many ask before it runs. */
    private void drainSoon() {
        if (drainQueued.compareAndSet(false, true)) {
            try {
                writer.execute(this::drain);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                drainQueued.set(false);
                List<Pending> left = new ArrayList<>();
                for (Pending p = queued.poll(); p != null; p = queued.poll()) {
                    left.add(p);
                }
                failed(left, new IllegalStateException("the Kafka store is closing"));
            }
        }
    }

    Map<SubscriptionRecord, Map<TopicPartition, CursorState>> subscriptions() {
        Map<SubscriptionRecord, Map<TopicPartition, CursorState>> out = new HashMap<>();
        subscriptions.forEach((name, r) -> out.put(r, Map.copyOf(cursors.getOrDefault(name, new ConcurrentHashMap<>()))));
        return out;
    }

    int subscriptionCount() {
        return subscriptions.size();
    }

    /** A transaction's state and cursor changes, as records of the state topic. */
    List<ProducerRecord<byte[], byte[]>> records(List<StateChange> changes, List<CursorChange> cursorChanges) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(changes.size() + cursorChanges.size());
        for (StateChange c : changes) {
            out.add(new ProducerRecord<>(topic, 0, StateRecords.stateKey(c.namespace(), c.key()), c.value()));
        }
        for (CursorChange c : cursorChanges) {
            out.add(new ProducerRecord<>(topic, 0, StateRecords.cursorKey(c.subscription(), c.partition()),
                    StateRecords.cursor(c.state())));
        }
        return out;
    }

    /** A transaction with these changes committed: they are the state now. */
    void committed(List<StateChange> changes, List<CursorChange> cursorChanges) {
        for (StateChange c : changes) {
            applyState(c.namespace(), c.key(), c.value());
        }
        for (CursorChange c : cursorChanges) {
            if (subscriptions.containsKey(c.subscription())) {
                cursors.computeIfAbsent(c.subscription(), s -> new ConcurrentHashMap<>()).put(c.partition(), c.state());
            }
        }
    }

    Future<Void> putState(String namespace, String key, byte[] value) {
        byte[] copy = value == null ? null : value.clone();
        return send(StateRecords.stateKey(namespace, key), copy, () -> applyState(namespace, key, copy));
    }

    /**
     * Writes {@code record} (of another topic of the store's) in a transaction of the active role of its own, on the
     * writer thread: it lands only while this node holds the role's transactional id, and a failure to write it (its
     * partition unavailable) fails no state record with it. Never waits.
     */
    Future<Void> writeInTransaction(ProducerRecord<byte[], byte[]> record) {
        Promise<Void> done = Promise.promise();
        try {
            writer.execute(() -> write(List.of(new Pending(record, () -> { }, done, null))));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            done.fail(new IllegalStateException("the Kafka store is closing"));
        }
        return done.future();
    }

    /** Writes a state record with the next transaction; {@code applied} runs once it committed. */
    private Future<Void> send(byte[] key, byte[] value, Runnable applied) {
        Promise<Void> done = Promise.promise();
        queued.add(new Pending(new ProducerRecord<>(topic, 0, key, value), applied, done, null));
        drainSoon();
        return done.future();
    }

    private void applyState(String namespace, String key, byte[] value) {
        ConcurrentHashMap<String, byte[]> ns = states.computeIfAbsent(namespace, n -> new ConcurrentHashMap<>());
        if (value == null) {
            ns.remove(key);
        } else {
            ns.put(key, value);
        }
    }

    Map<String, byte[]> states(String namespace) {
        ConcurrentHashMap<String, byte[]> ns = states.get(namespace);
        return ns == null ? Map.of() : Map.copyOf(ns);
    }

    byte[] state(String namespace, String key) {
        ConcurrentHashMap<String, byte[]> ns = states.get(namespace);
        return ns == null ? null : ns.get(key);
    }

}
