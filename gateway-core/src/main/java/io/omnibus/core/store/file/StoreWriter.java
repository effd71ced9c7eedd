package io.omnibus.core.store.file;

import io.omnibus.core.store.TopicPartition;
import io.omnibus.core.store.file.WriteOps.Change;
import io.omnibus.core.store.file.WriteOps.Control;
import io.omnibus.core.store.file.WriteOps.Op;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * {@link FileMessageStore}'s writer thread: takes what is queued in batches, writes it ({@link LogWriter}), fsyncs by
 * the policy (group commit), runs the controls (flush, checkpoint, truncate, close) in queue order, and writes the
 * checkpoints, applying retention before each. Its state is the writer thread's, but for the first checkpoint, which
 * recovery writes before the thread starts.
 */
final class StoreWriter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreWriter.class);
    private static final int MAX_BATCH = 4096;

    private final FileStoreOptions options;
    private final LinkedBlockingQueue<Op> queue;
    private final AtomicLong queuedBytes;
    private final LogWriter appends;
    private final CommitLog log;
    private final ConcurrentHashMap<TopicPartition, PartitionIndex> indexes;
    private final StoreState state;
    private final RetentionPass retention;
    private final Path checkpointFile;
    /** The journal records of the cursors saved since the last call. */
    private final Supplier<List<Change>> cursorChanges;
    /** Closes the files and releases the data directory: the close's last step. */
    private final IoAction closeFiles;

    interface IoAction {
        void run() throws IOException;
    }

    private long nextCheckpointAt;
    /** A CURSORS control came since the journal was last taken: its states are to be written at {@link #cursorsDue}. */
    private boolean cursorsPending;
    /** When ({@link System#nanoTime}: a wall clock stepped back must not hold them). */
    private long cursorsDue;
    private long checkpointPosition;
    /**
     * Whether the last checkpoint written (by recovery or {@link #runCheckpoint}) records every start as it is now,
     * and retention had moved starts {@link #checkpointedMoves} times then: what the log holds past
     * {@code checkpointPosition} aside, nothing changed since.
     */
    private boolean checkpointCurrent;
    private long checkpointedMoves;
    /**
     * Exists in the data directory while a checkpoint deletes index files: a crash meanwhile can leave files before
     * the starts, which a start does not look for (that is a listing per partition); with the marker there, the next
     * checkpoint looks at every index's files.
     */
    static final String DELETING = "deleting-index-files";
    private final Path deleting;
    /** Recovery found {@link #DELETING}: the next checkpoint looks at every index's files, then removes it. */
    private boolean sweep;

    StoreWriter(FileStoreOptions options, LinkedBlockingQueue<Op> queue, AtomicLong queuedBytes, LogWriter appends,
                CommitLog log, ConcurrentHashMap<TopicPartition, PartitionIndex> indexes, StoreState state,
                RetentionPass retention, Path checkpointFile, Supplier<List<Change>> cursorChanges, IoAction closeFiles) {
        this.options = options;
        this.queue = queue;
        this.queuedBytes = queuedBytes;
        this.appends = appends;
        this.log = log;
        this.indexes = indexes;
        this.state = state;
        this.retention = retention;
        this.checkpointFile = checkpointFile;
        this.cursorChanges = cursorChanges;
        this.closeFiles = closeFiles;
        this.deleting = options.dir().resolve(DELETING);
    }

    /** Recovery is done: its state is the first checkpoint (before the thread starts). */
    void checkpointRecovered() throws IOException {
        if (Files.exists(deleting)) {
            sweep = true;
            for (PartitionIndex i : indexes.values()) {
                i.forgetFiles();
            }
            LOG.info("store {}: the last run stopped while deleting index files; the next checkpoint looks at all of "
                    + "them", options.dir());
        }
        checkpointPosition = log.end();
        state.writeCheckpoint(checkpointFile, checkpoint());
        checkpointCurrent = true;
        checkpointedMoves = retention.moves();
    }

    private StoreState.Checkpoint checkpoint() {
        List<StoreState.PartitionState> parts = new ArrayList<>(indexes.size());
        for (PartitionIndex i : indexes.values()) {
            parts.add(new StoreState.PartitionState(i.tp, i.start(), i.next(), i.bytes()));
        }
        return new StoreState.Checkpoint(checkpointPosition, parts);
    }

    @Override
    public void run() {
        List<Op> batch = new ArrayList<>(MAX_BATCH);
        nextCheckpointAt = System.currentTimeMillis() + options.checkpointInterval().toMillis();
        boolean running = true;
        while (running) {
            try {
                long now = System.currentTimeMillis();
                long wait = nextCheckpointAt - now;
                if (appends.waiting()) {
                    wait = Math.min(wait, appends.firstUnsyncedAt() + options.fsyncInterval().toMillis() - now);
                }
                wait = Math.min(wait, appends.deferredDueIn());
                if (cursorsPending) {
                    wait = Math.min(wait, LogWriter.millisUntil(cursorsDue));
                }
                Op first = queue.poll(Math.max(0, wait), TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, MAX_BATCH - 1);
                }
                running = process(batch);
                batch.clear();
                now = System.currentTimeMillis();
                if (running && cursorsPending && System.nanoTime() - cursorsDue >= 0) {
                    List<Op> cursors = new ArrayList<>();
                    takeCursors(cursors);
                    if (!cursors.isEmpty()) {
                        appends.write(cursors);
                    }
                }
                // group commit: an fsync as soon as nothing more is queued to write (what arrives meanwhile waits
                // for the next one), at the latest fsyncInterval or fsyncBytes after the first unsynced write
                if (appends.waiting() && (options.fsync() == FileStoreOptions.Fsync.EVERY_WRITE || queue.isEmpty()
                        || appends.unsyncedBytes() >= options.fsyncBytes()
                        || now >= appends.firstUnsyncedAt() + options.fsyncInterval().toMillis())
                        || appends.deferredDue()) {
                    appends.sync(); // what no one waits for (deferred changes) rides along, or is due
                }
                if (running && now >= nextCheckpointAt) {
                    runCheckpoint(false);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            } catch (IOException e) {
                // sync() failed its waiters already; a failed checkpoint is retried at the next interval
                appends.markFailed(e);
            } catch (RuntimeException | Error e) {
                LOG.error("store writer: unexpected failure", e);
                LogWriter.failAll(batch, new IOException("store writer failed: " + e, e));
                batch.clear();
                // a CURSORS control failed with the batch would leave the journal waiting for a take: take it now
                cursorsPending = true;
                cursorsDue = System.nanoTime();
            }
        }
    }

    /** Writes one batch; returns false once a close has been handled. */
    private boolean process(List<Op> batch) {
        if (batch.isEmpty()) {
            return true;
        }
        List<Op> writes = new ArrayList<>(batch.size());
        List<Control> controls = new ArrayList<>(1);
        for (Op op : batch) {
            queuedBytes.addAndGet(-op.bytes);
            if (op instanceof Control c && c.kind == Control.Kind.CURSORS) {
                // the journal's states are taken when due, so that the acknowledgements of that while make one
                // record per cursor and at most one wake-up of this thread (one each used to cost 10 % of a
                // delivering gateway's CPU)
                if (!cursorsPending) {
                    cursorsPending = true;
                    cursorsDue = System.nanoTime() + options.fsyncInterval().toNanos();
                }
                c.promise.complete();
                continue;
            }
            if (op instanceof Control c && c.kind != Control.Kind.TRUNCATE) {
                // a flush, a checkpoint or the close covers every state saved before it, even one whose saver's
                // CURSORS control is not queued yet (another thread's save queues it)
                cursorsPending = true;
            }
            if (!(op instanceof WriteOps.Append)) {
                takeCursors(writes); // written before a state change, a transaction or a control, in queue order
            }
            if (op instanceof Control c && c.kind == Control.Kind.TRUNCATE) {
                // in queue order: what was appended before it goes, what comes after stays
                if (!writes.isEmpty()) {
                    appends.write(writes);
                    writes = new ArrayList<>(batch.size());
                }
                runControl(c);
            } else if (op instanceof Control c) {
                controls.add(c);
            } else {
                writes.add(op);
            }
        }
        if (!writes.isEmpty()) {
            appends.write(writes);
        }
        for (Control c : controls) {
            if (c.kind == Control.Kind.CLOSE) {
                closeNow(c, batch);
                return false;
            }
            runControl(c);
        }
        return true;
    }

    /**
     * Adds the cursor journal's states to {@code writes}, if a CURSORS control (or a flush, checkpoint or close) came
     * since the last take.
     */
    private void takeCursors(List<Op> writes) {
        if (cursorsPending) {
            cursorsPending = false;
            writes.addAll(cursorChanges.get());
        }
    }

    private void runControl(Control c) {
        try {
            switch (c.kind) {
                case FLUSH -> {
                    appends.sync();
                    log.force(); // also what os-policy and non-durable writes left in the page cache
                }
                case CHECKPOINT -> runCheckpoint(true);
                case TRUNCATE -> {
                    PartitionIndex idx = indexes.get(c.target);
                    // on the writer: every append queued before this is in idx.next() already
                    if (idx != null && idx.start() < idx.next() && (c.onlyAtEnd < 0 || idx.next() == c.onlyAtEnd)) {
                        c.done = true;
                        appends.sync(); // appends acknowledged before it stay acknowledged until it is durable
                        idx.advanceStart(idx.next(), idx.bytes());
                        checkpointCurrent = false; // if the checkpoint below fails, the next interval writes one
                        runCheckpoint(true); // durable now: recovery starts from the moved start
                    }
                }
                default -> throw new IllegalStateException("not here: " + c.kind);
            }
            c.promise.complete();
        } catch (IOException e) {
            c.promise.fail(e);
        }
    }

    /**
     * Forces the indexes, applies retention and writes the checkpoint; unless {@code always}, not the checkpoint
     * when nothing changed since the last one.
     */
    private void runCheckpoint(boolean always) throws IOException {
        nextCheckpointAt = System.currentTimeMillis() + options.checkpointInterval().toMillis();
        appends.sync();
        log.forceFrom(checkpointPosition);
        for (PartitionIndex i : indexes.values()) {
            if (i.dirty()) {
                i.forceAndRelease();
            }
        }
        appends.forgetOpenIndexes(); // all forced and released just now
        long minLive = retention.apply(indexes.values(), state.subscriptions.values());
        if (!always && !sweep && checkpointCurrent && log.end() == checkpointPosition
                && retention.moves() == checkpointedMoves) {
            // nothing was written since the last checkpoint (cursors and state changes are records in the log too)
            // and no start moved: that checkpoint holds (an idle gateway with 50,000 partitions wrote 3.9 MB every
            // 10 s)
            return;
        }
        checkpointCurrent = false; // until this one is written: a failed write is tried again at the next interval
        checkpointPosition = log.end();
        long moves = retention.moves();
        state.writeCheckpoint(checkpointFile, checkpoint());
        checkpointCurrent = true;
        checkpointedMoves = moves;
        // files go only once a checkpoint that no longer needs them is durable, under the marker
        deleteObsoleteIndexFiles();
        int deleted = log.deleteBefore(Math.min(minLive, checkpointPosition));
        if (deleted > 0) {
            CommitLog.forceDirectory(options.dir().resolve("commitlog"));
            LOG.info("store {}: retention deleted {} commit-log segment(s)", options.dir(), deleted);
        }
    }

    /** Deletes the index files before each start, with {@link #DELETING} there meanwhile. */
    private void deleteObsoleteIndexFiles() throws IOException {
        boolean any = sweep;
        for (PartitionIndex i : indexes.values()) {
            any |= i.hasObsoleteFiles();
        }
        if (!any) {
            return;
        }
        Files.write(deleting, new byte[0]);
        CommitLog.forceDirectory(options.dir()); // the marker is on disk before any deletion is
        for (PartitionIndex i : indexes.values()) {
            i.deleteObsoleteFiles();
        }
        Files.deleteIfExists(deleting);
        sweep = false;
    }

    /** Last work of the writer: flush and checkpoint if it can, close the files, fail whatever came too late. */
    private void closeNow(Control close, List<Op> batch) {
        IOException failed = null;
        List<Change> cursors = cursorChanges.get();
        if (!cursors.isEmpty()) {
            appends.write(new ArrayList<>(cursors));
        }
        try {
            appends.sync();
            runCheckpoint(false);
        } catch (IOException e) {
            failed = e;
            LOG.error("store {}: final checkpoint failed; the next start recovers from the previous one", options.dir(), e);
        }
        try {
            closeFiles.run();
        } catch (IOException e) {
            failed = failed == null ? e : failed;
        }
        List<Op> late = new ArrayList<>();
        for (Op op : batch) {
            if (op != close && op instanceof Control) {
                late.add(op);
            }
        }
        queue.drainTo(late);
        LogWriter.failAll(late, new IOException("store is closed"));
        if (failed == null) {
            close.promise.complete();
        } else {
            close.promise.fail(failed);
        }
    }
}
