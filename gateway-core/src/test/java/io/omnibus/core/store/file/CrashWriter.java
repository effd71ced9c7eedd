package io.omnibus.core.store.file;

import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The child process of {@link StoreCrashIT}: appends to each partition, forever, the next sequence
 * numbers after the ones already stored, and prints "ACK partition seq offset" once each is
 * acknowledged. The parent kills it with SIGKILL at a random moment.
 */
public final class CrashWriter {
    private CrashWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int partitions = Integer.parseInt(args[1]);
        FileStoreOptions.Fsync fsync = FileStoreOptions.Fsync.valueOf(args[2]);
        io.omnibus.core.spi.WireFormat.Registry.register(new FileMessageStoreTest.Lines());
        FileMessageStore store = new FileMessageStore(FileStoreOptions.defaults(dir).withFsync(fsync)
                .withSegmentSize(256 * 1024, 512).withCheckpointInterval(java.time.Duration.ofMillis(200)));
        store.open().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false);
        long[] next = new long[partitions];
        for (int p = 0; p < partitions; p++) {
            TopicPartition tp = StoreCrashIT.partition(p);
            long end = store.endOffset(tp);
            if (end > 0) {
                List<StoredMessage> last = store.read(tp, end - 1, 1).toCompletionStage().toCompletableFuture().get();
                next[p] = last.isEmpty() ? 0 : Long.parseLong(last.get(0).envelope().payloadAsString().split(":")[1]) + 1;
            }
        }
        out.println("READY");
        out.flush();
        Semaphore window = new Semaphore(256);
        for (long i = 0; ; i++) {
            int p = (int) (i % partitions);
            if (p == StoreCrashIT.BATCHED) { // a protocol's batches of 1 to 4 messages, each one record
                int n = 1 + (int) (i / partitions % 4);
                long seq = next[p];
                next[p] += n;
                window.acquire();
                String[] lines = new String[n];
                for (int j = 0; j < n; j++) {
                    lines[j] = StoreCrashIT.payload(p, seq + j);
                }
                store.appendAll(StoreCrashIT.partition(p), FileMessageStoreTest.Lines.batch("test-lines",
                        StoreCrashIT.partition(p).address(), lines)).onComplete(ar -> {
                    window.release();
                    if (ar.succeeded()) {
                        for (int j = 0; j < n; j++) {
                            out.println("ACK " + p + " " + (seq + j) + " " + (ar.result() + j));
                        }
                        out.flush();
                    }
                });
                continue;
            }
            long seq = next[p]++;
            window.acquire();
            Envelope e = Envelope.builder(StoreCrashIT.partition(p).address()).payload(StoreCrashIT.payload(p, seq)).build();
            store.append(StoreCrashIT.partition(p), e).onComplete(ar -> {
                window.release();
                if (ar.succeeded()) {
                    // printed on the writer thread, in acknowledgement order
                    out.println("ACK " + p + " " + seq + " " + ar.result());
                    out.flush();
                }
            });
        }
    }
}
