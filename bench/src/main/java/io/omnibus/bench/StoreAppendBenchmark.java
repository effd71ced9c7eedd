package io.omnibus.bench;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.TopicPartition;
import io.omnibus.core.store.file.FileMessageStore;
import io.omnibus.core.store.file.FileStoreOptions;
import io.vertx.core.Future;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Commit-log appends (1 KiB payloads, 1,000 in flight, the way a busy broker offers them) against
 * a plain sequential {@link FileChannel} write of the same number of bytes on the same disk. The
 * ratio of the two is the store's overhead: record encoding, CRC32C, indexes, completions.
 *
 * <pre>
 * mvn -Pbench -DskipTests package
 * java -jar bench/target/benchmarks.jar StoreAppendBenchmark -p dir=/path/on/the/disk/to/test
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(1)
@State(Scope.Benchmark)
public class StoreAppendBenchmark {
    static final int BATCH = 1_000;
    static final int PAYLOAD = 1024;
    /** Record header + envelope fields around a 1 KiB payload: what the store writes per message. */
    static final int RECORD_BYTES = 1_148;
    static final long SEGMENT = 128L << 20;
    private int rawFiles;

    @Param({"GROUP", "OS"})
    public String fsync;

    @Param({"target/bench-data"})
    public String dir;

    private Path root;
    private FileMessageStore store;
    private FileChannel raw;
    private final TopicPartition tp = new TopicPartition(Address.of("bench/t"), 0);
    private final byte[] payload = new byte[PAYLOAD];
    private final ByteBuffer[] rawBatch = new ByteBuffer[BATCH];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        root = Path.of(dir).toAbsolutePath().resolve("run-" + System.nanoTime());
        store = new FileMessageStore(FileStoreOptions.defaults(root.resolve("store"))
                .withFsync(FileStoreOptions.Fsync.valueOf(fsync)));
        store.open().toCompletionStage().toCompletableFuture().get();
        raw = FileChannel.open(Files.createDirectories(root).resolve("raw-0.bin"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        for (int i = 0; i < BATCH; i++) {
            rawBatch[i] = ByteBuffer.allocate(RECORD_BYTES);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        store.close().toCompletionStage().toCompletableFuture().get();
        raw.close();
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** 1,000 appends in flight, then wait for all their acknowledgements. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long storeAppend() throws Exception {
        Future<Long> last = null;
        for (int i = 0; i < BATCH; i++) {
            last = store.append(tp, Envelope.builder(tp.address()).payload(payload).build());
        }
        return last.toCompletionStage().toCompletableFuture().get();
    }

    /** The same bytes written sequentially in one gathering write; fsynced per batch when the store's policy is GROUP. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long plainFileChannel() throws IOException {
        for (ByteBuffer b : rawBatch) {
            b.clear();
        }
        long n = 0;
        while (n < (long) BATCH * RECORD_BYTES) {
            n += raw.write(rawBatch);
        }
        if (fsync.equals("GROUP")) {
            raw.force(false);
        }
        if (raw.position() >= SEGMENT) {
            // like the commit log: a new file per segment, never rewriting (rewritten pages would never reach the disk)
            raw.close();
            raw = FileChannel.open(root.resolve("raw-" + (++rawFiles) + ".bin"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
        }
        return n;
    }
}
