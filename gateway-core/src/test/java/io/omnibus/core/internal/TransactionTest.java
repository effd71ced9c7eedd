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
            "broker", Map.of("shards", 3, "max-transaction-size", 100, "max-staged-bytes", 150),
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
    void aPreparedTransactionIsInvisibleUntilResolvedSurvivesARestartAndIsCommittedOnce(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        java.util.function.Supplier<TestBroker> open = () -> new TestBroker(Map.of("broker", Map.of("shards", 2)),
                new io.omnibus.core.store.file.FileMessageStore(
                        io.omnibus.core.store.file.FileStoreOptions.defaults(dir)));
        String kept;
        String rolledBack;
        try (TestBroker first = open.get()) {
            TestBroker.Recorder r = first.recorder().attach(await(first.broker.subscribe(
                    io.omnibus.core.spi.SubscriptionSpec.of("all", "pay/#").withDurable(true))), 100);
            Transaction one = await(r.runOn(() -> Future.succeededFuture(first.broker.begin())));
            kept = await(r.runOn(() -> one.publish(msg("pay/eu", "p-1"), 0)
                    .compose(x -> one.publish(msg("pay/us", "p-2")))
                    .compose(x -> one.prepare(Map.of("group", "shop")))));
            Transaction two = await(r.runOn(() -> Future.succeededFuture(first.broker.begin())));
            rolledBack = await(r.runOn(() -> two.publish(msg("pay/eu", "never")).compose(x -> two.prepare(Map.of()))));
            assertThat(await(first.broker.preparedTransactions())).extracting(io.omnibus.core.spi.PreparedTransaction::id)
                    .containsExactly(kept, rolledBack);
            assertThat(await(first.broker.preparedMessages(kept))).extracting(st -> st.envelope().payloadAsString())
                    .containsExactly("p-1", "p-2");
            await(first.broker.resolve(rolledBack, false));
            first.publish("pay/eu", "marker");
            await().until(() -> r.received.size() == 1);
            assertThat(r.payloads()).containsExactly("marker"); // nothing of the prepared ones
        }
        try (TestBroker second = open.get()) {
            java.util.List<io.omnibus.core.spi.PreparedTransaction> left = await(second.broker.preparedTransactions());
            assertThat(left).extracting(io.omnibus.core.spi.PreparedTransaction::id).containsExactly(kept);
            assertThat(left.get(0).attributes()).containsEntry("group", "shop");
            TestBroker.Recorder r = second.recorder().attach(second.broker.subscription("all"), 100);
            await(second.broker.resolve(kept, true));
            await(second.broker.resolve(kept, true)); // repeated: published once
            await(second.broker.resolve(rolledBack, true)); // rolled back before: stays rolled back
            second.publish("pay/eu", "after");
            await().until(() -> r.received.size() == 3);
            assertThat(r.payloads()).containsExactlyInAnyOrder("p-1", "p-2", "after");
            assertThat(await(second.broker.preparedTransactions())).isEmpty();
            assertThatThrownBy(() -> await(second.broker.resolve("12345", true))).hasMessageContaining("no prepared");
        }
    }

    @Test
    void transactionsRefuseToStageMoreThanTheirLimitsAndStayUsable() {
        TestBroker.Recorder all = tb.recorder().attach(tb.subscribe("all", "orders/#"), 100);
        Transaction tx = await(all.runOn(() -> Future.succeededFuture(tb.broker.begin())));
        await(all.runOn(() -> tx.publish(msg("orders/eu", "x".repeat(60)))));
        assertThatThrownBy(() -> await(all.runOn(() -> tx.publish(msg("orders/eu", "y".repeat(60))))))
                .hasRootCauseInstanceOf(BrokerException.class).hasMessageContaining("broker.max-transaction-size");
        Transaction other = await(all.runOn(() -> Future.succeededFuture(tb.broker.begin())));
        await(all.runOn(() -> other.publish(msg("orders/eu", "z".repeat(80)))));
        Transaction third = await(all.runOn(() -> Future.succeededFuture(tb.broker.begin())));
        assertThatThrownBy(() -> await(all.runOn(() -> third.publish(msg("orders/eu", "w".repeat(20))))))
                .hasMessageContaining("broker.max-staged-bytes"); // 60 + 80 staged of 150, in two transactions
        await(all.runOn(tx::commit));
        await(all.runOn(other::rollback));
        await(all.runOn(() -> third.publish(msg("orders/eu", "w".repeat(20))))); // room again
        await().until(() -> all.received.size() == 1);
        assertThat(all.received.get(0).envelope().payloadAsString()).hasSize(60);
    }
}
