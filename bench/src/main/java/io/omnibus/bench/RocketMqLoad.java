package io.omnibus.bench;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * RocketMQ send and consume with RocketMQ's own client (4.9.x), flat out: producers sending asynchronously with a
 * window of unanswered sends each, then one push consumer reading everything back from the first offset.
 * {@code java -cp bench/target/benchmarks.jar io.omnibus.bench.RocketMqLoad 127.0.0.1:9876 2 50000 1024 64}
 * (name server, producers, messages each, body bytes, window per producer). Lossless check: the consumer must get
 * every message. Works against Apache RocketMQ too (its name server address).
 */
public final class RocketMqLoad {
    private RocketMqLoad() {
    }

    public static void main(String[] args) throws Exception {
        String nameServer = args[0];
        int producers = Integer.parseInt(args[1]);
        int each = Integer.parseInt(args[2]);
        int size = Integer.parseInt(args[3]);
        int window = Integer.parseInt(args[4]);
        String topic = "bench-" + Long.toHexString(System.nanoTime());
        long total = (long) producers * each;
        byte[] body = new byte[size];

        List<DefaultMQProducer> clients = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            DefaultMQProducer producer = new DefaultMQProducer("bench-producer");
            producer.setNamesrvAddr(nameServer);
            producer.setInstanceName(UUID.randomUUID().toString());
            producer.setCompressMsgBodyOverHowmuch(Integer.MAX_VALUE);
            producer.start();
            producer.send(new Message(topic, body)); // route and connection warm (not counted)
            clients.add(producer);
        }
        AtomicLong failed = new AtomicLong();
        AtomicLong sent = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        Thread progress = new Thread(() -> { // a line a second while it sends
            long last = 0;
            while (sent.get() < total) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                long now = sent.get();
                System.out.printf("  %d / %d sent (%d/s)%n", now, total, now - last);
                last = now;
            }
        }, "progress");
        progress.setDaemon(true);
        progress.start();
        long began = System.nanoTime();
        for (DefaultMQProducer producer : clients) {
            Thread t = new Thread(() -> {
                Semaphore inflight = new Semaphore(window);
                for (int i = 0; i < each; i++) {
                    inflight.acquireUninterruptibly();
                    try {
                        producer.send(new Message(topic, body), new SendCallback() {
                            @Override
                            public void onSuccess(SendResult r) {
                                sent.incrementAndGet();
                                inflight.release();
                            }

                            @Override
                            public void onException(Throwable e) {
                                failed.incrementAndGet();
                                inflight.release();
                            }
                        });
                    } catch (Exception e) {
                        failed.incrementAndGet();
                        inflight.release();
                    }
                }
                inflight.acquireUninterruptibly(window);
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        double sendSeconds = (System.nanoTime() - began) / 1e9;
        System.out.printf("send: %d messages of %d bytes in %.2f s = %.0f msg/s (%.1f MB/s), %d failed%n", total, size,
                sendSeconds, total / sendSeconds, total * size / sendSeconds / 1e6, failed.get());
        clients.forEach(DefaultMQProducer::shutdown);

        long expected = total + producers; // the warm-up messages too
        AtomicLong got = new AtomicLong();
        CountDownLatch all = new CountDownLatch(1);
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("bench-consumer-" + Long.toHexString(System.nanoTime()));
        consumer.setNamesrvAddr(nameServer);
        consumer.setInstanceName(UUID.randomUUID().toString());
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.setPullBatchSize(32);
        consumer.setConsumeMessageBatchMaxSize(32);
        consumer.subscribe(topic, "*");
        consumer.setMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            if (got.addAndGet(msgs.size()) >= expected) {
                all.countDown();
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        long consumeBegan = System.nanoTime();
        consumer.start();
        boolean complete = all.await(10, TimeUnit.MINUTES);
        double consumeSeconds = (System.nanoTime() - consumeBegan) / 1e9;
        System.out.printf("consume: %d of %d messages in %.2f s = %.0f msg/s%s%n", got.get(), expected, consumeSeconds,
                got.get() / consumeSeconds, complete ? "" : " (INCOMPLETE)");
        consumer.shutdown();
        System.exit(complete && failed.get() == 0 ? 0 : 1);
    }
}
