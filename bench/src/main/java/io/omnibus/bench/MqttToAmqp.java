package io.omnibus.bench;

import jakarta.jms.Connection;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The IoT bridge under load: Paho MQTT publishers (QoS 1) to {@code bench/dev-N/temp}, Qpid JMS consumers on
 * the AMQP queue {@code bench/#}. At a fixed rate, latency is measured from each message's intended send time
 * (so a stalled sender does not hide the stall: no coordinated omission); rate 0 sends flat out.
 * <pre>java -cp bench/target/benchmarks.jar io.omnibus.bench.MqttToAmqp tcp://127.0.0.1:1883 amqp://127.0.0.1:5672 \
 *     4 5000 2000 256 [queue:bench/#]   # publishers, messages each, total rate per second (0 = flat out), payload
 *                                       # bytes, the AMQP source (queue:NAME, topic:NAME for a shared subscription
 *                                       # to a topic, or durable:NAME for a shared durable one: ActiveMQ Artemis
 *                                       # durable:bench.#)</pre>
 * Latencies go into an HdrHistogram; so do the PUBACKs' (from the same intended send time to the publisher's PUBACK:
 * the publish path alone, which tells a server's own delay from the consumer's). {@code CONSUMERS} competing consumers
 * (1 by default; {@link AmqpToAmqp#listen}) share the source: more than one, when one JMS session is the limit. An
 * unreported warm-up round of the same load comes first ({@code WARMUP} messages per publisher, default the same
 * count; 0 for none), so that both servers are measured warm.
 */
public final class MqttToAmqp {
    private MqttToAmqp() {
    }

    public static void main(String[] args) throws Exception {
        String mqtt = args[0];
        String amqp = args[1];
        int publishers = Integer.parseInt(args[2]);
        int each = Integer.parseInt(args[3]);
        int rate = Integer.parseInt(args[4]);
        int size = Math.max(16, Integer.parseInt(args[5]));
        String source = args.length > 6 ? args[6] : "queue:bench/#";
        // a first, unreported round of the same load: both servers (and the clients) are measured warm, as a running
        // service is; WARMUP=0 measures them cold
        int warmup = Integer.parseInt(System.getenv().getOrDefault("WARMUP", Integer.toString(each)));

        Connection jms = new JmsConnectionFactory(amqp + "?jms.prefetchPolicy.all=1000").createConnection();
        java.util.concurrent.atomic.AtomicReference<Round> current = new java.util.concurrent.atomic.AtomicReference<>();
        AmqpToAmqp.listen(jms, session -> source.startsWith("durable:")
                ? session.createSharedDurableConsumer(session.createTopic(source.substring(8)), "bench")
                : source.startsWith("topic:") // one shared subscription: competing consumers, not a copy each
                ? session.createSharedConsumer(session.createTopic(source.substring(6)), "bench")
                : session.createConsumer(session.createQueue(source.replaceFirst("^queue:", ""))),
                m -> current.get().arrived(m));
        jms.start();
        List<MqttAsyncClient> clients = new ArrayList<>();
        for (int p = 0; p < publishers; p++) { // all connected before the clock starts
            MqttAsyncClient c = new MqttAsyncClient(mqtt, "bench-dev-" + p + "-" + System.nanoTime(), new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMaxInflight(1000);
            c.connect(o).waitForCompletion();
            clients.add(c);
        }
        if (warmup > 0) {
            Round w = new Round(publishers * warmup, 0);
            current.set(w);
            String warm = w.run(clients, warmup, rate, size, "");
            if (!warm.contains("(lossless)")) { // a warm-up that lost messages is the finding: report it
                System.out.println(warm + " (in the warm-up round)");
                jms.close();
                System.exit(0);
            }
        }
        Round r = new Round(publishers * each, 1);
        current.set(r);
        String summary = r.run(clients, each, rate, size, "");
        System.out.println(summary + (warmup > 0 ? " (after a warm-up round of " + warmup + " each)" : " (cold)"));
        jms.close();
        System.exit(0);
    }

    /** One round: every publisher sends {@code each}, the consumer counts this round's arrivals. */
    private static final class Round {
        private final AmqpToAmqp.Arrivals arrivals;
        /** From each message's intended send time to its PUBACK: the publish path alone. */
        private final org.HdrHistogram.ConcurrentHistogram acked =
                new org.HdrHistogram.ConcurrentHistogram(TimeUnit.SECONDS.toNanos(300), 3);

        Round(int total, int round) {
            this.arrivals = new AmqpToAmqp.Arrivals(total, round);
        }

        /** On a JMS session's thread. */
        void arrived(jakarta.jms.Message m) {
            AmqpToAmqp.Arrivals.arrived(m, arrivals);
        }

        String run(List<MqttAsyncClient> clients, int each, int rate, int size, String label) throws InterruptedException {
            int publishers = clients.size();
            // at a rate, the first message is due 200 ms from now; flat out the publishers send at once, and the rate
            // counts from now (it counted from 200 ms later until 2026-12-07: a run of n seconds read n / (n - 0.2)
            // times too fast)
            long began = System.nanoTime() + (rate == 0 ? 0 : TimeUnit.MILLISECONDS.toNanos(200));
            long interval = rate == 0 ? 0 : TimeUnit.SECONDS.toNanos(1) * publishers / rate;
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < publishers; p++) {
                int id = p;
                int first = p * each;
                MqttAsyncClient c = clients.get(p);
                Thread t = new Thread(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            long intended = rate == 0 ? System.nanoTime() : began + i * interval + id * (interval / publishers);
                            long wait = intended - System.nanoTime();
                            if (wait > 0) {
                                LockSupport.parkNanos(wait);
                            }
                            byte[] payload = new byte[size];
                            arrivals.stamp(payload, first + i, intended);
                            MqttMessage m = new MqttMessage(payload);
                            m.setQos(1);
                            while (true) {
                                try {
                                    c.publish("bench/dev-" + id + "/temp", m, null, new IMqttActionListener() {
                                        @Override
                                        public void onSuccess(IMqttToken token) {
                                            acked.recordValue(Math.min(acked.getHighestTrackableValue(),
                                                    Math.max(0, System.nanoTime() - intended)));
                                        }

                                        @Override
                                        public void onFailure(IMqttToken token, Throwable e) {
                                        }
                                    });
                                    break;
                                } catch (org.eclipse.paho.client.mqttv3.MqttException full) {
                                    LockSupport.parkNanos(100_000); // max in-flight reached: wait for PUBACKs
                                }
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, "publisher-" + id);
                threads.add(t);
            }
            threads.forEach(Thread::start);
            boolean complete = arrivals.await(label);
            for (Thread t : threads) {
                t.join();
            }
            return String.format("%sMQTT QoS1 -> AMQP queue: %d publishers, %d messages of %d B, offered %s: %s; PUBACK ms "
                            + "p50 %.2f p99 %.2f", label, publishers, arrivals.total, size,
                    rate == 0 ? "flat out" : rate + "/s", arrivals.summary(began, complete),
                    acked.getValueAtPercentile(50) / 1e6, acked.getValueAtPercentile(99) / 1e6);
        }
    }
}
