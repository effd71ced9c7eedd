package io.omnibus.core.store.file;


import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.AddressWidths;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.TopicPartition;
import io.omnibus.core.store.file.WriteOps.Append;
import io.omnibus.core.store.file.WriteOps.Change;
import io.omnibus.core.store.file.WriteOps.Control;
import io.omnibus.core.store.file.WriteOps.Group;
import io.omnibus.core.store.file.WriteOps.Op;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The durable store: one commit log, an index per topic partition, subscriptions and state, with
 * crash recovery from the last checkpoint (DESIGN.md §2 "Store").
 *
 * <p>Threads: one writer thread ({@link StoreWriter}) does every write, fsync, checkpoint and retention pass, in
 * order; appends are queued to it (serialised on the caller's thread). Reads run on a small
 * reader pool. Futures complete on those threads; the broker moves back to its own contexts.
 *
 * <p>Durability: {@code every-write} fsyncs each batch the writer takes before acknowledging it;
 * {@code group} acknowledges once an fsync covers the write: the writer fsyncs when it has nothing more queued
 * (what arrives during the fsync waits for the next), at the latest {@code fsyncInterval} or
 * {@code fsyncBytes} after the first unsynced write; {@code os} acknowledges once written to the OS. Non-durable messages
 * (QoS 0) are acknowledged once written, whatever the policy.
 */
public final class FileMessageStore implements MessageStore {
    private static final Logger LOG = LoggerFactory.getLogger(FileMessageStore.class);

    private final FileStoreOptions options;
    private final Path checkpointFile;
    private final LinkedBlockingQueue<Op> queue = new LinkedBlockingQueue<>();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final ConcurrentHashMap<TopicPartition, PartitionIndex> indexes = new ConcurrentHashMap<>();
    /** Per address, one more than its highest partition number in {@link #indexes} (LogWriter#indexed). */
    private final AddressWidths widths = new AddressWidths();
    private final StoreState state = new StoreState();
    private final RetentionPass retention;
    /** Cursors saved and not written yet. */
    private final CursorJournal cursors = new CursorJournal(state, () -> queue.add(new Control(Control.Kind.CURSORS)));

    private final ExecutorService readers = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "omnibus-store-reader");
        t.setDaemon(true);
        return t;
    });
    /** The data directory, held while the store is open. */
    private DataDirectory directory;
    private CommitLog log;
    private Thread writer;
    /** The writer thread's appends, made once the store is recovered. */
    private volatile LogWriter appends;
    private volatile boolean open;
    private volatile boolean closing;

    public FileMessageStore(FileStoreOptions options) {
        this.options = options;
        this.checkpointFile = options.dir().resolve("checkpoint");
        this.retention = new RetentionPass(options.retention());
    }

    @Override
    public String type() {
        return "file";
    }

    /** Its meters, and what it counts for them. */
    private final StoreMeters meters = new StoreMeters();

    /** See {@link StoreMeters#register}. */
    @Override
    public void instrument(io.micrometer.core.instrument.MeterRegistry registry) {
        meters.register(registry, options.dir().toFile(), this);
    }

    /** Commit-log bytes the store holds (0 before it opens). */
    long logBytes() {
        CommitLog l = log;
        return l == null ? 0 : l.end() - l.start();
    }

    @Override
    public boolean healthy() {
        return open && appends.failure() == null;
    }

    /** The last write error, while writes are failing (disk full, I/O error); null when healthy. */
    public IOException failure() {
        LogWriter w = appends;
        return w == null ? null : w.failure();
    }

    // ---- open and recovery ----------------------------------------------------------------------------

    @Override
    public Future<Void> open() {
        Promise<Void> done = Promise.promise();
        Thread t = new Thread(() -> {
            try {
                long began = System.nanoTime();
                recover();
                appends = new LogWriter(options, log, indexes, widths, meters.appendedBytes, meters::fsynced);
                StoreWriter loop = new StoreWriter(options, queue, queuedBytes, appends, log, indexes, state, retention,
                        checkpointFile, cursors::changes, this::closeFiles);
                loop.checkpointRecovered();
                open = true;
                LOG.info("store {}: recovered {} partitions in {} ms", options.dir(), indexes.size(),
                        (System.nanoTime() - began) / 1_000_000);
                writer = new Thread(loop, "omnibus-store-writer");
                writer.start();
                done.complete();
            } catch (Exception e) {
                try {
                    for (PartitionIndex i : indexes.values()) {
                        i.close();
                    }
                    if (log != null) {
                        log.close();
                    }
                } catch (IOException closeFailed) {
                    e.addSuppressed(closeFailed);
                }
                releaseQuietly();
                done.fail(e);
            }
        }, "omnibus-store-open");
        t.start();
        return done.future();
    }

    /** The store format this gateway writes and reads ({@link DataDirectory}). */
    static final int FORMAT = DataDirectory.FORMAT;

    /**
     * Takes the data directory, and brings the state back from the last checkpoint and the log after it (which the
     * writer then checkpoints: {@link StoreWriter#checkpointRecovered}).
     */
    private void recover() throws IOException {
        directory = DataDirectory.take(options.dir());
        StoreRecovery.Recovered recovered = StoreRecovery.run(options, checkpointFile, state, indexes, widths);
        log = recovered.log();
        meters.corruptRecords = recovered.corruptRecords();
    }

    // ---- appends, encoded here and queued to the writer ------------------------------------------------

    @Override
    public Future<Long> append(TopicPartition partition, Envelope envelope) {
        return appendAll(partition, List.of(envelope));
    }

    @Override
    public Future<Long> appendAll(TopicPartition partition, List<Envelope> envelopes) {
        String refused = refusal();
        if (refused != null) {
            return Future.failedFuture(new IOException(refused));
        }
        long now = System.currentTimeMillis();
        Append op;
        try {
            op = Append.encode(partition, envelopes, now, envelopes.size() > 1, options.segmentSize());
        } catch (IOException e) {
            return Future.failedFuture(e);
        }
        if (!reserve(op.bytes)) {
            return Future.failedFuture(queueFull());
        }
        queue.add(op);
        return op.promise.future();
    }

    @Override
    public void appendAtomically(List<io.omnibus.core.store.PartitionBatch> batches,
                                 List<io.omnibus.core.store.StateChange> states,
                                 List<io.omnibus.core.store.CursorChange> cursorChanges,
                                 io.vertx.core.Promise<long[]> done) {
        String refused = refusal();
        if (refused != null) {
            done.fail(new IOException(refused));
            return;
        }
        long now = System.currentTimeMillis();
        Append[] parts = new Append[batches.size()];
        int bytes = 0;
        int count = 0;
        boolean durable = false;
        try {
            for (int i = 0; i < parts.length; i++) {
                parts[i] = Append.encode(batches.get(i).partition(), batches.get(i).envelopes(), now, false,
                        options.segmentSize());
                bytes += parts[i].bytes;
                count += parts[i].records.length;
                durable |= parts[i].durable;
            }
        } catch (IOException e) {
            done.fail(e);
            return;
        }
        List<Change> made = new ArrayList<>(states.size() + cursorChanges.size());
        for (io.omnibus.core.store.StateChange c : states) {
            byte[] copy = c.value() == null ? null : c.value().clone();
            made.add(new Change(Record.encodeState(StoreState.statePut(c.namespace(), c.key(), copy), now),
                    () -> applyState(c.namespace(), c.key(), copy)));
        }
        for (io.omnibus.core.store.CursorChange c : cursorChanges) {
            if (state.subscriptions.containsKey(c.subscription())) { // a durable subscription's
                made.add(cursors.change(c.subscription(), c.partition(), c.state(), now));
            }
        }
        Change[] changes = made.toArray(Change[]::new);
        for (Change c : changes) {
            bytes += c.bytes;
        }
        ByteBuffer marker = Record.encodeGroup(count + changes.length, now);
        bytes += marker.remaining();
        if (bytes > options.segmentSize()) {
            done.fail(new IOException("a group of " + bytes
                    + " bytes is larger than store.segment-size (" + options.segmentSize() + ")"));
            return;
        }
        if (!reserve(bytes)) {
            done.fail(queueFull());
            return;
        }
        queue.add(new Group(parts, changes, bytes, durable || changes.length > 0, marker, done));
    }

    /** Why no append is taken now, or null. */
    private String refusal() {
        if (!open || closing) {
            return "store is closed";
        }
        if (appends.broken()) {
            return "store needs a restart after a write it could not take back: " + appends.failure();
        }
        return null;
    }

    private boolean reserve(int bytes) {
        if (queuedBytes.addAndGet(bytes) > options.maxQueuedBytes()) {
            queuedBytes.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    private IOException queueFull() {
        return new IOException("store write queue is full (" + options.maxQueuedBytes() + " bytes waiting for the disk)");
    }

    private void closeFiles() throws IOException {
        for (PartitionIndex i : indexes.values()) {
            i.close();
        }
        log.close();
        open = false;
        releaseQuietly();
    }

    private void releaseQuietly() {
        if (directory != null) {
            directory.release();
            directory = null;
        }
    }

    // ---- reads --------------------------------------------------------------------------------------

    @Override
    public Future<List<StoredMessage>> read(TopicPartition partition, long fromOffset, int max) {
        return read(partition, fromOffset, max, LogReads.Mode.DECODED);
    }

    @Override
    public boolean keepsBatches() {
        return true;
    }

    @Override
    public Future<List<StoredMessage>> readLazily(TopicPartition partition, long fromOffset, int max, boolean inFiles) {
        return read(partition, fromOffset, max, inFiles ? LogReads.Mode.IN_FILES : LogReads.Mode.LAZY);
    }

    private Future<List<StoredMessage>> read(TopicPartition partition, long fromOffset, int max, LogReads.Mode mode) {
        PartitionIndex idx = indexes.get(partition);
        if (idx == null || max <= 0) {
            return Future.succeededFuture(List.of());
        }
        Promise<List<StoredMessage>> promise = Promise.promise();
        readers.execute(() -> {
            try {
                promise.complete(LogReads.read(log, idx, fromOffset, max, mode));
            } catch (IOException | RuntimeException e) {
                promise.fail(e);
            }
        });
        return promise.future();
    }

    @Override
    public long startOffset(TopicPartition partition) {
        PartitionIndex idx = indexes.get(partition);
        return idx == null ? 0 : idx.readableStart();
    }

    @Override
    public long endOffset(TopicPartition partition) {
        PartitionIndex idx = indexes.get(partition);
        return idx == null ? 0 : idx.readable();
    }

    @Override
    public Set<TopicPartition> partitions() {
        return Set.copyOf(indexes.keySet());
    }

    // ---- subscriptions, cursors, state --------------------------------------------------------------------

    private Future<Void> change(byte[] body, Runnable apply) {
        return change(new Change(Record.encodeState(body, System.currentTimeMillis()), apply));
    }

    private Future<Void> change(Change c) {
        if (!open || closing) {
            return Future.failedFuture(new IOException("store is closed"));
        }
        if (appends.broken()) {
            return Future.failedFuture(new IOException("store needs a restart after a write it could not take back"));
        }
        if (c.bytes > options.segmentSize()) {
            return Future.failedFuture(new IOException("state of " + c.bytes + " bytes is larger than store.segment-size"));
        }
        queuedBytes.addAndGet(c.bytes);
        queue.add(c);
        return c.promise.future();
    }

    @Override
    public Future<Void> saveSubscription(SubscriptionRecord record) {
        if (state.subscriptions.containsKey(record.name())) {
            return Future.succeededFuture();
        }
        Change[] made = new Change[1];
        made[0] = new Change(Record.encodeState(StoreState.subscriptionPut(record), System.currentTimeMillis()),
                () -> state.subscriptions.putIfAbsent(record.name(),
                        new StoreState.Durable(record, new ConcurrentHashMap<>(made[0].starts))), record.filter());
        return change(made[0]);
    }

    @Override
    public Future<Void> deleteSubscription(String name) {
        cursors.forget(name);
        return change(StoreState.subscriptionDelete(name), () -> state.subscriptions.remove(name));
    }

    /**
     * Journals a cursor: the latest state per subscription and partition is written to the commit log within the
     * fsync interval (sooner ahead of a state change, a transaction, a flush or the close) and made durable by the
     * next fsync, at the latest the fsync interval later; see {@link CursorJournal}.
     */
    @Override
    public void saveCursor(String subscription, TopicPartition partition, CursorState cursor) {
        if (!state.subscriptions.containsKey(subscription) || !open || closing) {
            return;
        }
        cursors.save(subscription, partition, cursor);
    }

    @Override
    public Future<Map<SubscriptionRecord, Map<TopicPartition, CursorState>>> subscriptions() {
        return Future.succeededFuture(state.subscriptionsView());
    }

    @Override
    public Future<Void> putState(String namespace, String key, byte[] value) {
        byte[] copy = value == null ? null : value.clone();
        return change(StoreState.statePut(namespace, key, copy), () -> applyState(namespace, key, copy));
    }

    /** Once written: the state as {@link #states} shows it. */
    private void applyState(String namespace, String key, byte[] value) {
        ConcurrentHashMap<String, byte[]> ns = state.states.computeIfAbsent(namespace, n -> new ConcurrentHashMap<>());
        if (value == null) {
            ns.remove(key);
        } else {
            ns.put(key, value);
        }
    }

    @Override
    public Map<String, byte[]> states(String namespace) {
        return Map.copyOf(state.states.getOrDefault(namespace, new ConcurrentHashMap<>()));
    }

    @Override
    public byte[] state(String namespace, String key) {
        Map<String, byte[]> ns = state.states.get(namespace);
        return ns == null ? null : ns.get(key);
    }

    @Override
    public long droppedByRetention() {
        return retention.dropped();
    }

    @Override
    public Future<Void> flush() {
        return control(Control.Kind.FLUSH);
    }

    /** Forces a checkpoint now (tests; also what a clean close does). */
    public Future<Void> checkpointNow() {
        return control(Control.Kind.CHECKPOINT);
    }

    @Override
    public Future<Void> truncate(TopicPartition partition) {
        return control(new Control(Control.Kind.TRUNCATE, partition, -1));
    }

    @Override
    public Future<Boolean> truncateIfEndsAt(TopicPartition partition, long end) {
        Control c = new Control(Control.Kind.TRUNCATE, partition, end);
        return control(c).map(v -> c.done);
    }

    private Future<Void> control(Control.Kind kind) {
        return control(new Control(kind));
    }

    private Future<Void> control(Control c) {
        if (!open) {
            return Future.failedFuture(new IOException("store is closed"));
        }
        queue.add(c);
        return c.promise.future();
    }

    /**
     * Stops the writer at once, without a checkpoint or fsync, and closes the files: what a crash
     * leaves behind (page cache included). Only for tests of recovery.
     */
    public void crashForTests() throws Exception {
        closing = true;
        writer.interrupt();
        writer.join(10_000);
        for (PartitionIndex i : indexes.values()) {
            i.close();
        }
        log.close();
        open = false;
        releaseQuietly();
        readers.shutdown();
    }

    @Override
    public Future<Void> close() {
        if (!open || closing) {
            return Future.succeededFuture();
        }
        Control c = new Control(Control.Kind.CLOSE);
        closing = true; // appends from now on fail at once; the writer fails any that slipped in
        queue.add(c);
        return c.promise.future().onComplete(ar -> readers.shutdown());
    }
}
