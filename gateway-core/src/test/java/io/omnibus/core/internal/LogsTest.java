package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.store.file.FileMessageStore;
import io.omnibus.core.store.file.FileStoreOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The partition logs as Kafka and RocketMQ need them: explicit partitions, reads by offset, waits, times. */
@Timeout(30)
class LogsTest {
    private static final Address ORDERS = Address.of("orders");
    private TestBroker tb;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (tb != null) {
            tb.close();
        }
    }

    private Logs logs() {
        return tb.broker.logs();
    }

    private static Envelope msg(String payload, long createdAt) {
        return Envelope.builder(ORDERS).payload(payload).createdAt(createdAt).build();
    }

    @Test
    void aTopicIsCreatedWithItsPartitionCountOnlyWhenAskedTo() {
        tb = new TestBroker(Map.of());
        io.vertx.core.Future<Integer> absent = logs().partitions(ORDERS, 4, false);
        assertThat(absent.failed()).isTrue();
        assertThat(((BrokerException) absent.cause()).reason()).isEqualTo(BrokerException.Reason.UNKNOWN_ADDRESS);
        assertThat(await(logs().partitions(ORDERS, 4, true))).isEqualTo(4);
        assertThat(await(logs().partitions(ORDERS, 8, true))).isEqualTo(4); // it exists: its count stays
        assertThat(logs().topics()).containsEntry(ORDERS, 4);
        assertThat(await(logs().partitions(Address.of("plain"), 0, true))).isEqualTo(1); // the configured count
    }

    @Test
    void appendsGoToTheirPartitionAndAreReadBackByOffsetAndRoutedToSubscriptions() {
        tb = new TestBroker(Map.of());
        await(logs().partitions(ORDERS, 3, true));
        TestBroker.Recorder sub = tb.recorder().attach(tb.subscribe("all", "orders"), 100);
        for (int i = 0; i < 6; i++) {
            assertThat(await(logs().append(msg("m" + i, 1), i % 3)).partition()).isEqualTo(i % 3);
        }
        assertThat(logs().endOffset(ORDERS, 1)).isEqualTo(2);
        assertThat(logs().startOffset(ORDERS, 1)).isZero();
        List<Logs.Entry> p1 = await(logs().read(ORDERS, 1, 0, 10));
        assertThat(p1).extracting(e -> e.envelope().payloadAsString()).containsExactly("m1", "m4");
        assertThat(p1).extracting(Logs.Entry::offset).containsExactly(0L, 1L);
        assertThat(await(logs().read(ORDERS, 1, 1, 10))).extracting(Logs.Entry::offset).containsExactly(1L);
        assertThat(await(logs().read(ORDERS, 1, 2, 10))).isEmpty(); // at the end
        await().until(() -> sub.received.size() == 6); // subscriptions see appends like any publish
        assertThatThrownBy(() -> await(logs().append(msg("x", 1), 3))).hasMessageContaining("there is no partition 3");
    }

    @Test
    void awaitAppendAnswersAtOnceWhenThereIsDataWakesOnAnAppendAndTimesOut() {
        tb = new TestBroker(Map.of());
        await(logs().partitions(ORDERS, 1, true));
        assertThat(await(logs().awaitAppend(ORDERS, 0, 0, Duration.ofMillis(50)))).isFalse(); // empty: times out
        io.vertx.core.Future<Boolean> waiting = logs().awaitAppend(ORDERS, 0, 0, Duration.ofSeconds(20));
        await(logs().append(msg("wake", 1), 0));
        assertThat(await(waiting)).isTrue();
        assertThat(await(logs().awaitAppend(ORDERS, 0, 0, Duration.ofSeconds(20)))).isTrue(); // offset 0 is there
        assertThatThrownBy(() -> await(logs().awaitAppend(Address.of("nowhere"), 0, 0, Duration.ofMillis(10))))
                .hasMessageContaining("no partition");
    }

    @Test
    void offsetAtFindsTheFirstMessageCreatedAtOrAfterATime() {
        tb = new TestBroker(Map.of());
        await(logs().partitions(ORDERS, 1, true));
        for (long t = 1000; t <= 5000; t += 1000) {
            await(logs().append(msg("t" + t, t), 0));
        }
        assertThat(await(logs().offsetAt(ORDERS, 0, 0))).isZero();
        assertThat(await(logs().offsetAt(ORDERS, 0, 1000))).isZero();
        assertThat(await(logs().offsetAt(ORDERS, 0, 2500))).isEqualTo(2);
        assertThat(await(logs().offsetAt(ORDERS, 0, 5000))).isEqualTo(4);
        assertThat(await(logs().offsetAt(ORDERS, 0, 9000))).isEqualTo(5); // none: the end
    }

    @Test
    void futuresCompleteOnTheCallersContext() {
        tb = new TestBroker(Map.of("broker", Map.of("shards", 2)));
        await(logs().partitions(ORDERS, 2, true));
        await(logs().append(msg("x", 1), 1));
        io.vertx.core.Context caller = tb.vertx.getOrCreateContext();
        List<Boolean> onCaller = new java.util.concurrent.CopyOnWriteArrayList<>();
        caller.runOnContext(v -> {
            logs().read(ORDERS, 1, 0, 1).onComplete(x -> onCaller.add(io.vertx.core.Vertx.currentContext() == caller));
            logs().offsetAt(ORDERS, 1, 0).onComplete(x -> onCaller.add(io.vertx.core.Vertx.currentContext() == caller));
            logs().awaitAppend(ORDERS, 1, 0, Duration.ofSeconds(5))
                    .onComplete(x -> onCaller.add(io.vertx.core.Vertx.currentContext() == caller));
            logs().awaitAppend(ORDERS, 0, 0, Duration.ofMillis(20))
                    .onComplete(x -> onCaller.add(io.vertx.core.Vertx.currentContext() == caller));
        });
        await().until(() -> onCaller.size() == 4);
        assertThat(onCaller).containsOnly(true); // the threading rule of spi/package-info.java
    }

    @Test
    void aPartitionCountSurvivesARestartEvenForPartitionsThatNeverHadData() {
        tb = new TestBroker(Map.of(), new FileMessageStore(FileStoreOptions.defaults(dir)));
        await(logs().partitions(ORDERS, 4, true));
        await(logs().append(msg("only in 0", 1), 0));
        tb.close();
        tb = new TestBroker(Map.of(), new FileMessageStore(FileStoreOptions.defaults(dir)));
        assertThat(await(logs().partitions(ORDERS, 0, false))).isEqualTo(4);
        assertThat(await(logs().read(ORDERS, 0, 0, 10))).extracting(e -> e.envelope().payloadAsString())
                .containsExactly("only in 0");
    }

    @Test
    void aBatchGetsConsecutiveOffsetsEvenWhenOthersPublishToThePartitionMeanwhile() {
        tb = new TestBroker(Map.of());
        await(logs().partitions(ORDERS, 1, true));
        List<io.vertx.core.Future<?>> all = new java.util.ArrayList<>();
        List<io.vertx.core.Future<io.omnibus.core.spi.PublishResult>> batches = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            io.vertx.core.Future<io.omnibus.core.spi.PublishResult> b = logs().append(List.of(msg("b" + i + "-0", 1),
                    msg("b" + i + "-1", 1), msg("b" + i + "-2", 1)), 0);
            batches.add(b);
            all.add(b);
            all.add(tb.broker.publish(msg("single" + i, 1)));
        }
        all.forEach(TestBroker::await);
        List<Logs.Entry> log = await(logs().read(ORDERS, 0, 0, 1000));
        assertThat(log).hasSize(200);
        for (int i = 0; i < 50; i++) {
            long base = await(batches.get(i)).offset();
            for (int k = 0; k < 3; k++) {
                assertThat(log.get((int) base + k).envelope().payloadAsString()).isEqualTo("b" + i + "-" + k);
            }
        }
    }

    @Test
    void aDeletedTopicIsGoneItsMessagesAreNotReadAndItStaysGoneAfterARestart() {
        tb = new TestBroker(Map.of(), new FileMessageStore(FileStoreOptions.defaults(dir)));
        await(logs().partitions(ORDERS, 2, true));
        await(logs().append(msg("a", 1), 0));
        await(logs().append(msg("b", 1), 1));
        assertThat(await(logs().delete(ORDERS))).isTrue();
        assertThat(await(logs().delete(ORDERS))).isFalse();
        assertThat(logs().topics()).doesNotContainKey(ORDERS);
        assertThat(await(logs().read(ORDERS, 0, 0, 10))).isEmpty();
        tb.close();
        tb = new TestBroker(Map.of(), new FileMessageStore(FileStoreOptions.defaults(dir)));
        assertThat(logs().topics()).doesNotContainKey(ORDERS);
        // made again: offsets go on, nothing old comes back
        assertThat(await(logs().partitions(ORDERS, 1, true))).isEqualTo(1); // the count asked for now
        assertThat(await(logs().read(ORDERS, 0, 0, 10))).isEmpty();
        long next = await(logs().append(msg("c", 1), 0)).offset();
        assertThat(next).isEqualTo(1);
        assertThat(await(logs().read(ORDERS, 0, 0, 10))).extracting(e -> e.envelope().payloadAsString()).containsExactly("c");
    }
}
