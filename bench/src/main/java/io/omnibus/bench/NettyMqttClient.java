package io.omnibus.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The Netty MQTT 3.1.1 connections of the load generators ({@link NettyMqttLoad}, {@link NettyMqttToAmqp}): a
 * connection, the packets after its CONNACK, and a publisher that pipelines its PUBLISHes.
 */
final class NettyMqttClient {
    private NettyMqttClient() {
    }

    /** Connects and sends CONNECT; the session gets the packets from CONNACK on. */
    static Channel connect(EventLoopGroup loop, String host, int port, String clientId, boolean clean, Session session) {
        return new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new MqttDecoder(1 << 20), MqttEncoder.INSTANCE, session);
                    }
                })
                .connect(host, port).addListener(f -> {
                    if (f.isSuccess()) {
                        Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                        ch.writeAndFlush(MqttMessageBuilders.connect().clientId(clientId).cleanSession(clean)
                                .protocolVersion(MqttVersion.MQTT_3_1_1).keepAlive(60).build());
                    } else {
                        System.err.println(clientId + ": " + f.cause());
                    }
                }).channel();
    }

    /** One MQTT connection's packets after CONNECT. */
    abstract static class Session extends SimpleChannelInboundHandler<MqttMessage> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, MqttMessage msg) {
            if (msg.decoderResult().isFailure()) {
                throw new IllegalStateException(msg.decoderResult().cause());
            }
            if (msg.fixedHeader().messageType() == MqttMessageType.CONNACK) {
                MqttConnectReturnCode code = ((MqttConnAckMessage) msg).variableHeader().connectReturnCode();
                if (code != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
                    throw new IllegalStateException("CONNACK " + code);
                }
                connected(ctx);
            } else {
                packet(ctx, msg);
            }
        }

        abstract void connected(ChannelHandlerContext ctx);

        abstract void packet(ChannelHandlerContext ctx, MqttMessage msg);

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            System.err.println("load generator connection: " + cause);
            ctx.close();
        }
    }

    /**
     * Publishes {@code each} messages to one topic as fast as the server takes them: at QoS 0 as fast as the socket
     * takes them, at QoS 1 up to {@code window} unacknowledged, each batch flushed once; or, with an
     * {@code interval} (nanoseconds), one message every interval from {@code began} (System.nanoTime), those due
     * sent every millisecond, each stamped with the time it was due, so that a server that makes the publisher wait
     * shows in the latency (no coordinated omission). {@code accepted} counts the messages written (QoS 0) or PUBACKed
     * (QoS 1); {@code published} is counted down once all are. With {@code acked} (QoS 1), each PUBACK's time from its
     * PUBLISH's send time (when it was due, at a rate), in nanoseconds.
     */
    static final class Publisher extends Session {
        private final String topic;
        private final int qos;
        private final int window;
        private final int each;
        private final Payload payload;
        private final long interval;
        private final long began;
        private final AtomicLong accepted;
        private final CountDownLatch published;
        private final LongConsumer acked;
        /** By packet id, its PUBLISH's send time: only with {@link #acked}. */
        private final long[] sentAt;
        private int sent;
        private int acks;
        private int nextId = 1;

        Publisher(String topic, int qos, int window, int each, Payload payload, AtomicLong accepted,
                CountDownLatch published, LongConsumer acked) {
            this(topic, qos, window, each, 0, 0, payload, accepted, published, acked);
        }

        /** At a rate: one message every {@code interval} nanoseconds from {@code began}. */
        Publisher(String topic, int qos, int window, int each, long interval, long began, Payload payload,
                AtomicLong accepted, CountDownLatch published, LongConsumer acked) {
            if (qos > 0 && (window < 1 || window > 65_535)) { // packet ids 1 to 65535, none reused while unanswered
                throw new IllegalArgumentException("window must be between 1 and 65535, got " + window);
            }
            this.interval = interval;
            this.began = began;
            this.topic = topic;
            this.qos = qos;
            this.window = window;
            this.each = each;
            this.payload = payload;
            this.accepted = accepted;
            this.published = published;
            this.acked = acked;
            this.sentAt = acked == null ? null : new long[65_536];
        }

        @Override
        void connected(ChannelHandlerContext ctx) {
            if (interval > 0) {
                ScheduledFuture<?>[] ticks = new ScheduledFuture<?>[1];
                ticks[0] = ctx.executor().scheduleAtFixedRate(() -> {
                    if (sent == each || !ctx.channel().isActive()) {
                        ticks[0].cancel(false);
                    } else {
                        send(ctx);
                    }
                }, 0, 1, TimeUnit.MILLISECONDS);
            } else {
                send(ctx);
            }
        }

        /** Sends what is due and the window (QoS 1) or the socket (QoS 0) allows, flushed once. */
        private void send(ChannelHandlerContext ctx) {
            int batch = 0;
            long now = System.nanoTime();
            int due = interval == 0 ? each : (int) Math.min(each, Math.max(0, Math.floorDiv(now - began, interval) + 1));
            while (sent < due && (qos == 0 ? ctx.channel().isWritable() && batch < 256 : sent - acks < window)) {
                long at = interval == 0 ? System.nanoTime() : began + sent * interval;
                MqttMessageBuilders.PublishBuilder b = MqttMessageBuilders.publish().topicName(topic)
                        .qos(MqttQoS.valueOf(qos)).retained(false).payload(payload.make(sent, at));
                if (qos > 0) {
                    b.messageId(nextId);
                    if (sentAt != null) {
                        sentAt[nextId] = at;
                    }
                    nextId = nextId == 65_535 ? 1 : nextId + 1;
                }
                ctx.write(b.build());
                sent++;
                batch++;
            }
            ctx.flush();
            if (qos == 0) {
                accepted.addAndGet(batch);
                if (sent == each) {
                    published.countDown();
                } else if (interval == 0 && ctx.channel().isWritable()) {
                    ctx.executor().execute(() -> send(ctx)); // let reads in between batches
                }
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (qos == 0 && interval == 0 && ctx.channel().isWritable() && sent < each) {
                send(ctx);
            }
        }

        @Override
        void packet(ChannelHandlerContext ctx, MqttMessage msg) {
            if (msg.fixedHeader().messageType() == MqttMessageType.PUBACK) {
                if (sentAt != null) {
                    int id = ((MqttMessageIdVariableHeader) msg.variableHeader()).messageId();
                    acked.accept(System.nanoTime() - sentAt[id]);
                }
                acks++;
                accepted.incrementAndGet();
                if (acks == each) {
                    published.countDown();
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (qos > 0 && sent < each) {
                send(ctx);
            }
        }
    }

    /** The payload of a publisher's message: its sequence number (0 to each - 1) and its send time (nanoTime). */
    interface Payload {
        ByteBuf make(int seq, long sentAt);
    }
}
