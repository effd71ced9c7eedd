package io.omnibus.core.store.file;

import io.omnibus.core.spi.Address;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kill -9 under continuous acknowledged writes, 20 times, and check after each restart that every
 * acknowledged message is there exactly once and in order (one partition is written in protocol batches, each
 * one record of the log: {@link #BATCHED}), that no torn record is delivered, and
 * that the indexes agree with the log (the read path checks each record's offset against its index
 * entry and drops disagreements, so a gap would show).
 */
@Timeout(600)
class StoreCrashIT {
    private static final int PARTITIONS = 3;
    private static final int ROUNDS = 20;

    @TempDir
    Path dir;

    /** The partition whose messages are appended as batches kept as they came ({@link FileMessageStoreTest.Lines}). */
    static final int BATCHED = 2;

    static String payload(int p, long seq) {
        return p + ":" + seq + ":" + "x".repeat((int) (seq % 200));
    }

    static TopicPartition partition(int p) {
        return new TopicPartition(Address.of("crash/p" + p), 0);
    }

    @Test
    void everyAcknowledgedMessageSurvivesKillMinusNine() throws Exception {
        Random random = new Random(42);
        long[] highestAcked = new long[PARTITIONS];
        java.util.Arrays.fill(highestAcked, -1);
        for (int round = 0; round < ROUNDS; round++) {
            FileStoreOptions.Fsync fsync = FileStoreOptions.Fsync.values()[round % 3];
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "-Xmx256m", CrashWriter.class.getName(),
                    dir.toString(), Integer.toString(PARTITIONS), fsync.name())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            int acks = 0;
            int killAfter = 50 + random.nextInt(3_000);
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line = in.readLine();
                assertThat(line).as("round %d: the writer starts", round).isEqualTo("READY");
                while ((line = in.readLine()) != null) {
                    String[] f = line.split(" ");
                    if (f.length == 4 && f[0].equals("ACK")) {
                        int p = Integer.parseInt(f[1]);
                        long seq = Long.parseLong(f[2]);
                        assertThat(Long.parseLong(f[3])).as("offset of seq %d", seq).isEqualTo(seq);
                        highestAcked[p] = Math.max(highestAcked[p], seq);
                        if (++acks == killAfter) {
                            child.toHandle().destroyForcibly(); // SIGKILL, mid-write (keeps our end of the pipe open)
                        }
                    }
                }
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
            verify(round, highestAcked);
        }
        long acknowledged = java.util.Arrays.stream(highestAcked).map(h -> h + 1).sum();
        assertThat(acknowledged).as("every round was killed under load").isGreaterThanOrEqualTo(ROUNDS * 50L);
        assertThat(highestAcked[BATCHED]).as("the batched partition was written").isGreaterThan(ROUNDS * 10L);
    }

    private void verify(int round, long[] highestAcked) throws Exception {
        io.omnibus.core.spi.WireFormat.Registry.register(new FileMessageStoreTest.Lines());
        FileMessageStore store = new FileMessageStore(FileStoreOptions.defaults(dir)
                .withSegmentSize(256 * 1024, 512));
        FileMessageStoreTest.await(store.open());
        try {
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = partition(p);
                List<StoredMessage> all = new ArrayList<>();
                long from = 0;
                while (true) {
                    List<StoredMessage> batch = FileMessageStoreTest.await(store.read(tp, from, 5_000));
                    if (batch.isEmpty()) {
                        break;
                    }
                    all.addAll(batch);
                    from = batch.get(batch.size() - 1).offset() + 1;
                }
                assertThat(store.endOffset(tp)).as("round %d partition %d: index end", round, p).isEqualTo(all.size());
                for (int i = 0; i < all.size(); i++) {
                    StoredMessage m = all.get(i);
                    String[] f = m.envelope().payloadAsString().split(":", 3);
                    assertThat(m.offset()).as("round %d partition %d: offsets are dense", round, p).isEqualTo(i);
                    assertThat(Long.parseLong(f[1])).as("round %d partition %d: exactly once, in order", round, p)
                            .isEqualTo(i);
                    assertThat(f[2]).as("no torn payload").hasSize(i % 200);
                }
                assertThat((long) all.size() - 1).as("round %d partition %d: every acknowledged message is there", round, p)
                        .isGreaterThanOrEqualTo(highestAcked[p]);
            }
        } finally {
            FileMessageStoreTest.await(store.close());
        }
    }
}
