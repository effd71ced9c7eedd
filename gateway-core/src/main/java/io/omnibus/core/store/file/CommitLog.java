package io.omnibus.core.store.file;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;

/**
 * The commit log: segment files of at most {@code segmentSize} bytes named by the global position
 * of their first byte. A record never spans two segments. Only the store's writer thread appends,
 * truncates and deletes; any thread may read.
 */
final class CommitLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FileMessageStore.class);
    private final Path dir;
    private final long segmentSize;
    /**
     * Bytes of zeros kept written ahead of the log's end in the last segment, 0 for none. An fdatasync after an
     * append that grows the file writes the file's metadata too (its size, its new blocks: a second I/O each time);
     * one after a write over blocks already written does not. Measured here (ext4 on a virtual disk), 256 B writes
     * with an fdatasync each: 137 µs and 50 µs of CPU appending, 104 µs and 35 µs over zeros. The zeros cost a second
     * write of each byte, which costs more than it saves where each fsync covers much data (Kafka producers' batches:
     * 300,000 records of 1 KiB at acks=all went 10-20 % slower): zeros are written only while the fsyncs cover less
     * than {@link #SMALL_FSYNC} bytes on average. Recovery reads a record length of 0 as the log's end.
     */
    private final long preallocate;
    static final long SMALL_FSYNC = 32 << 10;
    /** Bytes appended since the last fsync, and an average of the bytes per fsync (writer thread only). */
    private long sinceForce;
    private long perForce;
    /** The last segment has zeros, or records, up to here (a log position); writer thread only. */
    private long allocatedTo;
    /** Whether writing zeros ahead failed in this segment (a full disk): not tried again until the next one. */
    private boolean preallocationFailed;
    private ByteBuffer zeros;
    private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
    private volatile long end;
    /**
     * The writer's records are copied here and written with one {@code pwrite}: a gathering write of heap buffers
     * has the JDK copy each into a temporary direct buffer of its own, and past the 16 it caches per thread it
     * allocates and frees one per record (a fifth of the writer's time in a fan-in profile). Writer thread only.
     */
    private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING_BYTES);
    private static final int STAGING_BYTES = 1 << 20;

    static final class Segment {
        final long base;
        final Path file;
        final FileChannel channel;

        Segment(long base, Path file, FileChannel channel) {
            this.base = base;
            this.file = file;
            this.channel = channel;
        }
    }

    CommitLog(Path dir, long segmentSize, long preallocate) throws IOException {
        this.dir = dir;
        this.segmentSize = segmentSize;
        this.preallocate = preallocate;
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                long base = baseOf(f, ".log");
                if (base >= 0) {
                    segments.put(base, open(base, f));
                }
            }
        }
        if (segments.isEmpty()) {
            segments.put(0L, open(0, file(0)));
        }
        Segment last = segments.lastEntry().getValue();
        end = last.base + last.channel.size(); // with the zeros ahead of the records: recovery cuts them at its end
        allocatedTo = end;
    }

    /**
     * The base offset a store file's name gives ({@code <digits><suffix>}), or -1 for a file that is not one: another
     * file in the directory (an operator's, an editor's) is left alone rather than stopping a start.
     */
    static long baseOf(Path f, String suffix) {
        String name = f.getFileName().toString();
        int digits = name.length() - suffix.length();
        if (digits < 1 || !name.endsWith(suffix)) {
            return -1;
        }
        for (int i = 0; i < digits; i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return -1;
            }
        }
        try {
            return Long.parseLong(name, 0, digits, 10); // the store's names have 20 digits, leading zeros
        } catch (NumberFormatException tooLarge) {
            return -1;
        }
    }

    private Segment open(long base, Path f) throws IOException {
        return new Segment(base, f, FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE));
    }

    private Path file(long base) {
        return dir.resolve(String.format("%020d.log", base));
    }

    long end() {
        return end;
    }

    long start() {
        return segments.firstKey();
    }

    long segmentSize() {
        return segmentSize;
    }

    /**
     * Appends records (each at most a segment long), rolling to a new segment where the next one
     * does not fit, and returns where each record starts. On an I/O error the log may hold part of
     * the batch: the caller truncates back to the end it saw before.
     */
    long[] append(ByteBuffer[] records, int count) throws IOException {
        long[] positions = new long[count];
        int from = 0;
        while (from < count) {
            Segment last = segments.lastEntry().getValue();
            long room = segmentSize - (end - last.base);
            int upto = from;
            long bytes = 0;
            while (upto < count && bytes + records[upto].remaining() <= room) {
                positions[upto] = end + bytes;
                bytes += records[upto].remaining();
                upto++;
            }
            if (upto == from) {
                if (end == last.base) {
                    throw new IOException("record of " + records[from].remaining() + " bytes exceeds the segment size "
                            + segmentSize);
                }
                last.channel.truncate(end - last.base); // the zeros ahead go: only the last segment has them
                last.channel.force(false); // a full segment is durable before the next one starts
                long base = last.base + segmentSize;
                segments.put(base, open(base, file(base)));
                forceDirectory(dir); // and so is the new file's name
                end = base;
                allocatedTo = base;
                preallocationFailed = false;
                continue;
            }
            allocateAhead(last, end + bytes);
            write(last.channel, end - last.base, records, from, upto);
            end += bytes;
            sinceForce += bytes;
            from = upto;
        }
        return positions;
    }

    /**
     * Writes zeros after {@code upTo} (where the records about to be written end) to {@code preallocate} bytes past
     * it, to the end of a page of the file and within the segment, once the records would pass what was written
     * before. The next fsync makes them durable with the file's new size, once for all the appends that overwrite
     * them.
     */
    private void allocateAhead(Segment last, long upTo) {
        if (preallocate == 0 || upTo <= allocatedTo || preallocationFailed || perForce >= SMALL_FSYNC) {
            return;
        }
        long target = last.base + Math.min(segmentSize, (upTo - last.base + preallocate + 4095) & ~4095L);
        if (zeros == null) {
            zeros = ByteBuffer.allocateDirect(64 << 10);
        }
        try {
            for (long at = upTo; at < target; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), target - at));
                at += last.channel.write(zeros, at - last.base);
            }
            allocatedTo = target;
        } catch (IOException e) {
            // a full disk, most likely: the records may still fit, written as appends; the zeros written stay
            preallocationFailed = true;
            allocatedTo = upTo;
            LOG.warn(
                    "store: cannot write zeros ahead of the commit log ({}); appends grow {} until its next segment",
                    e.toString(), last.file);
        }
    }

    /** Whether the last segment holds nothing but zeros from {@code position} (a log position in it) to its end. */
    boolean zerosFrom(long position) throws IOException {
        Segment last = segments.lastEntry().getValue();
        if (position < last.base) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(64 << 10);
        long size = last.channel.size();
        for (long at = position - last.base; at < size; ) {
            b.clear();
            int n = last.channel.read(b, at);
            if (n < 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                if (b.get(i) != 0) {
                    return false;
                }
            }
            at += n;
        }
        return true;
    }

    /** Writes {@code records[from, upto)} one after the other at {@code at} of {@code channel}. */
    private void write(FileChannel channel, long at, ByteBuffer[] records, int from, int upto) throws IOException {
        int i = from;
        while (i < upto) {
            staging.clear();
            while (i < upto && records[i].remaining() <= staging.remaining()) {
                staging.put(records[i].duplicate());
                i++;
            }
            ByteBuffer out;
            if (staging.position() == 0) { // one record larger than the staging buffer: written as it is
                out = records[i++].duplicate();
            } else {
                out = staging.flip();
            }
            while (out.hasRemaining()) {
                at += channel.write(out, at);
            }
        }
    }

    void force() throws IOException {
        // earlier segments were forced before the roll that followed them
        segments.lastEntry().getValue().channel.force(false);
        if (sinceForce > 0) { // a flush with nothing new to write says nothing about the writes' sizes
            perForce += (sinceForce - perForce) / 8;
            sinceForce = 0;
        }
    }

    /** Forces every segment from {@code from} on (used at checkpoints). */
    void forceFrom(long from) throws IOException {
        for (Segment s : segments.tailMap(segments.floorKey(Math.max(from, start())), true).values()) {
            s.channel.force(false);
        }
    }

    /** Cuts the log at {@code position}: later segments go, the one holding it is truncated. */
    void truncate(long position) throws IOException {
        for (Long base : new ArrayList<>(segments.tailMap(position, false).keySet())) {
            Segment gone = segments.remove(base);
            gone.channel.close();
            Files.deleteIfExists(gone.file);
        }
        Segment holder = segments.floorEntry(position).getValue();
        holder.channel.truncate(position - holder.base); // the zeros ahead too: written again by the next append
        end = position;
        allocatedTo = position;
    }

    /** Whether two log positions are in the same segment file. */
    boolean sameSegment(long a, long b) {
        Long sa = segments.floorKey(a);
        return sa != null && sa.equals(segments.floorKey(b));
    }

    /**
     * Where {@code length} bytes at log {@code position} lie: the segment's channel (the log's own: not to be closed
     * by the caller) and the place in it; null when the segment is gone.
     */
    io.omnibus.core.spi.WireBatch.FileSlice slice(long position, int length) {
        Map.Entry<Long, Segment> e = segments.floorEntry(position);
        return e == null || !e.getValue().channel.isOpen() ? null
                : new io.omnibus.core.spi.WireBatch.FileSlice(e.getValue().channel, position - e.getKey(), length);
    }

    /** Reads {@code length} bytes at {@code position} into a new heap buffer; null when the segment is gone. */
    ByteBuffer read(long position, int length) throws IOException {
        Map.Entry<Long, Segment> e = segments.floorEntry(position);
        if (e == null) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(length);
        long at = position - e.getKey();
        try {
            while (b.hasRemaining()) {
                int n = e.getValue().channel.read(b, at + b.position());
                if (n < 0) {
                    break;
                }
            }
        } catch (java.nio.channels.ClosedChannelException closed) {
            return null; // deleted by retention meanwhile
        }
        b.flip();
        return b;
    }

    /** The segments in order, for recovery scans: base, file size. */
    List<long[]> segmentsFrom(long position) throws IOException {
        List<long[]> out = new ArrayList<>();
        Long first = segments.floorKey(position);
        for (Segment s : segments.tailMap(first == null ? segments.firstKey() : first, true).values()) {
            out.add(new long[] {s.base, s.channel.size()});
        }
        return out;
    }

    /** Deletes whole segments that end at or before {@code position}, never the last one. */
    int deleteBefore(long position) throws IOException {
        closeRetired(false);
        int deleted = 0;
        while (segments.size() > 1) {
            Map.Entry<Long, Segment> first = segments.firstEntry();
            if (first.getKey() + segmentSize > position) {
                break;
            }
            segments.remove(first.getKey());
            Files.deleteIfExists(first.getValue().file);
            retired.add(new Retired(first.getValue().channel, System.nanoTime() + RETIRED_NANOS));
            deleted++;
        }
        return deleted;
    }

    /**
     * How long the channel of a segment retention deleted stays open: a Kafka fetch may still be sending from it
     * ({@code sendfile}, which reads the file by its descriptor's number: closed at once, the number could be reused
     * by another file meanwhile). A broker waits the same way ({@code file.delete.delay.ms}, a minute).
     */
    static final long RETIRED_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);

    private record Retired(FileChannel channel, long closeAt) {
    }

    /** Deleted segments' channels still open; the writer's (retention runs on it). */
    private final java.util.ArrayDeque<Retired> retired = new java.util.ArrayDeque<>();

    /** Closes the retired channels whose time is up, or all of them. */
    private void closeRetired(boolean all) throws IOException {
        while (!retired.isEmpty() && (all || retired.peek().closeAt() - System.nanoTime() <= 0)) {
            retired.poll().channel().close();
        }
    }

    /** Makes a directory's entries (new or deleted files) durable. */
    static void forceDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    String describe(long position) {
        Map.Entry<Long, Segment> e = segments.floorEntry(position);
        return e == null ? "position " + position : e.getValue().file + " at byte " + (position - e.getKey());
    }

    @Override
    public void close() throws IOException {
        closeRetired(true);
        for (Segment s : segments.values()) {
            s.channel.close();
        }
    }
}
