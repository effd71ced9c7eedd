package io.omnibus.core.internal;

import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.Transaction;
import io.vertx.core.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Core transactions: staged messages visible together at commit, never at rollback; staged acknowledgements. */
@Timeout(30)
class TransactionTest {
    private final TestBroker tb = new TestBroker(Map.of(
            "broker", Map.of("shards", 3, "max-transaction-size", 100),
            "addresses", List.of(Map.of("match", "orders/#", "partitions", 3)),
            "subscriptions", List.of(Map.of("name", "work", "redelivery-delay", "10ms"))));

    @AfterEach
    void stop() {
        tb.close();
    }

    private static Envelope msg(String address, String payload) {
        return Envelope.builder(address).payload(payload).key(payload).build();
    }

    @Test
    void stagedMessagesOfSeveralAddressesAndPartitionsAppearTogetherAtCommitAndNeverAtRollback() {
        TestBroker.Recorder all = tb.recorder().attach(tb.subscribe("all", "orders/#"), 100);
        TestBroker.Recorder txs = tb.recorder();
        Transaction tx = await(txs.runOn(() -> Future.succeededFuture(tb.broker.begin())));
        for (int i = 0; i < 6; i++) {
            String address = i % 2 == 0 ? "orders/eu" : "orders/us";
            await(txs.runOn(() -> tx.publish(msg(address, "c" + all.received.size() + "-" + address))));
        }
        tb.publish("orders/eu", "outside"); // published after the staged ones: it arrives, they do not
        await().until(() -> all.received.size() == 1);
        assertThat(all.payloads()).containsExactly("outside");

        await(txs.runOn(tx::commit));
        await().until(() -> all.received.size() == 7);
        assertThat(all.received).extracting(d -> d.envelope().address().name())
                .filteredOn(a -> a.equals("orders/us")).hasSize(3);
        assertThat(all.received.stream().map(Delivery::partition).distinct().count()).isGreaterThan(1);

        Transaction rolledBack = await(txs.runOn(() -> Future.succeededFuture(tb.broker.begin())));
        await(txs.runOn(() -> rolledBack.publish(msg("orders/eu", "never"))));
        await(txs.runOn(rolledBack::rollback));
        tb.publish("orders/eu", "after");
        await().until(() -> all.received.size() == 8);
        assertThat(all.payloads()).doesNotContain("never").endsWith("after");
    }

    @Test
    void anAcknowledgementInATransactionTakesEffectAtCommitAndARollbackRedeliversWithTheCountRaised() {
        Subscription work = tb.subscribe("work", "jobs");
        TestBroker.Recorder r = tb.recorder().manual().attach(work, 10);
        tb.publish("jobs", "j1");
        await().until(() -> r.received.size() == 1);

        Transaction first = await(r.runOn(() -> Future.succeededFuture(tb.broker.begin())));
        await(r.runOn(() -> {
            first.acknowledge(r.consumer, r.received.get(0));
            return first.rollback();
        }));
        await().until(() -> r.received.size() == 2);
        assertThat(r.received).extracting(Delivery::deliveryCount).containsExactly(0, 1);
        assertThat(tb.view("work").acknowledged()).isZero();

        Transaction second = await(r.runOn(() -> Future.succeededFuture(tb.broker.begin())));
        await(r.runOn(() -> {
            second.acknowledge(r.consumer, r.received.get(1));
            return second.publish(msg("orders/eu", "reply"));
        }));
        assertThat(tb.view("work").acknowledged()).isZero();
        await(r.runOn(second::commit));
        await().until(() -> tb.view("work").acknowledged() == 1);
        assertThat(tb.view("work").backlog()).isZero();
    }

    @Test
    void aTransactionRefusesToStageMoreThanItsLimitAndStaysUsable() {
        TestBroker.Recorder all = tb.recorder().attach(tb.subscribe("all", "orders/#"), 100);
        Transaction tx = await(all.runOn(() -> Future.succeededFuture(tb.broker.begin())));
        await(all.runOn(() -> tx.publish(msg("orders/eu", "x".repeat(60)))));
        assertThatThrownBy(() -> await(all.runOn(() -> tx.publish(msg("orders/eu", "y".repeat(60))))))
                .hasRootCauseInstanceOf(BrokerException.class).hasMessageContaining("broker.max-transaction-size");
        await(all.runOn(tx::commit));
        await().until(() -> all.received.size() == 1);
        assertThat(all.received.get(0).envelope().payloadAsString()).hasSize(60);
    }
}
