package io.omnibus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.omnibus.core.transport.AddressCounts;
import io.omnibus.core.transport.ProxyProtocol;

import java.util.List;
import java.util.Locale;

/**
 * MQTT over WebSocket on the adapter's shared TCP listeners ({@link io.omnibus.core.transport.Listeners}): TLS, the
 * PROXY protocol, the loopback-only safe default and the write buffer are theirs, as on the TCP port. The pipeline is
 * Netty's HTTP codec for the handshake, a gate that answers what it refuses with an HTTP status (404 for another path,
 * 403 for a browser page from an origin not allowed, 503 once the address has {@code max-connections-per-address}
 * open, counted with the TCP port's connections), Netty's WebSocket handshake (subprotocol {@code mqtt}, or
 * {@code mqttv3.1}), and then the binary frames' bytes into the same MQTT decoder and transport as TCP's
 * ({@link MqttNettyTransport}): an MQTT packet may span frames, and a frame may carry several packets.
 */
final class MqttWebSocket {
    /** The HTTP handshake request's most bytes (line, headers): browsers send well under 8 KiB. */
    private static final int HANDSHAKE_BYTES = 8192;

    private MqttWebSocket() {
    }

    /**
     * Sets up {@code ch}'s pipeline for MQTT over WebSocket at {@code path}; {@code counts} (null: no cap) are the
     * TCP listeners' per-address counts. The MQTT transport is added after it, as on TCP.
     */
    static void setUp(Channel ch, String path, int maxPacketSize, List<String> origins, AddressCounts counts) {
        ch.pipeline().addLast("http", new HttpServerCodec(4096, HANDSHAKE_BYTES, HANDSHAKE_BYTES))
                .addLast("handshake", new HttpObjectAggregator(HANDSHAKE_BYTES))
                .addLast("gate", new Gate(path, origins, counts))
                .addLast("websocket", new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                        // the gate let only the path itself through; a query string may follow it
                        .websocketPath(path).subprotocols("mqtt,mqttv3.1").checkStartsWith(true)
                        .maxFramePayloadLength(maxPacketSize + 16).handshakeTimeoutMillis(10_000)
                        // MQTT goes in binary frames; a text frame closes the connection (Frames), valid UTF-8 or
                        // not: no validator in each connection's pipeline
                        .withUTF8Validator(false).dropPongFrames(true).build()))
                .addLast("frames", new Frames());
    }

    /** Refuses a handshake with an HTTP status, or lets it on to the WebSocket handshake and steps aside. */
    private static final class Gate extends ChannelInboundHandlerAdapter {
        private final String path;
        private final List<String> origins;
        private final AddressCounts counts;

        Gate(String path, List<String> origins, AddressCounts counts) {
            this.path = path;
            this.origins = origins;
            this.counts = counts;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof FullHttpRequest request)) {
                ctx.fireChannelRead(msg);
                return;
            }
            Channel ch = ctx.channel();
            String origin = request.headers().get(HttpHeaderNames.ORIGIN);
            if (!new QueryStringDecoder(request.uri()).path().equals(path)) {
                refuse(ctx, request, HttpResponseStatus.NOT_FOUND);
            } else if (origin != null && !origins.isEmpty() && !origins.contains(origin.toLowerCase(Locale.ROOT))) {
                MqttServer.LOG.info("mqtt websocket from {}: Origin {} is not in mqtt.websocket.allowed-origins",
                        ProxyProtocol.clientAddress(ch), origin);
                refuse(ctx, request, HttpResponseStatus.FORBIDDEN);
            } else if (counts != null && !counts.admit(ch, "mqtt")) {
                refuse(ctx, request, HttpResponseStatus.SERVICE_UNAVAILABLE);
            } else {
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(request);
            }
        }

        private static void refuse(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status) {
            request.release();
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.EMPTY_BUFFER);
            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /**
     * Binary frames' bytes in (continuations too: a message may come in several frames), MQTT's bytes out as binary
     * frames. A text frame is not MQTT: the socket closes with 1003.
     */
    private static final class Frames extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof BinaryWebSocketFrame || msg instanceof ContinuationWebSocketFrame) {
                ctx.fireChannelRead(((WebSocketFrame) msg).content());
            } else if (msg instanceof WebSocketFrame frame) {
                frame.release();
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE))
                        .addListener(ChannelFutureListener.CLOSE);
            } else {
                io.netty.util.ReferenceCountUtil.release(msg); // an HTTP request the handshake did not take
                ctx.close();
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg instanceof ByteBuf bytes ? new BinaryWebSocketFrame(bytes) : msg, promise);
        }
    }
}
