package io.omnibus.core.store.file;

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
    private final Path dir;
    private final long segmentSize;
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

    CommitLog(Path dir, long segmentSize) throws IOException {
        this.dir = dir;
        this.segmentSize = segmentSize;
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (name.endsWith(".log")) {
                    long base = Long.parseLong(name.substring(0, name.length() - 4));
                    segments.put(base, open(base, f));
                }
            }
        }
        if (segments.isEmpty()) {
            segments.put(0L, open(0, file(0)));
        }
        Segment last = segments.lastEntry().getValue();
        end = last.base + last.channel.size();
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
                last.channel.force(false); // a full segment is durable before the next one starts
                long base = last.base + segmentSize;
                segments.put(base, open(base, file(base)));
                forceDirectory(dir); // and so is the new file's name
                end = base;
                continue;
            }
            write(last.channel, end - last.base, records, from, upto);
            end += bytes;
            from = upto;
        }
        return positions;
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
        holder.channel.truncate(position - holder.base);
        end = position;
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
