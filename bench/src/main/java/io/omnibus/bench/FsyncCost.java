package io.omnibus.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What an {@code fdatasync} after a small write costs on a disk, growing the file (an append) and over zeros written
 * before (as the gateway's commit log writes with {@code store.preallocate}): wall time and the thread's CPU per
 * write, each mode twice, alternated.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.omnibus.bench.FsyncCost DIR [WRITES [SIZE]]</pre>
 *
 * DIR is on the disk to measure (a data directory's file system); WRITES defaults to 5,000, SIZE to 256 bytes.
 */
public final class FsyncCost {
    private FsyncCost() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        int writes = args.length > 1 ? Integer.parseInt(args[1]) : 5_000;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (String mode : new String[] {"append", "over-zeros", "append", "over-zeros"}) {
            Path file = dir.resolve("fsync-cost-" + mode);
            Files.deleteIfExists(file);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                if (mode.equals("over-zeros")) {
                    ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
                    for (long at = 0; at < (long) writes * size + (1 << 20); at += zeros.capacity()) {
                        zeros.clear();
                        channel.write(zeros, at);
                    }
                    channel.force(true);
                }
                ByteBuffer record = ByteBuffer.allocateDirect(size);
                long cpu0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                for (int i = 0; i < writes; i++) {
                    record.clear();
                    channel.write(record, (long) i * size);
                    channel.force(false);
                }
                long wall = System.nanoTime() - t0;
                long cpu = threads.getCurrentThreadCpuTime() - cpu0;
                System.out.printf("%-10s %d writes of %d B, an fdatasync each: %.1f us each, CPU %.1f us each%n", mode,
                        writes, size, wall / 1e3 / writes, cpu / 1e3 / writes);
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }
}
