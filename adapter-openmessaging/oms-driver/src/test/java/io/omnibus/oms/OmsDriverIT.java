package io.omnibus.oms;

import io.omnibus.core.harness.TestGateway;
import io.omnibus.core.spi.Address;
import io.omnibus.openmessaging.OpenMessagingAdapterFactory;
import io.openmessaging.api.Action;
import io.openmessaging.api.Consumer;
import io.openmessaging.api.Message;
import io.openmessaging.api.MessagingAccessPoint;
import io.openmessaging.api.OMS;
import io.openmessaging.api.OMSResponseStatus;
import io.openmessaging.api.OnExceptionContext;
import io.openmessaging.api.Producer;
import io.openmessaging.api.PullConsumer;
import io.openmessaging.api.SendCallback;
import io.openmessaging.api.SendResult;
import io.openmessaging.api.TopicPartition;
import io.openmessaging.api.batch.BatchConsumer;
import io.openmessaging.api.exception.OMSDestinationException;
import io.openmessaging.api.exception.OMSRuntimeException;
import io.openmessaging.api.order.OrderAction;
import io.openmessaging.api.order.OrderConsumer;
import io.openmessaging.api.order.OrderProducer;
import io.openmessaging.api.transaction.TransactionProducer;
import io.openmessaging.api.transaction.TransactionStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** OpenMessaging applications through the omnibus driver, round trips through a gateway in this JVM. */
@Timeout(120)
class OmsDriverIT {
    private TestGateway gw;
    private final List<io.openmessaging.api.Admin> clients = new ArrayList<>();

    private MessagingAccessPoint start(Map<String, Object> config) {
        Map<String, Object> cfg = new HashMap<>(config);
        cfg.putIfAbsent("queues", 4);
        gw = TestGateway.builder().adapter(new OpenMessagingAdapterFactory(), cfg).start();
        return OMS.builder().driver("omnibus").endpoint("127.0.0.1:" + gw.port("openmessaging")).build();
    }

    private <T extends io.openmessaging.api.Admin> T started(T client) {
        client.start();
        clients.add(client);
        return client;
    }

    private static Properties group(String group) {
        Properties p = new Properties();
        p.setProperty("GROUP_ID", group);
        p.setProperty("omnibus.consumeFrom", "first");
        return p;
    }

    private static Message message(String topic, String tag, String key, String body) {
        return new Message(topic, tag, key, body.getBytes(StandardCharsets.UTF_8));
    }

    static String body(Message m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    @AfterEach
    void stop() {
        for (int i = clients.size() - 1; i >= 0; i--) {
            clients.get(i).shutdown();
        }
        if (gw != null) {
            gw.close();
        }
    }

    @Test
    void syncAsyncAndOnewaySendsReachAPushConsumerWithTheirProperties() throws Exception {
        MessagingAccessPoint ap = start(Map.of());
        assertThat(ap.version()).isEqualTo("2.2.1-pubsub");
        Producer producer = started(ap.createProducer(new Properties()));
        List<SendResult> sync = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Message m = message("orders", "created", "order-" + i, "sync-" + i);
            m.putUserProperties("channel", "web");
            sync.add(producer.send(m));
        }
        List<SendResult> async = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 5; i++) {
            producer.sendAsync(message("orders", "created", null, "async-" + i), new SendCallback() {
                @Override
                public void onSuccess(SendResult r) {
                    async.add(r);
                }

                @Override
                public void onException(OnExceptionContext context) {
                    throw context.getException();
                }
            });
        }
        for (int i = 0; i < 5; i++) {
            producer.sendOneway(message("orders", "created", null, "oneway-" + i));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> async.size() == 5);

        Map<String, Message> got = new ConcurrentHashMap<>();
        Consumer consumer = ap.createConsumer(group("billing"));
        consumer.subscribe("orders", "created", (m, ctx) -> {
            got.put(body(m), m);
            return Action.CommitMessage;
        });
        started(consumer);
        await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 20);
        Message first = got.get("sync-0");
        assertThat(first.getTopic()).isEqualTo("orders");
        assertThat(first.getTag()).isEqualTo("created");
        assertThat(first.getKey()).isEqualTo("order-0");
        assertThat(first.getUserProperties("channel")).isEqualTo("web");
        assertThat(first.getMsgID()).isEqualTo(sync.get(0).getMessageId());
        assertThat(first.getBornTimestamp()).isPositive();
        assertThat(first.getTopicPartition().getPartition()).matches("[0-3]");
    }

    @Test
    void anOrderProducersShardingKeyKeepsOrderForAnOrderConsumer() {
        MessagingAccessPoint ap = start(Map.of());
        OrderProducer producer = started(ap.createOrderProducer(new Properties()));
        Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
        OrderConsumer consumer = ap.createOrderedConsumer(group("fulfilment"));
        consumer.subscribe("steps", "*", (m, ctx) -> {
            String[] parts = body(m).split(":");
            seen.computeIfAbsent(parts[0], k -> new CopyOnWriteArrayList<>()).add(Integer.parseInt(parts[1]));
            return OrderAction.Success;
        });
        started(consumer);
        for (int step = 0; step < 20; step++) {
            for (int order = 0; order < 6; order++) {
                producer.send(message("steps", null, null, "o" + order + ":" + step), "o" + order);
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.values().stream().mapToInt(List::size).sum() == 120);
        List<Integer> inOrder = java.util.stream.IntStream.range(0, 20).boxed().toList();
        assertThat(seen).hasSize(6).allSatisfy((order, steps) -> assertThat(steps).isEqualTo(inOrder));
    }

    @Test
    void transactionsCommitRollBackAndAnswerCheckBacks() {
        MessagingAccessPoint ap = start(Map.of("transaction-timeout", "300ms", "transaction-check-interval", "300ms"));
        List<String> checked = new CopyOnWriteArrayList<>();
        TransactionProducer producer = started(ap.createTransactionProducer(new Properties(), m -> {
            checked.add(body(m));
            return TransactionStatus.CommitTransaction;
        }));
        List<String> got = new CopyOnWriteArrayList<>();
        Consumer consumer = ap.createConsumer(group("ledger"));
        consumer.subscribe("payments", "*", (m, ctx) -> {
            got.add(body(m));
            return Action.CommitMessage;
        });
        started(consumer);
        producer.send(message("payments", null, null, "committed"), (m, arg) -> TransactionStatus.CommitTransaction, null);
        producer.send(message("payments", null, null, "rolled-back"), (m, arg) -> TransactionStatus.RollbackTransaction, null);
        producer.send(message("payments", null, null, "undecided"), (m, arg) -> TransactionStatus.Unknow, null);
        producer.send(message("payments", null, null, "failing"), (m, arg) -> {
            throw new IllegalStateException("local transaction crashed");
        }, null);
        var prepared = producer.prepare(message("payments", null, null, "two-phase"));
        prepared.commit();
        await().atMost(Duration.ofSeconds(20)).until(() -> got.size() == 4);
        assertThat(got).containsExactlyInAnyOrder("committed", "undecided", "failing", "two-phase");
        assertThat(checked).contains("undecided", "failing").doesNotContain("committed", "rolled-back", "two-phase");
    }

    @Test
    void reconsumeLaterRedeliversWithBackoffAndABatchConsumerGetsLists() {
        MessagingAccessPoint ap = start(Map.of("delay-levels", "100ms 100ms 100ms 100ms"));
        Producer producer = started(ap.createProducer(new Properties()));
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        Consumer flaky = ap.createConsumer(group("flaky"));
        flaky.subscribe("retried", "*", (m, ctx) -> {
            attempts.add(m.getReconsumeTimes());
            return m.getReconsumeTimes() < 2 ? Action.ReconsumeLater : Action.CommitMessage;
        });
        started(flaky);
        List<List<String>> batches = new CopyOnWriteArrayList<>();
        BatchConsumer batch = ap.createBatchConsumer(group("bulk"));
        batch.subscribe("bulk", "*", (ms, ctx) -> {
            batches.add(ms.stream().map(OmsDriverIT::body).toList());
            return Action.CommitMessage;
        });
        started(batch);
        producer.send(message("retried", null, null, "again"));
        for (int i = 0; i < 50; i++) {
            producer.send(message("bulk", null, null, "b" + i));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> attempts.size() == 3
                && batches.stream().mapToInt(List::size).sum() == 50);
        assertThat(attempts).containsExactly(0, 1, 2);
        assertThat(batches).allSatisfy(b -> assertThat(b).isNotEmpty().hasSizeLessThanOrEqualTo(32));
    }

    @Test
    void broadcastingConsumersEachGetEverythingAndRetryInPlace() {
        MessagingAccessPoint ap = start(Map.of());
        Producer producer = started(ap.createProducer(new Properties()));
        Map<String, List<String>> got = new ConcurrentHashMap<>();
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        for (String name : List.of("screen-1", "screen-2")) {
            Properties p = group("screens");
            p.setProperty("MessageModel", "BROADCASTING");
            p.setProperty("SuspendTimeMillis", "50");
            // two members of one group on one access point are two access points, as two processes would be
            MessagingAccessPoint own = OMS.builder().driver("omnibus").endpoint("127.0.0.1:" + gw.port("openmessaging"))
                    .build();
            Consumer c = own.createConsumer(p);
            c.subscribe("news", "*", (m, ctx) -> {
                if (name.equals("screen-1") && body(m).equals("flaky") && attempts.size() < 2) {
                    attempts.add(m.getReconsumeTimes());
                    return Action.ReconsumeLater; // no retry topic in broadcasting: consumed again in place
                }
                got.computeIfAbsent(name, k -> new CopyOnWriteArrayList<>()).add(body(m));
                return Action.CommitMessage;
            });
            started(c);
        }
        for (String b : List.of("a", "flaky", "b")) {
            producer.send(message("news", null, null, b));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> got.getOrDefault("screen-1", List.of()).size() == 3
                && got.getOrDefault("screen-2", List.of()).size() == 3);
        assertThat(got.get("screen-1")).containsExactlyInAnyOrder("a", "flaky", "b");
        assertThat(got.get("screen-2")).containsExactlyInAnyOrder("a", "flaky", "b");
        assertThat(attempts).hasSize(2);
    }

    @Test
    void aPullConsumerAssignsPollsSeeksAndCommits() {
        MessagingAccessPoint ap = start(Map.of());
        OrderProducer producer = started(ap.createOrderProducer(new Properties()));
        for (int i = 0; i < 30; i++) {
            producer.send(message("pulled", null, null, "p" + i), "one-key");
        }
        PullConsumer consumer = started(ap.createPullConsumer(group("reader")));
        assertThat(consumer.topicPartitions("pulled")).hasSize(4);
        TopicPartition tp = consumer.topicPartitions("pulled").stream()
                .filter(p -> gw.broker.logs().endOffset(Address.of("pulled"), Integer.parseInt(p.getPartition())) > 0)
                .findFirst().orElseThrow();
        consumer.assign(List.of(tp));
        consumer.seek(tp, 5);
        List<String> got = new ArrayList<>();
        while (got.size() < 25) {
            List<Message> batch = consumer.poll(2_000);
            assertThat(batch).isNotEmpty();
            batch.forEach(m -> got.add(body(m)));
        }
        assertThat(got).first().isEqualTo("p5");
        assertThat(got).last().isEqualTo("p29");
        assertThat(consumer.poll(300)).isEmpty();
        // no commit yet: the broker answers the queue's start while its first message is kept, as RocketMQ's does
        assertThat(consumer.committed(tp)).isZero();
        consumer.commitSync();
        assertThat(consumer.committed(tp)).isEqualTo(30L);
        consumer.seekToBeginning(tp);
        assertThat(body(consumer.poll(2_000).get(0))).isEqualTo("p0");
        assertThat(consumer.offsetForTimestamp(tp, 0L)).isZero();
    }

    @Test
    void aDeliverTimeHoldsAMessageBack() {
        MessagingAccessPoint ap = start(Map.of());
        Producer producer = started(ap.createProducer(new Properties()));
        Map<String, Long> at = new ConcurrentHashMap<>();
        Consumer consumer = ap.createConsumer(group("scheduler"));
        consumer.subscribe("timed", "*", (m, ctx) -> {
            at.put(body(m), System.currentTimeMillis());
            return Action.CommitMessage;
        });
        started(consumer);
        Message later = message("timed", null, null, "later");
        long sent = System.currentTimeMillis();
        later.setStartDeliverTime(sent + 1_500);
        producer.send(later);
        producer.send(message("timed", null, null, "now"));
        await().atMost(Duration.ofSeconds(20)).until(() -> at.size() == 2);
        assertThat(at.get("later") - sent).isGreaterThanOrEqualTo(1_400);
        assertThat(at.get("now")).isLessThan(at.get("later"));
    }

    @Test
    void anOmsUrlWithANamespacePutsTopicsUnderIt() {
        start(Map.of());
        MessagingAccessPoint ap = OmsUrl.accessPoint("oms:omnibus://127.0.0.1:" + gw.port("openmessaging") + "/shop");
        Producer producer = started(ap.createProducer(new Properties()));
        SendResult r = producer.send(message("orders", null, null, "namespaced"));
        assertThat(r.getTopic()).isEqualTo("orders");
        assertThat(gw.broker.logs().partitionCount(Address.of("shop/orders"))).isEqualTo(4);
        List<Message> got = new CopyOnWriteArrayList<>();
        Consumer consumer = ap.createConsumer(group("shop-billing"));
        consumer.subscribe("orders", "*", (m, ctx) -> {
            got.add(m);
            return Action.CommitMessage;
        });
        started(consumer);
        await().atMost(Duration.ofSeconds(20)).until(() -> got.size() == 1);
        assertThat(got.get(0).getTopic()).isEqualTo("orders");
        assertThatThrownBy(() -> OmsUrl.accessPoint("oms:rocketmq://h:1/x")).isInstanceOf(OMSRuntimeException.class)
                .hasMessageContaining("oms:omnibus://");
    }

    @Test
    void errorsSurfaceAsTheApisExceptionsWithAStatusAndACause() throws IOException {
        MessagingAccessPoint ap = start(Map.of("auto-create-topics", false));
        Producer producer = started(ap.createProducer(new Properties()));
        assertThatThrownBy(() -> producer.send(message("missing", null, null, "x")))
                .isInstanceOfSatisfying(OMSDestinationException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(OMSResponseStatus.STATUS_1404.getStatusCode());
                    assertThat(e).hasMessageContaining("missing");
                });
        assertThatThrownBy(() -> producer.send(message("has space", null, null, "x")))
                .isInstanceOf(OMSDestinationException.class);
        assertThatThrownBy(() -> ap.createConsumer(new Properties())).isInstanceOfSatisfying(OMSRuntimeException.class,
                e -> assertThat(e.getErrorCode()).isEqualTo(OMSResponseStatus.STATUS_1418.getStatusCode()));
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Producer nowhere = OMS.builder().driver("omnibus").endpoint("127.0.0.1:" + closedPort).build()
                .createProducer(new Properties());
        nowhere.start();
        clients.add(nowhere);
        assertThatThrownBy(() -> nowhere.send(message("t", null, null, "x"))).isInstanceOfSatisfying(
                OMSRuntimeException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(OMSResponseStatus.STATUS_1503.getStatusCode());
                    assertThat(e.getCause()).isInstanceOf(IOException.class);
                });
        Producer stopped = ap.createProducer(new Properties());
        assertThatThrownBy(() -> stopped.send(message("t", null, null, "x"))).isInstanceOf(OMSRuntimeException.class)
                .hasMessageContaining("not started");
    }
}
