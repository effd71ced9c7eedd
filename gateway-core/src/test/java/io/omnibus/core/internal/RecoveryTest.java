package io.omnibus.core.internal;

import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.store.MemoryMessageStore;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.file.FileMessageStore;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
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
        return () -> new FileMessageStore(FileMessageStore.Options.defaults(dir));
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
}
