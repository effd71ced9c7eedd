package io.omnibus.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fan-in with a load generator that can saturate a broker: Netty MQTT 3.1.1 publishers on one event loop, each
 * pipelining its PUBLISHes (QoS 0: as fast as the socket takes them; QoS 1: up to {@code window} unacknowledged),
 * one subscriber of {@code load/#} that answers PUBACKs and measures latency from each message's send time (in its
 * first eight bytes). Paho's publishers cap Mosquitto at about 16,000 msg/s here, so they measure themselves.
 * {@code java -cp bench/target/benchmarks.jar io.omnibus.bench.NettyMqttLoad tcp://127.0.0.1:1883 4 100000 1 64 [window]}
 * (publishers, messages each, QoS, payload bytes, in-flight window per publisher, default 1000).
 * Prints the same summary line as {@link MqttLoad}, with latency percentiles, for a round after an unreported warm-up
 * round of the same load ({@code WARMUP} messages per publisher, default the same count; 0 for none).
 * Fan-out: {@code SUBSCRIBERS=N} (default 1) subscribers, all on the subscriber event loop, each getting every message;
 * the rate is then of deliveries, and lost counts what any subscriber missed of what the publishers had accepted.
 * Each payload carries its send time, its publisher and its sequence number (16 bytes), so a subscriber counts each
 * message once: delivered and lost are of distinct messages, and copies delivered again are counted as duplicates.
 * {@code PERSISTENT=1}: the subscribers are persistent sessions (clean session 0, the same client ids in both rounds),
 * whose subscriptions are durable: every acknowledgement moves a stored cursor.
 */
public final class NettyMqttLoad {
    private final String host;
    private final int port;
    private final int qos;
    private final byte[] pad;
    private final int window;
    private final long total;
    private final int subscribers;
    private final AtomicLong accepted = new AtomicLong();
    private static final boolean PERSISTENT = "1".equals(System.getenv("PERSISTENT"));

    /** Distinct messages delivered, over all subscribers. */
    private final AtomicLong got = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private volatile long lastArrival;
    private final CountDownLatch all = new CountDownLatch(1);
    private final Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(120), 2);

    private NettyMqttLoad(String host, int port, int qos, int size, int window, long published, int subscribers) {
        this.host = host;
        this.port = port;
        this.qos = qos;
        this.pad = new byte[Math.max(0, size - 16)];
        this.window = window;
        this.subscribers = subscribers;
        this.total = published * subscribers;
    }

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        int publishers = Integer.parseInt(args[1]);
        int each = Integer.parseInt(args[2]);
        int qos = Integer.parseInt(args[3]);
        int size = Integer.parseInt(args[4]);
        int window = args.length > 5 ? Integer.parseInt(args[5]) : 1000;
        // a first, unreported round of the same load: both servers are measured warm (the JVM's JIT, the
        // broker's files and buffers), as a running service is; WARMUP=0 measures them cold. Three rounds' worth:
        // after one, the gateway's JIT compiler still took a third of its CPU in the measured round (bench/README.md)
        int warmup = Integer.parseInt(System.getenv().getOrDefault("WARMUP", Integer.toString(3 * each)));
        int subscribers = Integer.parseInt(System.getenv().getOrDefault("SUBSCRIBERS", "1"));
        // the subscriber has its own event loop, so the publishers never delay its reads
        EventLoopGroup subLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup pubLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            if (warmup > 0) {
                new NettyMqttLoad(uri.getHost(), uri.getPort(), qos, Math.max(16, size), window, (long) publishers * warmup,
                        subscribers).round(subLoop, pubLoop, publishers, warmup, "warm-up: ");
            }
            System.out.println(new NettyMqttLoad(uri.getHost(), uri.getPort(), qos, Math.max(16, size), window,
                    (long) publishers * each, subscribers).round(subLoop, pubLoop, publishers, each, "") + String.format(
                    " (netty load generator, window %d, after a warm-up round of %d each)", window, warmup));
        } finally {
            pubLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            subLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** One round: subscribe, publish, wait for every message (or 60 s); the summary line. */
    private String round(EventLoopGroup subLoop, EventLoopGroup pubLoop, int publishers, int each, String label)
            throws InterruptedException {
        CountDownLatch subscribed = new CountDownLatch(subscribers);
        java.util.List<Channel> subs = new java.util.ArrayList<>();
        for (int i = 0; i < subscribers; i++) {
            // PERSISTENT=1: each subscriber is a persistent session (clean session 0) that the measured round
            // resumes after the warm-up's, as a back end reconnects to its own
            String clientId = "load-sub-" + i + "-" + (PERSISTENT ? "persistent" : Long.toString(System.nanoTime()));
            subs.add(connect(subLoop, clientId, !PERSISTENT, new Subscriber(subscribed, publishers)));
        }
        if (!subscribed.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no SUBACK for " + subscribed.getCount() + " of " + subscribers);
        }
        Thread progress = Progress.start(label, got::get, total, accepted::get);
        long began = System.nanoTime();
        CountDownLatch published = new CountDownLatch(publishers);
        for (int p = 0; p < publishers; p++) {
            int index = p;
            connect(pubLoop, "load-pub-" + p + "-" + System.nanoTime(), true, new NettyMqttClient.Publisher("load/p" + p, qos,
                    window, each, (seq, at) -> Unpooled.buffer(16 + pad.length).writeLong(at).writeInt(index)
                            .writeInt(seq).writeBytes(pad), accepted, published, null));
        }
        published.await();
        long publishedAt = System.nanoTime();
        boolean complete = all.await(60, TimeUnit.SECONDS);
        long done = got.get() == 0 ? System.nanoTime() : lastArrival; // the rate up to the last arrival
        long lost = Math.max(0, accepted.get() * subscribers - got.get());
        for (Channel sub : subs) {
            sub.close().syncUninterruptibly();
        }
        progress.interrupt();
        return String.format("%spublishers=%d%s messages=%d qos=%d size=%d: published in %.2f s, received %d/%d in %.2f s:"
                        + " %.0f msg/s; accepted %d, delivered %d, lost %d, duplicates %d; latency p50 %.1f ms p99 %.1f ms"
                        + " max %.1f ms%s",
                label, publishers, subscribers > 1 ? " subscribers=" + subscribers : "", total, qos, pad.length + 16,
                (publishedAt - began) / 1e9, got.get(), total, (done - began) / 1e9, got.get() / ((done - began) / 1e9),
                accepted.get(), got.get(), lost, duplicates.get(),
                latency.getValueAtPercentile(50) / 1e6, latency.getValueAtPercentile(99) / 1e6,
                latency.getMaxValue() / 1e6, lost > 0 && qos > 0 ? "  (LOST: acknowledged messages did not arrive)"
                        : complete ? "" : "  (LOSS: not everything arrived)");
    }

    private Channel connect(EventLoopGroup loop, String clientId, boolean clean, NettyMqttClient.Session session) {
        return NettyMqttClient.connect(loop, host, port, clientId, clean, session);
    }

    private final class Subscriber extends NettyMqttClient.Session {
        private final CountDownLatch subscribed;
        /** By publisher, the sequence numbers this subscriber has had. */
        private final java.util.BitSet[] seen;

        Subscriber(CountDownLatch subscribed, int publishers) {
            this.subscribed = subscribed;
            this.seen = new java.util.BitSet[publishers];
            for (int i = 0; i < publishers; i++) {
                seen[i] = new java.util.BitSet();
            }
        }

        @Override
        void connected(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(MqttMessageBuilders.subscribe().messageId(1)
                    .addSubscription(MqttQoS.valueOf(qos), "load/#").build());
        }

        @Override
        void packet(ChannelHandlerContext ctx, MqttMessage msg) {
            switch (msg.fixedHeader().messageType()) {
                case SUBACK -> subscribed.countDown();
                case PUBLISH -> {
                    MqttPublishMessage p = (MqttPublishMessage) msg;
                    ByteBuf payload = p.payload();
                    int at = payload.readerIndex();
                    long sent = payload.getLong(at);
                    latency.recordValue(Math.max(0, Math.min(System.nanoTime() - sent, latency.getHighestTrackableValue())));
                    if (p.fixedHeader().qosLevel() == MqttQoS.AT_LEAST_ONCE) {
                        // flushed once per read batch (channelReadComplete)
                        ctx.write(MqttMessageBuilders.pubAck().packetId(p.variableHeader().packetId()).build());
                    }
                    lastArrival = System.nanoTime();
                    java.util.BitSet mine = seen[payload.getInt(at + 8)];
                    int seq = payload.getInt(at + 12);
                    if (mine.get(seq)) {
                        duplicates.incrementAndGet();
                    } else {
                        mine.set(seq);
                        if (got.incrementAndGet() == total) {
                            all.countDown();
                        }
                    }
                }
                default -> {
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }
}
