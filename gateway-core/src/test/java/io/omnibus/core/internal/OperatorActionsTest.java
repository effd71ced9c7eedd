package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Envelope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The admin API's actions on the broker: purge, pause and resume, redrive; seen by consumers. */
@Timeout(60)
class OperatorActionsTest {
    private TestBroker tb;

    @AfterEach
    void stop() {
        if (tb != null) {
            tb.close();
        }
    }

    @Test
    void aPurgeDropsWhatWaitsButNotWhatIsInFlight() {
        tb = new TestBroker(Map.of());
        var sub = tb.subscribe("s", "orders");
        TestBroker.Recorder slow = tb.recorder();
        slow.onDelivery = (r, d) -> { }; // holds its deliveries unacknowledged
        slow.attach(sub, 2);
        for (int i = 0; i < 10; i++) {
            tb.publish("orders", "m" + i);
        }
        await().until(() -> slow.received.size() == 2 && tb.view("s").backlog() == 8);

        assertThat(await(tb.broker.operators().purge("s"))).isEqualTo(8);
        assertThat(tb.view("s").backlog()).isZero();
        // the two in flight are still the consumer's: given back, they come again; the purged eight never do
        Delivery first = slow.received.get(0);
        slow.consumer.release(first);
        tb.publish("orders", "after");
        slow.onDelivery = (r, d) -> r.consumer.ack(d);
        slow.consumer.ack(slow.received.get(1));
        slow.consumer.credit(10);
        await().until(() -> slow.payloads().contains("after"));
        assertThat(slow.payloads()).containsExactly("m0", "m1", "m0", "after");
    }

    @Test
    void aPausedSubscriptionHandsNothingOutUntilResumed() {
        tb = new TestBroker(Map.of());
        var sub = tb.subscribe("s", "orders");
        TestBroker.Recorder r = tb.recorder().attach(sub, 100);
        assertThat(await(tb.broker.operators().pause("s", true))).isTrue();
        for (int i = 0; i < 5; i++) {
            tb.publish("orders", "m" + i);
        }
        await().until(() -> tb.view("s").backlog() == 5);
        assertThat(tb.view("s").paused()).isTrue();
        assertThat(r.received).isEmpty();
        assertThat(await(tb.broker.operators().pause("s", false))).isTrue();
        await().until(() -> r.received.size() == 5);
        assertThat(r.payloads()).containsExactly("m0", "m1", "m2", "m3", "m4");
        assertThat(await(tb.broker.operators().pause("nobody", true))).isFalse();
    }

    @Test
    void aConsumerGroupsCursorIsNeitherPurgedNorPaused() {
        tb = new TestBroker(Map.of());
        tb.publish("orders", "m0");
        await(tb.broker.commitPosition("kafka-group:billing@orders", Address.of("orders"), 0, 0));
        assertThat(tb.broker.operators().purge("kafka-group:billing@orders").cause())
                .isInstanceOfSatisfying(io.omnibus.core.spi.BrokerException.class, e -> assertThat(e.reason())
                        .isEqualTo(io.omnibus.core.spi.BrokerException.Reason.CONFLICT));
        assertThat(tb.broker.operators().pause("kafka-group:billing@orders", true).cause()).isNotNull();
        assertThat(tb.view("kafka-group:billing@orders").paused()).isFalse();
    }

    @Test
    void redriveMovesDeadLettersBackAndKeepsWhatIsNotOne() {
        tb = new TestBroker(Map.of("broker", Map.of("defaults", Map.of("max-deliveries", 1))));
        var sub = tb.subscribe("s", "orders");
        TestBroker.Recorder refuser = tb.recorder();
        refuser.onDelivery = (rec, d) -> rec.consumer.reject(d, "bad");
        refuser.attach(sub, 10);
        tb.publish("orders", "o1");
        tb.publish("orders", "o2");
        Address dlq = Address.of("$dlq/orders");
        await().until(() -> tb.broker.logs().partitionCount(dlq) == 1 && tb.broker.logs().endOffset(dlq, 0) == 2);
        tb.publish(Envelope.builder(dlq).payload("not a dead letter").build());
        refuser.consumer.close();

        TestBroker.Recorder taker = tb.recorder().attach(sub, 10);
        long[] moved = await(tb.broker.operators().redrive(dlq));
        assertThat(moved).containsExactly(2, 1);
        await().until(() -> taker.received.size() == 2);
        assertThat(taker.payloads()).containsExactly("o1", "o2");
        assertThat(taker.received.get(0).envelope().header(DeadLetters.REASON)).isNull();
        // the other message kept the partition from being emptied; the next redrive starts after what was moved
        assertThat(tb.broker.logs().endOffset(dlq, 0) - tb.broker.logs().startOffset(dlq, 0)).isEqualTo(3);
        assertThat(await(tb.broker.operators().redrive(dlq))).containsExactly(0, 0);
        assertThat(List.copyOf(taker.received)).hasSize(2);
    }
}
