package io.omnibus.core.internal;

import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.store.MemoryMessageStore;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.file.FileMessageStore;
import io.omnibus.core.store.file.FileStoreOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A restart over the same store brings durable subscriptions back with exactly what they had not
 * acknowledged, through the store seam, for the memory store (same instance) and the commit log
 * (a new instance on the same directory).
 */
@Timeout(30)
class RecoveryTest {
    @TempDir
    Path dir;

    private Supplier<MessageStore> stores(String type) {
        if (type.equals("memory")) {
            MemoryMessageStore shared = new MemoryMessageStore(1_000, 1 << 20);
            return () -> shared;
        }
        return () -> new FileMessageStore(FileStoreOptions.defaults(dir));
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void durableSubscriptionsComeBackWithTheirUnacknowledgedBacklog(String type) {
        Supplier<MessageStore> store = stores(type);
        try (TestBroker first = new TestBroker(Map.of(), store.get())) {
            Subscription sub = await(first.broker.subscribe(SubscriptionSpec.of("durable", "events/#").withDurable(true)));
            first.subscribe("volatile", "events/#");
            TestBroker.Recorder r = first.recorder().manual().attach(sub, 100);
            for (int i = 0; i < 5; i++) {
                first.publish("events/a", "e" + i);
            }
            await().until(() -> r.received.size() == 5);
            r.consumer.ack(r.received.get(0));
            r.consumer.ack(r.received.get(2));
            await().until(() -> first.view("durable").acknowledged() == 2);
        }
        try (TestBroker second = new TestBroker(Map.of(), store.get())) {
            assertThat(second.broker.subscription("volatile")).isNull();
            Subscription sub = second.broker.subscription("durable");
            assertThat(sub).isNotNull();
            await().until(() -> second.view("durable").backlog() == 3);
            TestBroker.Recorder r = second.recorder().attach(sub, 100);
            await().until(() -> r.received.size() == 3);
            assertThat(r.payloads()).containsExactly("e1", "e3", "e4");
            assertThat(r.received).extracting(Delivery::offset).containsExactly(1L, 3L, 4L);
            assertThat(second.broker.topicViews()).extracting(TopicView::name).contains("events/a");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void aDurableWildcardSubscriptionThatNeverAcknowledgedStillGetsItsBacklogBack(String type) {
        Supplier<MessageStore> store = stores(type);
        try (TestBroker first = new TestBroker(Map.of(), store.get())) {
            await(first.broker.subscribe(SubscriptionSpec.of("d", "a/#").withDurable(true)));
            first.publish("a/b", "one");
            first.publish("a/c", "two");
            await().until(() -> first.view("d").backlog() == 2);
        }
        try (TestBroker second = new TestBroker(Map.of(), store.get())) {
            TestBroker.Recorder r = second.recorder().attach(second.broker.subscription("d"), 10);
            await().until(() -> r.received.size() == 2);
            assertThat(r.payloads()).containsExactlyInAnyOrder("one", "two");
        }
    }

    /**
     * The crash of issue 15: a durable subscription whose filter first matches a partition after the last
     * checkpoint, and acknowledgements made after it. After {@code kill -9}: every message acknowledged to its
     * producer reaches the subscription, and nothing it acknowledged comes again.
     */
    private interface Work {
        void run(TestBroker broker, FileMessageStore store) throws Exception;
    }

    /**
     * Runs {@code work} on a broker over a file store (no checkpoint but the ones it asks for), flushes the store and
     * stops it as {@code kill -9} would; returns the store options for the broker that recovers.
     */
    private FileStoreOptions crashAfter(Work work) throws Exception {
        FileStoreOptions options = FileStoreOptions.defaults(dir).withCheckpointInterval(Duration.ofHours(1));
        FileMessageStore crashed = new FileMessageStore(options);
        TestBroker first = new TestBroker(Map.of(), crashed);
        try {
            work.run(first, crashed);
            await(crashed.flush());
            crashed.crashForTests();
        } finally {
            await(first.vertx.close());
        }
        return options;
    }

    @Test
    void afterACrashASubscriptionGetsEveryAcknowledgedMessageItHadNotAcknowledgedItself() throws Exception {
        FileStoreOptions options = crashAfter((first, crashed) -> {
            Subscription sub = await(first.broker.subscribe(SubscriptionSpec.of("d", "dur/#").withDurable(true)));
            first.publish("dur/0", "before");
            await(crashed.checkpointNow()); // the subscription and its cursors are in the checkpoint; dur/1 is not
            for (int i = 0; i < 10; i++) {
                first.publish("dur/1", "m" + i); // each one acknowledged to its producer
            }
            TestBroker.Recorder r = first.recorder().manual().attach(sub, 100);
            await().until(() -> r.received.size() == 11);
            for (Delivery d : r.received) {
                if (d.envelope().payloadAsString().equals("before") || d.offset() < 4) {
                    r.consumer.ack(d);
                }
            }
            await().until(() -> first.view("d").acknowledged() == 5);
        });
        try (TestBroker second = new TestBroker(Map.of(), new FileMessageStore(options))) {
            await().until(() -> second.view("d").backlog() == 6);
            TestBroker.Recorder r = second.recorder().attach(second.broker.subscription("d"), 100);
            await().until(() -> r.received.size() == 6);
            List<String> expected = new ArrayList<>();
            for (int i = 4; i < 10; i++) {
                expected.add("m" + i);
            }
            assertThat(r.payloads()).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void aSubscriptionMadeAfterMessagesWereStoredDoesNotGetThemAfterACrash() throws Exception {
        FileStoreOptions options = crashAfter((first, crashed) -> {
            first.publish("late/1", "old");
            await(first.broker.subscribe(SubscriptionSpec.of("late", "late/#").withDurable(true)));
            first.publish("late/1", "new");
            first.publish("late/2", "other");
        });
        try (TestBroker second = new TestBroker(Map.of(), new FileMessageStore(options))) {
            TestBroker.Recorder r = second.recorder().attach(second.broker.subscription("late"), 100);
            await().until(() -> r.received.size() == 2);
            assertThat(r.payloads()).containsExactlyInAnyOrder("new", "other");
            assertThat(second.view("late").backlog()).isZero();
        }
    }
}
