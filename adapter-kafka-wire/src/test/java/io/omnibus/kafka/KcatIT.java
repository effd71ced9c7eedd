package io.omnibus.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** kcat (librdkafka; Debian's package, which .ci/run installs) for metadata, produce with compression, and consume. */
@Timeout(90)
class KcatIT extends KafkaTestBase {
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void kcatInstalled() {
        boolean installed = Files.isExecutable(Path.of("/usr/bin/kcat"));
        String why = "kcat is not installed here (.ci/run installs it)";
        if (System.getenv("OMNIBUS_REQUIRE_NATIVE_CLIENTS") != null) { // CI: missing is a failure, not a skip
            assertThat(installed).as(why).isTrue();
        }
        Assumptions.assumeTrue(installed, why);
    }

    @AfterEach
    void killProcesses() {
        processes.forEach(Process::destroyForcibly);
    }

    private String kcat(String input, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kcat", "-b", bootstrap()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        processes.add(p);
        if (input != null) {
            p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kcat " + String.join(" ", args) + " finished").isTrue();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("kcat " + String.join(" ", args) + ": " + err).isZero();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void kcatListsMetadataProducesCompressedKeyedRecordsWithHeadersAndConsumesThem(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        start(Map.of("partitions", 2), dir); // the file store: kcat's batches are kept and fetched as they came
        for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
            kcat("k1:" + codec + "-a\nk2:" + codec + "-b\n", "-P", "-t", "plant.line-4", "-K", ":", "-z", codec,
                    "-H", "source=kcat", "-p", "0");
        }
        String metadata = kcat(null, "-L", "-t", "plant.line-4");
        assertThat(metadata).contains("topic \"plant.line-4\" with 2 partitions")
                .contains("broker 0 at 127.0.0.1:" + gw.port("kafka"));

        String consumed = kcat(null, "-C", "-t", "plant.line-4", "-p", "0", "-o", "beginning", "-e",
                "-f", "%o %k %s %h\\n");
        assertThat(consumed.lines().toList()).containsExactly(
                "0 k1 none-a source=kcat", "1 k2 none-b source=kcat",
                "2 k1 gzip-a source=kcat", "3 k2 gzip-b source=kcat",
                "4 k1 snappy-a source=kcat", "5 k2 snappy-b source=kcat",
                "6 k1 lz4-a source=kcat", "7 k2 lz4-b source=kcat",
                "8 k1 zstd-a source=kcat", "9 k2 zstd-b source=kcat");
        // from the second record of a compressed batch, which comes whole: librdkafka skips the first
        assertThat(kcat(null, "-C", "-t", "plant.line-4", "-p", "0", "-o", "5", "-e", "-f", "%o %k %s\\n").lines().toList())
                .containsExactly("5 k2 snappy-b", "6 k1 lz4-a", "7 k2 lz4-b", "8 k1 zstd-a", "9 k2 zstd-b");

        // and what kcat wrote, the Java consumer reads
        KafkaConsumer<String, String> consumer = consumer("java-reader", Map.of());
        consumer.subscribe(List.of("plant.line-4"));
        List<ConsumerRecord<String, String>> got = pollUntil(consumer, 10);
        assertThat(got).extracting(ConsumerRecord::value).contains("zstd-b", "none-a");
    }

    @Test
    void kcatConsumesAsAGroupMemberAndCommits() throws Exception {
        start(Map.of());
        kcat("one\ntwo\nthree\n", "-P", "-t", "grouped");
        // -G: the balanced consumer (JoinGroup / SyncGroup / Heartbeat / OffsetCommit through librdkafka)
        Process p = new ProcessBuilder("kcat", "-b", bootstrap(), "-G", "kcat-group", "-o", "beginning", "-c", "3",
                "-f", "%s\\n", "grouped").start();
        processes.add(p);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList())
                .containsExactly("one", "two", "three");
    }
}
