package io.omnibus.core.store.file;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Future;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A full disk (a 2 MiB tmpfs): appends fail with an error instead of an acknowledgement, the store
 * stays up and keeps what it acknowledged, and writes succeed again once space returns. Mounting
 * needs root, which CI has; elsewhere the test is skipped with that reason.
 */
@Timeout(120)
class StoreDiskFullIT {
    private static final TopicPartition T = new TopicPartition(Address.of("full/disk"), 0);

    @TempDir
    Path tmp;

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    @Test
    void aFullDiskFailsWritesAndTheyResumeWhenSpaceReturns() throws Exception {
        Path mnt = Files.createDirectory(tmp.resolve("mnt"));
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt.toString()) == 0,
                "mounting a tmpfs needs root (CI runs as root)");
        FileMessageStore store = null;
        try {
            Path filler = mnt.resolve("filler");
            Files.write(filler, new byte[1024 * 1024]);
            store = new FileMessageStore(FileStoreOptions.defaults(mnt.resolve("data"))
                    .withSegmentSize(128 * 1024, 1024).withCheckpointInterval(Duration.ofHours(1)));
            FileMessageStoreTest.await(store.open());
            byte[] kb = new byte[1024];
            long acked = 0;
            Throwable failure = null;
            for (int i = 0; i < 5_000 && failure == null; i++) {
                Future<Long> f = store.append(T, Envelope.builder(T.address()).payload(kb).build());
                try {
                    assertThat(FileMessageStoreTest.awaitOrFail(f)).isEqualTo(acked);
                    acked++;
                } catch (java.util.concurrent.ExecutionException e) {
                    failure = e.getCause();
                }
            }
            assertThat(failure).as("the disk filled up").isNotNull();
            assertThat(failure).isInstanceOf(java.io.IOException.class);
            assertThat(failure.getMessage()).containsIgnoringCase("space");
            assertThat(store.healthy()).isFalse();
            assertThat(acked).isGreaterThan(100);

            List<StoredMessage> kept = FileMessageStoreTest.await(store.read(T, 0, 10_000));
            assertThat(kept).hasSize((int) acked);

            Files.delete(filler); // space returns
            long next = FileMessageStoreTest.await(store.append(T, Envelope.builder(T.address()).payload(kb).build()));
            assertThat(next).as("no offset was used by the failed writes").isEqualTo(acked);
            assertThat(store.healthy()).isTrue();
            assertThat(FileMessageStoreTest.await(store.read(T, 0, 10_000))).hasSize((int) acked + 1);
        } finally {
            if (store != null) {
                store.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
            }
            run("umount", "-l", mnt.toString());
        }
    }
}
