package io.omnibus.openmessaging.rocketmq5;

import io.omnibus.core.harness.TestGateway;
import io.omnibus.openmessaging.OpenMessagingAdapterFactory;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** RocketMQ 5's remoting client (rocketmq-client 5.x) against the gateway: the same wire, newer habits. */
@Timeout(120)
class RocketMq5ClientIT {
    static {
        System.setProperty("rocketmq.client.rebalance.waitInterval", "1000");
    }

    private TestGateway gw;
    private final List<Runnable> shutdowns = new ArrayList<>();

    private void start(Map<String, Object> config) {
        Map<String, Object> cfg = new java.util.HashMap<>(config);
        cfg.putIfAbsent("queues", 4);
        gw = TestGateway.builder().adapter(new OpenMessagingAdapterFactory(), cfg).start();
    }

    private String nameServer() {
        return "127.0.0.1:" + gw.port("openmessaging");
    }

    private <P extends DefaultMQProducer> P started(P p) throws Exception {
        p.setNamesrvAddr(nameServer());
        p.setInstanceName(UUID.randomUUID().toString());
        p.start();
        shutdowns.add(p::shutdown);
        return p;
    }

    private DefaultMQPushConsumer push(String group, String topic, Object listener) throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(nameServer());
        c.setInstanceName(UUID.randomUUID().toString());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        if (listener instanceof MessageListenerOrderly o) {
            c.setMessageListener(o);
        } else {
            c.setMessageListener((MessageListenerConcurrently) listener);
        }
        shutdowns.add(c::shutdown);
        return c;
    }

    @AfterEach
    void stop() {
        for (int i = shutdowns.size() - 1; i >= 0; i--) {
            try {
                shutdowns.get(i).run();
            } catch (RuntimeException ignored) {
                // already down
            }
        }
        if (gw != null) {
            gw.close();
        }
    }

    static String body(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    @Test
    void sendsOfEveryKindReachAPushConsumer() throws Exception {
        start(Map.of());
        DefaultMQProducer producer = started(new DefaultMQProducer("p5"));
        SendResult sync = producer.send(new Message("five", "t", "k-1", "sync".getBytes(StandardCharsets.UTF_8)));
        assertThat(sync.getSendStatus()).isEqualTo(SendStatus.SEND_OK);
        List<SendResult> async = new CopyOnWriteArrayList<>();
        producer.send(new Message("five", "async".getBytes(StandardCharsets.UTF_8)), new SendCallback() {
            @Override
            public void onSuccess(SendResult r) {
                async.add(r);
            }

            @Override
            public void onException(Throwable e) {
                throw new AssertionError(e);
            }
        });
        producer.sendOneway(new Message("five", "oneway".getBytes(StandardCharsets.UTF_8)));
        producer.send(List.of(new Message("five", "batch-1".getBytes(StandardCharsets.UTF_8)),
                new Message("five", "batch-2".getBytes(StandardCharsets.UTF_8))));
        await().atMost(Duration.ofSeconds(10)).until(() -> async.size() == 1);

        Map<String, MessageExt> got = new ConcurrentHashMap<>();
        push("c5", "five", (MessageListenerConcurrently) (msgs, ctx) -> {
            msgs.forEach(m -> got.put(body(m), m));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        }).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 5);
        assertThat(got.get("sync").getKeys()).isEqualTo("k-1");
        assertThat(got.get("sync").getTags()).isEqualTo("t");
        assertThat(got.get("sync").getMsgId()).isEqualTo(sync.getMsgId());
    }

    @Test
    void orderlyConsumersDelaysByTimeAndRetriesWork() throws Exception {
        start(Map.of("delay-levels", "100ms 100ms 100ms"));
        DefaultMQProducer producer = started(new DefaultMQProducer("p5-more"));
        List<String> ordered = new CopyOnWriteArrayList<>();
        push("c5-ordered", "steps5", (MessageListenerOrderly) (msgs, ctx) -> {
            msgs.forEach(m -> ordered.add(body(m)));
            return ConsumeOrderlyStatus.SUCCESS;
        }).start();
        for (int i = 0; i < 30; i++) {
            producer.send(new Message("steps5", ("s" + i).getBytes(StandardCharsets.UTF_8)), (mqs, msg, arg) -> mqs.get(1), null);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> ordered.size() == 30);
        assertThat(ordered).isEqualTo(java.util.stream.IntStream.range(0, 30).mapToObj(i -> "s" + i).toList());

        Map<String, Long> at = new ConcurrentHashMap<>();
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        push("c5-later", "later5", (MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                if (body(m).equals("retry-me") && m.getReconsumeTimes() < 2) {
                    attempts.add(m.getReconsumeTimes());
                    return ConsumeConcurrentlyStatus.RECONSUME_LATER;
                }
                at.put(body(m), System.currentTimeMillis());
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        }).start();
        Message timed = new Message("later5", "timed".getBytes(StandardCharsets.UTF_8));
        long sent = System.currentTimeMillis();
        timed.setDeliverTimeMs(sent + 1500); // RocketMQ 5's timer message
        producer.send(timed);
        producer.send(new Message("later5", "retry-me".getBytes(StandardCharsets.UTF_8)));
        await().atMost(Duration.ofSeconds(30)).until(() -> at.containsKey("timed") && at.containsKey("retry-me"));
        assertThat(at.get("timed") - sent).isGreaterThanOrEqualTo(1400);
        assertThat(attempts).containsExactly(0, 1);
    }

    @Test
    void aLitePullConsumerAndATransactionalProducerWork() throws Exception {
        start(Map.of("transaction-timeout", "300ms", "transaction-check-interval", "300ms"));
        TransactionMQProducer tx = new TransactionMQProducer("p5-tx");
        tx.setTransactionListener(new TransactionListener() {
            @Override
            public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                return body(msg).startsWith("keep") ? LocalTransactionState.COMMIT_MESSAGE
                        : body(msg).startsWith("drop") ? LocalTransactionState.ROLLBACK_MESSAGE : LocalTransactionState.UNKNOW;
            }

            @Override
            public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                return LocalTransactionState.COMMIT_MESSAGE;
            }

            private String body(Message m) {
                return new String(m.getBody(), StandardCharsets.UTF_8);
            }
        });
        started(tx);
        for (String b : List.of("keep", "drop", "ask")) {
            tx.sendMessageInTransaction(new Message("pulled5", b.getBytes(StandardCharsets.UTF_8)), null);
        }
        DefaultLitePullConsumer consumer = new DefaultLitePullConsumer("c5-pull");
        consumer.setNamesrvAddr(nameServer());
        consumer.setInstanceName(UUID.randomUUID().toString());
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe("pulled5", "*");
        consumer.start();
        shutdowns.add(consumer::shutdown);
        List<String> got = new CopyOnWriteArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            consumer.poll(200).forEach(m -> got.add(body(m)));
            return got.size() >= 2;
        });
        // the rolled-back one never comes: polled for another 600 ms
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(3)).until(() -> {
            consumer.poll(100).forEach(m -> got.add(body(m)));
            return got.size() == 2;
        });
        assertThat(got).containsExactlyInAnyOrder("keep", "ask");
        assertThat(consumer.fetchMessageQueues("pulled5")).extracting(MessageQueue::getQueueId).contains(0, 1, 2, 3);
    }
}
