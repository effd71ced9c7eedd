package io.omnibus.core.store.file;

import io.omnibus.core.spi.Address;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

/**
 * How a {@link FileMessageStore} writes, syncs, rolls, keeps and bounds its files.
 *
 * <p>{@code preallocate}: bytes of zeros kept written ahead of the commit log's end, so that an fsync after an
 * append writes the data alone, not the file's size and blocks as well (0: none; not used with {@link Fsync#OS}).
 */
public record FileStoreOptions(Path dir, Fsync fsync, Duration fsyncInterval, long fsyncBytes, long segmentSize,
                               long indexEntriesPerFile, Duration checkpointInterval, long maxQueuedBytes,
                               Function<Address, Retention> retention, int maxOpenIndexFiles, long preallocate) {
    /** Index files kept open for writing at once; more partitions than this close the least recently written. */
    public static final int DEFAULT_OPEN_INDEX_FILES = 1024;
    public static final long DEFAULT_PREALLOCATE = 4L << 20;

    public static FileStoreOptions defaults(Path dir) {
        return new FileStoreOptions(dir, Fsync.GROUP, Duration.ofMillis(5), 1 << 20, 128L << 20, 1 << 20,
                Duration.ofSeconds(10), 64L << 20, a -> Retention.NONE, DEFAULT_OPEN_INDEX_FILES, DEFAULT_PREALLOCATE);
    }

    public FileStoreOptions withFsync(Fsync f) {
        return new FileStoreOptions(dir, f, fsyncInterval, fsyncBytes, segmentSize, indexEntriesPerFile,
                checkpointInterval, maxQueuedBytes, retention, maxOpenIndexFiles, preallocate);
    }

    public FileStoreOptions withFsyncInterval(Duration d) {
        return new FileStoreOptions(dir, fsync, d, fsyncBytes, segmentSize, indexEntriesPerFile,
                checkpointInterval, maxQueuedBytes, retention, maxOpenIndexFiles, preallocate);
    }

    public FileStoreOptions withSegmentSize(long bytes, long indexEntries) {
        return new FileStoreOptions(dir, fsync, fsyncInterval, fsyncBytes, bytes, indexEntries, checkpointInterval,
                maxQueuedBytes, retention, maxOpenIndexFiles, preallocate);
    }

    public FileStoreOptions withCheckpointInterval(Duration d) {
        return new FileStoreOptions(dir, fsync, fsyncInterval, fsyncBytes, segmentSize, indexEntriesPerFile, d,
                maxQueuedBytes, retention, maxOpenIndexFiles, preallocate);
    }

    public FileStoreOptions withRetention(Function<Address, Retention> r) {
        return new FileStoreOptions(dir, fsync, fsyncInterval, fsyncBytes, segmentSize, indexEntriesPerFile,
                checkpointInterval, maxQueuedBytes, r, maxOpenIndexFiles, preallocate);
    }

    public FileStoreOptions withMaxOpenIndexFiles(int n) {
        return new FileStoreOptions(dir, fsync, fsyncInterval, fsyncBytes, segmentSize, indexEntriesPerFile,
                checkpointInterval, maxQueuedBytes, retention, n, preallocate);
    }

    public FileStoreOptions withPreallocate(long bytes) {
        return new FileStoreOptions(dir, fsync, fsyncInterval, fsyncBytes, segmentSize, indexEntriesPerFile,
                checkpointInterval, maxQueuedBytes, retention, maxOpenIndexFiles, bytes);
    }

    /** How a partition's old messages go: by age, by size; zero turns each off. */
    public record Retention(Duration maxAge, long maxBytes) {
        public static final Retention NONE = new Retention(Duration.ZERO, 0);
    }

    public enum Fsync { EVERY_WRITE, GROUP, OS }
}
