package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.vertx.core.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A run of one producer's messages published at once ({@code Broker.publishAll}): where each would have gone alone. */
@Timeout(30)
class PublishAllTest {
    private static final Address ORDERS = Address.of("orders");
    private TestBroker tb;

    @AfterEach
    void stop() {
        if (tb != null) {
            tb.close();
        }
    }

    private static List<Envelope> run(String prefix, int n, boolean keyed) {
        List<Envelope> run = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Envelope.Builder b = Envelope.builder(ORDERS).payload(prefix + i);
            run.add((keyed ? b.key("k" + (i * 7 % 5)) : b).build());
        }
        return run;
    }

    private List<String> partition(int p) {
        return await(tb.broker.logs().read(ORDERS, p, 0, 1000)).stream().map(e -> e.envelope().payloadAsString())
                .toList();
    }

    @Test
    void aRunIsStoredInOrderAfterWhatCameBeforeAndRoutedAsPublishesWouldBe() {
        tb = new TestBroker(Map.of("broker", Map.of("shards", 2)));
        TestBroker.Recorder sub = tb.recorder().attach(tb.subscribe("all", "orders"), 1000);
        tb.publish("orders", "first");
        Future<Void> a = tb.broker.publishAll(run("a", 50, false));
        Future<Void> b = tb.broker.publishAll(run("b", 1, false));
        Future<Void> c = tb.broker.publishAll(run("c", 30, false));
        await(Future.all(a, b, c));
        List<String> expected = new ArrayList<>(List.of("first"));
        run("a", 50, false).forEach(e -> expected.add(e.payloadAsString()));
        expected.add("b0");
        run("c", 30, false).forEach(e -> expected.add(e.payloadAsString()));
        assertThat(partition(0)).containsExactlyElementsOf(expected);
        await().until(() -> sub.received.size() == expected.size());
        assertThat(sub.payloads()).containsExactlyElementsOf(expected);
    }

    @Test
    void keyedMessagesOfARunGoToThePartitionsTheirKeysChooseInTheirOrder() {
        tb = new TestBroker(Map.of("broker", Map.of("shards", 2)));
        await(tb.broker.logs().partitions(ORDERS, 3, true));
        for (Envelope e : run("one-", 40, true)) { // the reference: one publish each
            tb.publish(e);
        }
        List<List<String>> alone = List.of(partition(0), partition(1), partition(2));
        await(tb.broker.publishAll(run("run-", 40, true)));
        for (int p = 0; p < 3; p++) {
            List<String> all = partition(p);
            assertThat(all.subList(alone.get(p).size(), all.size()))
                    .as("partition %d", p)
                    .containsExactlyElementsOf(alone.get(p).stream().map(s -> s.replace("one-", "run-")).toList());
        }
        assertThat(alone).allSatisfy(p -> assertThat(p).isNotEmpty()); // the run did cross partitions
    }

    @Test
    void aRunWithAMessageTooLargeIsRefusedWholeAndNothingOfItIsStored() {
        tb = new TestBroker(Map.of("broker", Map.of("max-message-size", "1KiB")));
        List<Envelope> run = new ArrayList<>(run("ok", 3, false));
        run.add(Envelope.builder(ORDERS).payload(new byte[2048]).build());
        Future<Void> refused = tb.broker.publishAll(run);
        assertThatThrownBy(() -> await(refused)).hasRootCauseInstanceOf(BrokerException.class);
        assertThat(((BrokerException) refused.cause()).reason()).isEqualTo(BrokerException.Reason.MESSAGE_TOO_LARGE);
        tb.publish("orders", "after");
        assertThat(partition(0)).containsExactly("after");
    }

    /**
     * {@code overflow: block} counts a run's own messages: a run that takes the backlog past max-pending is held (its
     * acknowledgement waits) until a consumer catches up, as the publish of its fourth message alone would be.
     */
    @Test
    void aRunThatTakesABlockingSubscriptionPastMaxPendingIsHeldUntilTheConsumerCatchesUp() {
        Map<String, Object> rule = new java.util.HashMap<>(Map.of("name", "s", "max-pending", 3, "overflow", "block"));
        tb = new TestBroker(Map.of("broker", Map.of("shards", 2), "subscriptions", List.of(rule)));
        io.omnibus.core.spi.Subscription sub = tb.subscribe("s", "orders");
        Future<Void> held = tb.broker.publishAll(run("m", 10, false));
        await().until(() -> tb.view("s").backlog() == 10 && tb.counter("omnibus.subscription.blocked") > 0);
        assertThat(held.isComplete()).isFalse(); // held when routed, and only a consumer releases it
        TestBroker.Recorder r = tb.recorder().attach(sub, 100);
        await().until(held::isComplete);
        assertThat(held.succeeded()).isTrue();
        await().until(() -> r.received.size() == 10);
        assertThat(r.payloads()).containsExactlyElementsOf(run("m", 10, false).stream().map(Envelope::payloadAsString)
                .toList());
    }

    @Test
    void aRunGoesToOneAddress() {
        tb = new TestBroker(Map.of("broker", Map.of("shards", 2)));
        List<Envelope> mixed = List.of(Envelope.builder(ORDERS).payload("a").build(),
                Envelope.builder("other").payload("b").build());
        assertThatThrownBy(() -> tb.broker.publishAll(mixed)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRunToAnAddressThatMayNotBeMadeFailsAndLeavesTheBrokerFreeToClose() {
        tb = new TestBroker(Map.of("broker", Map.of("auto-create-topics", false)));
        Future<Void> refused = tb.broker.publishAll(run("x", 5, false));
        assertThatThrownBy(() -> await(refused)).hasRootCauseInstanceOf(BrokerException.class);
        assertThat(((BrokerException) refused.cause()).reason()).isEqualTo(BrokerException.Reason.UNKNOWN_ADDRESS);
        // close() waits for every publish counted in: this one was counted out again, or close would time out
    }
}
