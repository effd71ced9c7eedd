package io.omnibus.core.store.file;

import io.omnibus.core.store.AddressWidths;
import io.omnibus.core.store.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Opens a store's commit log and brings the store's state back to where the log ends: the subscriptions, state and
 * partition indexes of the last checkpoint, then what the log holds past it (a torn tail cut off). Indexes written
 * after the checkpoint are rebuilt from the log, not trusted. On the thread that opens the store.
 */
final class StoreRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(StoreRecovery.class);

    /** The commit log, every index forced to disk; and how many records the scan skipped as corrupt. */
    record Recovered(CommitLog log, long corruptRecords) {
    }

    private StoreRecovery() {
    }

    static Recovered run(FileStoreOptions options, Path checkpointFile, StoreState state,
                         ConcurrentHashMap<TopicPartition, PartitionIndex> indexes, AddressWidths widths)
            throws IOException {
        CommitLog log = new CommitLog(options.dir().resolve("commitlog"), options.segmentSize(),
                options.fsync() == FileStoreOptions.Fsync.OS ? 0 : options.preallocate());
        try {
            Path indexRoot = options.dir().resolve("index");
            Files.createDirectories(indexRoot);
            StoreState.Checkpoint cp = checkpoint(options, checkpointFile, state);
            restoreIndexes(options, indexRoot, cp, indexes, widths);
            long from = cp == null ? log.start() : Math.max(cp.logPosition(), log.start());
            LogScan scan = new LogScan(log, state, indexes, widths, indexRoot, options.indexEntriesPerFile(),
                    options.segmentSize());
            long end = scan.from(from, filter -> LogWriter.ends(indexes, widths, filter, Map.of()));
            if (end < log.end()) {
                if (!log.zerosFrom(end)) { // else the zeros written ahead of the records
                    LOG.warn("store {}: cutting a torn tail at {} ({} bytes to the end of the file, zeros written ahead "
                            + "of the records included)", options.dir(), log.describe(end), log.end() - end);
                }
                log.truncate(end);
            }
            for (PartitionIndex index : indexes.values()) {
                index.forceAndRelease();
            }
            log.forceFrom(from);
            return new Recovered(log, scan.corruptRecords());
        } catch (IOException | RuntimeException e) {
            try {
                log.close();
            } catch (IOException closeFailed) {
                e.addSuppressed(closeFailed);
            }
            throw e;
        }
    }

    /** The last checkpoint, read into {@code state}; null when there is none or it is unreadable (all from the log). */
    private static StoreState.Checkpoint checkpoint(FileStoreOptions options, Path file, StoreState state) {
        try {
            return state.readCheckpoint(file);
        } catch (IOException e) {
            LOG.warn("store {}: {}; rebuilding every index from the whole log", options.dir(), e.getMessage());
            state.subscriptions.clear();
            state.states.clear();
            return null;
        }
    }

    /**
     * The indexes of the partitions the checkpoint knows, cut back to it; the index root is listed once, and an
     * index directory the checkpoint does not know (made after it) is deleted, for the scan to rebuild.
     */
    private static void restoreIndexes(FileStoreOptions options, Path indexRoot, StoreState.Checkpoint cp,
                                       ConcurrentHashMap<TopicPartition, PartitionIndex> indexes, AddressWidths widths)
            throws IOException {
        Map<String, StoreState.PartitionState> known = new HashMap<>();
        if (cp != null) {
            for (StoreState.PartitionState p : cp.partitions()) {
                known.put(PartitionIndex.dirName(p.tp()), p);
            }
        }
        Set<String> present = new HashSet<>();
        try (Stream<Path> dirs = Files.list(indexRoot)) {
            for (Path d : (Iterable<Path>) dirs::iterator) {
                String name = d.getFileName().toString();
                if (!known.containsKey(name)) {
                    if (Files.isDirectory(d)) { // a stat for these only: a start lists tens of thousands of known ones
                        PartitionIndex.deleteDir(d); // written after the checkpoint: rebuilt by the scan
                    } else {
                        LOG.warn("store {}: {} is not an index directory; left alone", options.dir(), d);
                    }
                } else {
                    present.add(name);
                }
            }
        }
        for (Map.Entry<String, StoreState.PartitionState> k : known.entrySet()) {
            StoreState.PartitionState p = k.getValue();
            PartitionIndex index;
            if (present.contains(k.getKey())) {
                index = PartitionIndex.existing(indexRoot, k.getKey(), p.tp(), options.indexEntriesPerFile());
            } else {
                LOG.error("store {}: the index of {} is missing; its offsets continue, its older messages read as gone",
                        options.dir(), p.tp());
                index = new PartitionIndex(indexRoot, p.tp(), options.indexEntriesPerFile());
            }
            index.restore(p.start(), p.next(), p.bytes());
            LogWriter.indexed(indexes, widths, index);
        }
    }
}
