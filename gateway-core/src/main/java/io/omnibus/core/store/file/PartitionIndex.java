package io.omnibus.core.store.file;

import io.omnibus.core.store.TopicPartition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * The index of one topic partition: fixed-size entries, one per offset, in files of
 * {@code entriesPerFile} entries named by their first offset. An entry is the record's log
 * position (8 bytes), its length (4; 0 marks a hole left by a corrupt record) and the second it
 * was appended (4, for age retention).
 *
 * <p>The messages of a batch record have an entry each, all with the record's position and length; its bytes count
 * once: added with its first entry, and taken off by retention with its last.
 *
 * <p>The writer thread appends, truncates and deletes; readers see entries below {@link #readable()}.
 */
final class PartitionIndex {
    static final int ENTRY = 16;

    final TopicPartition tp;
    private final Path dir;
    private final long entriesPerFile;
    // written by the writer thread only
    private long next;
    private long start;
    private long bytes;
    private FileChannel active;
    private long activeBase = -1;
    /** A file written since the last force whose channel was closed to save descriptors, or -1. */
    private long unforcedBase = -1;
    /**
     * Entries not yet written: made on the first append after a checkpoint, 16 entries, doubled while a batch needs
     * more, up to {@link #MAX_PENDING}; dropped at the checkpoint. A 64 KiB buffer made with every index held
     * 665 MB of heap at 10,000 partitions (and would have run a 1 GiB heap out at 15,000).
     */
    private ByteBuffer pending;
    private static final int MAX_PENDING = ENTRY * 4096;
    private boolean dirty;
    /** The position of the entry appended last, whose record's bytes are counted. */
    private long lastPosition = -1;
    // published for readers
    private volatile long readable;
    private volatile long readableStart;

    /** The index of {@code tp} under {@code root}: its directory and name file made where they are missing. */
    PartitionIndex(Path root, TopicPartition tp, long entriesPerFile) throws IOException {
        this(root, dirName(tp), tp, entriesPerFile, false);
    }

    /**
     * The index in the directory {@code name} under {@code root}, which recovery found there (with the name file
     * written when it was made): nothing is made or looked at. 50,000 directories made sure of took 0.9 s of a start.
     */
    static PartitionIndex existing(Path root, String name, TopicPartition tp, long entriesPerFile) throws IOException {
        return new PartitionIndex(root, name, tp, entriesPerFile, true);
    }

    private PartitionIndex(Path root, String dirName, TopicPartition tp, long entriesPerFile, boolean exists)
            throws IOException {
        this.tp = tp;
        this.dir = root.resolve(dirName);
        this.entriesPerFile = entriesPerFile;
        if (exists) {
            return;
        }
        Files.createDirectories(dir);
        Path name = dir.resolve("topic");
        if (!Files.exists(name)) {
            Files.writeString(name, tp.address().name() + "\n" + tp.partition() + "\n", StandardCharsets.UTF_8);
            CommitLog.forceDirectory(dir);
            CommitLog.forceDirectory(root);
        }
    }

    /** A directory name for any address (they can be long and hold any character): a hash, plus the partition. */
    static String dirName(TopicPartition tp) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(tp.address().name().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 16) + "-" + tp.partition();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    long next() {
        return next;
    }

    long start() {
        return start;
    }

    long bytes() {
        return bytes;
    }

    long readable() {
        return readable;
    }

    long readableStart() {
        return readableStart;
    }

    boolean dirty() {
        return dirty;
    }

    /** Sets the state a checkpoint recorded, dropping any entries written after it. */
    void restore(long start, long next, long bytes) throws IOException {
        this.start = start;
        this.next = next;
        this.bytes = bytes;
        startEntryAt = -1;
        long base = next - next % entriesPerFile;
        if (Files.exists(file(base + entriesPerFile))) {
            trimFiles(start, next); // files written past the checkpoint's end (a crash): every file looked at
        } else {
            // the file holding next is the last: cut what was written after the checkpoint, without listing the
            // directory (listing 50,000 of them took 1.5 s of a start). Files before the start that a crash left
            // during a checkpoint's deletions go at the next checkpoint (StoreWriter's marker: forgetFiles).
            try {
                if (Files.size(file(base)) > (next - base) * ENTRY) {
                    try (FileChannel ch = FileChannel.open(file(base), StandardOpenOption.WRITE)) {
                        ch.truncate((next - base) * ENTRY);
                    }
                }
            } catch (java.nio.file.NoSuchFileException none) {
                // no entry in that file yet
            }
            filesFrom = start - start % entriesPerFile;
        }
        publish();
    }

    private long markNext;
    private long markBytes;

    /** Remembers the state before a batch, so a batch that fails can be taken back. */
    void mark() {
        markNext = next;
        markBytes = bytes;
    }

    /**
     * Takes back every entry since {@link #mark()}: entries already written past {@code next} are
     * overwritten by the next appends (writes are positional) and cut by recovery.
     */
    void rollback() {
        startEntryAt = -1; // the entry at the start may be one taken back
        next = markNext;
        bytes = markBytes;
        lastPosition = -1;
        if (pending != null) {
            pending.clear();
        }
        publish();
    }

    /** Adds the entry of offset {@link #next()}; visible to readers after {@link #flush()}. */
    void append(long position, int size, long appendedAtMillis) throws IOException {
        if (next % entriesPerFile == 0 && pending != null && pending.position() > 0) {
            flush(); // entries of one file per write
        }
        if (pending == null) {
            pending = ByteBuffer.allocate(ENTRY * 16);
        } else if (!pending.hasRemaining()) {
            if (pending.capacity() < MAX_PENDING) {
                ByteBuffer larger = ByteBuffer.allocate(Math.min(MAX_PENDING, pending.capacity() * 2));
                pending = larger.put(pending.flip());
            } else {
                flush();
            }
        }
        pending.putLong(position).putInt(size).putInt((int) (appendedAtMillis / 1000));
        next++;
        if (size > 0 && position != lastPosition) { // a hole has the position of the record after it, and no bytes
            bytes += size;
            lastPosition = position;
        }
        dirty = true;
    }

    /** Writes pending entries and makes them readable. */
    void flush() throws IOException {
        if (pending != null && pending.position() > 0) {
            long firstOffset = next - pending.position() / ENTRY;
            long base = firstOffset - firstOffset % entriesPerFile;
            FileChannel ch = channelFor(base);
            ByteBuffer out = pending.duplicate().flip(); // pending stays intact if the write fails
            long at = (firstOffset - base) * ENTRY;
            while (out.hasRemaining()) {
                at += ch.write(out, at);
            }
            pending.clear();
        }
        publish();
    }

    private void publish() {
        readableStart = start;
        readable = next;
    }

    /** Forces this index to disk (at checkpoints) and closes its file: idle partitions hold no file open. */
    void forceAndRelease() throws IOException {
        flush();
        pending = null; // an idle partition holds no buffer; a busy one makes it again
        if (active != null) {
            active.force(false);
            active.close();
            active = null;
            activeBase = -1;
        }
        forceReleased();
        dirty = false;
    }

    /** Closes the file written last without forcing it; the next checkpoint forces it (the log covers it until then). */
    void releaseChannel() throws IOException {
        if (active != null) {
            active.close();
            unforcedBase = activeBase;
            active = null;
            activeBase = -1;
        }
    }

    private void forceReleased() throws IOException {
        if (unforcedBase >= 0) {
            try (FileChannel ch = FileChannel.open(file(unforcedBase), StandardOpenOption.WRITE)) {
                ch.force(false);
            } catch (java.nio.file.NoSuchFileException gone) {
                // deleted by retention meanwhile: nothing to force
            }
            unforcedBase = -1;
        }
    }

    private FileChannel channelFor(long base) throws IOException {
        if (base != activeBase) {
            if (active != null) {
                active.force(false);
                active.close();
            }
            if (unforcedBase != base) {
                forceReleased(); // a file is durable before the next one starts, as with open channels
            } else {
                unforcedBase = -1; // reopened: forced when it is left or at the checkpoint
            }
            boolean created = !Files.exists(file(base));
            active = FileChannel.open(file(base), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            activeBase = base;
            if (created) {
                CommitLog.forceDirectory(dir);
            }
        }
        return active;
    }

    private Path file(long base) {
        // as String.format("%020d.idx") names it, without the formatter: every read of the log back asks for a name
        String digits = Long.toString(base);
        return dir.resolve("0".repeat(Math.max(0, 20 - digits.length())) + digits + ".idx");
    }

    /**
     * Reads entries [from, from + count), clipped to what is readable: position, size and append
     * time (ms) for each offset in turn. Entries whose file retention deleted read as holes (size 0).
     */
    long[] read(long from, int count) throws IOException {
        long end = Math.min(readable, from + count);
        if (from >= end) {
            return new long[0];
        }
        long[] out = new long[(int) (end - from) * 3];
        int i = 0;
        long o = from;
        while (o < end) {
            long base = o - o % entriesPerFile;
            long upto = Math.min(end, base + entriesPerFile);
            ByteBuffer b = ByteBuffer.allocate((int) (upto - o) * ENTRY);
            try (FileChannel ch = FileChannel.open(file(base), StandardOpenOption.READ)) {
                long at = (o - base) * ENTRY;
                while (b.hasRemaining()) {
                    int n = ch.read(b, at + b.position());
                    if (n < 0) {
                        throw new IOException("index " + file(base) + " is shorter than its entries");
                    }
                }
                b.flip();
            } catch (java.nio.file.NoSuchFileException gone) {
                b.clear(); // all zeros: holes
            }
            while (b.hasRemaining()) {
                out[i++] = b.getLong();
                out[i++] = b.getInt();
                out[i++] = Integer.toUnsignedLong(b.getInt()) * 1000;
            }
            o = upto;
        }
        return out;
    }

    /** The entry at {@link #start()} as {@link #read} gives it, kept while the start stays; offset -1: none kept. */
    private long[] startEntry;
    private long startEntryAt = -1;

    /**
     * The entry at the start (position, size, append time), or none when the partition is empty: read from its file
     * once per start. Retention asks for it at every checkpoint, for every partition (writer thread only).
     */
    long[] startEntry() throws IOException {
        if (startEntryAt != start) { // -1 until read, and after a rollback or a restore
            long[] e = read(start, 1);
            if (e.length == 0) {
                return e;
            }
            startEntry = e;
            startEntryAt = start;
        }
        return startEntry;
    }

    /** Moves the start forward (retention): entries before it are gone for readers; files go in {@link #deleteObsoleteFiles}. */
    void advanceStart(long newStart, long droppedBytes) {
        if (newStart <= start) {
            return;
        }
        start = Math.min(newStart, next);
        bytes = Math.max(0, bytes - droppedBytes);
        publish();
    }

    /**
     * Deletes the files wholly before the start; only once a checkpoint records that start. The directory is listed
     * only when the start has moved into a later file since the last look: at every checkpoint, every partition's
     * listing cost the writer 0.4 s with 10,000 partitions.
     */
    void deleteObsoleteFiles() throws IOException {
        if (hasObsoleteFiles()) {
            trimFiles(start, Long.MAX_VALUE);
        }
    }

    /** Whether files wholly before the start may be there: {@link #deleteObsoleteFiles} looks then. */
    boolean hasObsoleteFiles() {
        return start - start % entriesPerFile > filesFrom;
    }

    /**
     * Files before the start may be left anywhere (a crash interrupted their deletion): the next
     * {@link #deleteObsoleteFiles} lists the directory.
     */
    void forgetFiles() {
        filesFrom = -1;
    }

    /** No file holds entries before this offset (file-aligned; -1: not looked yet). */
    private long filesFrom = -1;

    /**
     * In one listing: deletes the files wholly before {@code from} (not the one being written) and those from
     * {@code upto} on, and cuts the file holding {@code upto} to its entries before it.
     */
    private void trimFiles(long from, long upto) throws IOException {
        if (upto != Long.MAX_VALUE && active != null) {
            active.close();
            active = null;
            activeBase = -1;
        }
        boolean keptOne = false;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                long base = CommitLog.baseOf(f, ".idx");
                if (base < 0) {
                    continue;
                }
                if (base + entriesPerFile <= from) {
                    if (base == activeBase) {
                        keptOne = true; // still open for writing: the next look deletes it
                    } else {
                        Files.delete(f);
                    }
                } else if (upto == Long.MAX_VALUE) {
                    continue;
                } else if (base >= upto && !(base == 0 && upto == 0)) {
                    Files.delete(f);
                } else if (base + entriesPerFile > upto && Files.size(f) > (upto - base) * ENTRY) {
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                        ch.truncate((upto - base) * ENTRY);
                    }
                }
            }
        }
        if (!keptOne) {
            filesFrom = from - from % entriesPerFile;
        }
    }

    void close() throws IOException {
        if (active != null) {
            active.close();
            active = null;
        }
    }

    /** Reads the topic name file of an index directory. */
    static TopicPartition readName(Path dir) throws IOException {
        String[] lines = Files.readString(dir.resolve("topic"), StandardCharsets.UTF_8).split("\n");
        return new TopicPartition(io.omnibus.core.spi.Address.of(lines[0]), Integer.parseInt(lines[1].trim()));
    }

    static void deleteDir(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }
}
