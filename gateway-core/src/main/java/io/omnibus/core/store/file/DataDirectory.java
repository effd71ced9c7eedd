package io.omnibus.core.store.file;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A store's data directory, held by one gateway: its {@code lock} file (locked while the store is open, holding the
 * process id) and its {@code format} file (the store format it was written in).
 */
final class DataDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(DataDirectory.class);

    /**
     * The store format this gateway writes and reads: 1, and 2 since batch records (magic 4), which a gateway of
     * format 1 does not read.
     */
    static final int FORMAT = 2;

    private final FileChannel lockChannel;
    private final FileLock lock;

    private DataDirectory(FileChannel lockChannel, FileLock lock) {
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Makes {@code dir} if needed and takes it: refused while another gateway holds it, or when a newer gateway wrote
     * it; marked with this gateway's format otherwise.
     */
    static DataDirectory take(Path dir) throws IOException {
        Files.createDirectories(dir);
        FileChannel channel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new IOException("data directory " + dir.toAbsolutePath() + " is in use by another gateway (its "
                    + dir.resolve("lock") + " is locked); stop it or choose another directory");
        }
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ManagementFactory.getRuntimeMXBean().getPid() + "\n")
                    .getBytes(StandardCharsets.UTF_8)), 0);
            checkFormat(dir);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return new DataDirectory(channel, lock);
    }

    /** Refuses a directory a newer gateway wrote; marks it with this gateway's format otherwise. */
    private static void checkFormat(Path dir) throws IOException {
        Path file = dir.resolve("format");
        int found = 1;
        if (Files.exists(file)) {
            try {
                found = Integer.parseInt(Files.readString(file, StandardCharsets.UTF_8).trim());
            } catch (NumberFormatException e) {
                throw new IOException(file + " does not hold a store format number", e);
            }
        }
        if (found > FORMAT) {
            throw new IOException("data directory " + dir.toAbsolutePath() + " was written by a newer gateway"
                    + " (store format " + found + "; this one reads formats up to " + FORMAT + "): run that version");
        }
        if (found < FORMAT) { // no file reads as format 1
            Path tmp = dir.resolve("format.tmp");
            Files.writeString(tmp, FORMAT + "\n", StandardCharsets.UTF_8);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            CommitLog.forceDirectory(dir);
        }
    }

    /** Lets the directory go; a failure is logged (the process ending releases the lock anyway). */
    void release() {
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOG.warn("store: releasing the lock failed: {}", e.toString());
        }
    }
}
