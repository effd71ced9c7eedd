package io.omnibus.bench;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The IoT bridge with a load generator that can saturate a broker: Netty MQTT 3.1.1 publishers (QoS 1, up to
 * {@code WINDOW} unacknowledged each, 1,000 by default, on one event loop; flat out, or at a total rate with each
 * message stamped with the time it was due) to {@code bench/dev-N/temp}, and
 * {@code CONSUMERS} AMQP receivers (4 by default, {@link ProtonLoad#receivers}: a connection each, {@code PREFETCH}
 * credit each, 1,000 by default) competing for one source. {@link MqttToAmqp} does the same with Paho and Qpid JMS,
 * whose sessions hand each message between threads four times and stopped at 9-12k msg/s a session on this machine.
 * <pre>java -cp bench/target/benchmarks.jar io.omnibus.bench.NettyMqttToAmqp tcp://127.0.0.1:1883 amqp://127.0.0.1:5672 \
 *     4 50000 0 64 [queue:bench/#]   # publishers, messages each, total rate per second (0 = flat out), payload
 *                                    # bytes, the AMQP source: queue:ADDRESS (a queue), or fqqn:ADDRESS::QUEUE (a
 *                                    # durable subscription queue on a topic, by its name; ActiveMQ Artemis:
 *                                    # fqqn:bench.#::bench)</pre>
 * Counts as {@link AmqpToAmqp.Arrivals} does (distinct messages, duplicates, another round's), latency from each
 * message's send time (when it was due, at a rate), PUBACK latency from the same time. An unreported warm-up round of the same load comes first
 * ({@code WARMUP} messages per publisher, default the same count; 0 for none). The summary line is
 * {@link MqttToAmqp}'s.
 */
public final class NettyMqttToAmqp {
    private NettyMqttToAmqp() {
    }

    public static void main(String[] args) {
        Rounds.exitAfter(() -> run(args));
    }

    private static void run(String[] args) throws Exception {
        URI mqtt = URI.create(args[0]);
        URI amqp = URI.create(args[1]);
        int publishers = Integer.parseInt(args[2]);
        int each = Integer.parseInt(args[3]);
        int rate = Integer.parseInt(args[4]);
        int size = Math.max(16, Integer.parseInt(args[5]));
        String source = args.length > 6 ? args[6] : "queue:bench/#";
        int warmup = Integer.parseInt(System.getenv().getOrDefault("WARMUP", Integer.toString(each)));
        int consumers = Integer.parseInt(System.getenv().getOrDefault("CONSUMERS", "4"));
        int prefetch = Integer.parseInt(System.getenv().getOrDefault("PREFETCH", "1000"));
        int window = Integer.parseInt(System.getenv().getOrDefault("WINDOW", "1000"));

        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.min(consumers, 2)));
        AtomicReference<AmqpToAmqp.Arrivals> current = ProtonLoad.receivers(vertx, amqp, source, consumers, prefetch);
        EventLoopGroup pubLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Rounds.warmThenMeasure(warmup, each, String.format("netty publishers, window %d; %d proton receivers, "
                    + "prefetch %d", window, consumers, prefetch),
                    (count, number) -> round(pubLoop, mqtt, publishers, count, rate, size, window, number, current));
        } finally {
            pubLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** One round: every publisher sends {@code each}; waits for every message at the receivers; the summary line. */
    private static String round(EventLoopGroup pubLoop, URI mqtt, int publishers, int each, int rate, int size,
            int window, int number, AtomicReference<AmqpToAmqp.Arrivals> current) throws InterruptedException {
        AmqpToAmqp.Arrivals arrivals = new AmqpToAmqp.Arrivals(publishers * each, number);
        current.set(arrivals);
        org.HdrHistogram.Histogram acked = new org.HdrHistogram.Histogram(TimeUnit.SECONDS.toNanos(300), 3);
        AtomicLong accepted = new AtomicLong();
        CountDownLatch published = new CountDownLatch(publishers);
        // at a rate, the first message is due once the publishers have had their CONNACKs; flat out they send from
        // their CONNACKs, and the rate counts from now
        long began = System.nanoTime() + (rate == 0 ? 0 : TimeUnit.MILLISECONDS.toNanos(200));
        long interval = rate == 0 ? 0 : TimeUnit.SECONDS.toNanos(1) * publishers / rate;
        List<Channel> channels = new ArrayList<>();
        for (int p = 0; p < publishers; p++) {
            int first = p * each;
            channels.add(NettyMqttClient.connect(pubLoop, mqtt.getHost(), mqtt.getPort(),
                    "bench-dev-" + p + "-" + System.nanoTime(), true, new NettyMqttClient.Publisher(
                            "bench/dev-" + p + "/temp", 1, window, each, interval, began + p * (interval / publishers),
                            (seq, at) -> {
                                byte[] payload = new byte[size];
                                arrivals.stamp(payload, first + seq, at);
                                return Unpooled.wrappedBuffer(payload);
                            }, accepted, published,
                            took -> acked.recordValue(Math.min(acked.getHighestTrackableValue(), Math.max(0, took))))));
        }
        boolean complete = arrivals.await("");
        String delivered = arrivals.summary(began, complete); // the rate up to now, the last arrival
        published.await(30, TimeUnit.SECONDS); // the PUBACKs, read on the publishers' loop, seen here after it
        for (Channel c : channels) {
            c.close().syncUninterruptibly();
        }
        return pubLoop.submit(() -> {
            long missing = (long) publishers * each - accepted.get();
            return String.format("MQTT QoS1 -> AMQP queue: %d publishers, %d messages of %d B, offered %s: %s; PUBACK ms "
                            + "p50 %.2f p99 %.2f%s", publishers, arrivals.total, size, rate == 0 ? "flat out" : rate + "/s",
                    delivered, acked.getValueAtPercentile(50) / 1e6, acked.getValueAtPercentile(99) / 1e6,
                    missing > 0 ? "; PUBACKs missing " + missing : "");
        }).syncUninterruptibly().getNow();
    }
}
