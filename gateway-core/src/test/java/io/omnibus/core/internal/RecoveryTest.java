package io.omnibus.core.internal;

import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.store.MemoryMessageStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A restart over the same store brings durable subscriptions back with exactly what they had not
 * acknowledged: what the durable commit log will rely on, checked here through the seam.
 */
@Timeout(30)
class RecoveryTest {
    @Test
    void durableSubscriptionsComeBackWithTheirUnacknowledgedBacklog() {
        MemoryMessageStore store = new MemoryMessageStore(1_000, 1 << 20);
        try (TestBroker first = new TestBroker(Map.of(), store)) {
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
        try (TestBroker second = new TestBroker(Map.of(), store)) {
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

    @Test
    void aDurableWildcardSubscriptionThatNeverAcknowledgedStillGetsItsBacklogBack() {
        MemoryMessageStore store = new MemoryMessageStore(1_000, 1 << 20);
        try (TestBroker first = new TestBroker(Map.of(), store)) {
            await(first.broker.subscribe(SubscriptionSpec.of("d", "a/#").withDurable(true)));
            first.publish("a/b", "one");
            first.publish("a/c", "two");
            await().until(() -> first.view("d").backlog() == 2);
        }
        try (TestBroker second = new TestBroker(Map.of(), store)) {
            TestBroker.Recorder r = second.recorder().attach(second.broker.subscription("d"), 10);
            await().until(() -> r.received.size() == 2);
            assertThat(r.payloads()).containsExactlyInAnyOrder("one", "two");
        }
    }
}
