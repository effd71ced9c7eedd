package io.omnibus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.SocketAddress;

/**
 * How MQTT packets reach a connection: decoded messages in, messages out, and the flow-control
 * handles. TCP puts netty-codec-mqtt in the socket's own pipeline; WebSocket runs the same codec
 * over the binary frames. Either way everything happens on the connection's context.
 */
interface MqttTransport {
    void start(Handler<Object> messages, Handler<Void> closed, Handler<Void> drained);

    Future<Void> write(MqttMessage message);

    boolean writeQueueFull();

    void pause();

    void resume();

    void close();

    SocketAddress remoteAddress();

    /** MQTT over TCP: the codec sits in the Netty pipeline in front of Vert.x's handler. */
    final class Tcp implements MqttTransport {
        private final NetSocketInternal socket;
        private final int maxPacketSize;

        Tcp(NetSocketInternal socket, int maxPacketSize) {
            this.socket = socket;
            this.maxPacketSize = maxPacketSize;
        }

        @Override
        public void start(Handler<Object> messages, Handler<Void> closed, Handler<Void> drained) {
            ChannelPipeline pipeline = socket.channelHandlerContext().pipeline();
            pipeline.addBefore("handler", "mqttEncoder", MqttEncoder.INSTANCE);
            pipeline.addBefore("handler", "mqttDecoder", new MqttDecoder(maxPacketSize, 65_535));
            socket.messageHandler(messages);
            socket.closeHandler(closed);
            socket.drainHandler(drained);
            socket.exceptionHandler(e -> MqttServer.LOG.debug("mqtt socket {}: {}", socket.remoteAddress(), e.toString()));
        }

        @Override
        public Future<Void> write(MqttMessage message) {
            return socket.writeMessage(message);
        }

        @Override
        public boolean writeQueueFull() {
            return socket.writeQueueFull();
        }

        @Override
        public void pause() {
            socket.pause();
        }

        @Override
        public void resume() {
            socket.resume();
        }

        @Override
        public void close() {
            socket.close();
        }

        @Override
        public SocketAddress remoteAddress() {
            return socket.remoteAddress();
        }
    }

    /**
     * MQTT over WebSocket (subprotocol {@code mqtt}): binary frames carry a byte stream, which an
     * embedded channel holding the same encoder and decoder turns into packets and back.
     */
    final class WebSocket implements MqttTransport {
        private final ServerWebSocket ws;
        private final EmbeddedChannel codec;

        WebSocket(ServerWebSocket ws, int maxPacketSize) {
            this.ws = ws;
            this.codec = new EmbeddedChannel(MqttEncoder.INSTANCE, new MqttDecoder(maxPacketSize, 65_535));
        }

        @Override
        public void start(Handler<Object> messages, Handler<Void> closed, Handler<Void> drained) {
            ws.handler(data -> {
                codec.writeInbound(Unpooled.wrappedBuffer(data.getBytes()));
                Object m;
                while ((m = codec.readInbound()) != null) {
                    messages.handle(m);
                }
            });
            ws.closeHandler(v -> {
                codec.finishAndReleaseAll();
                closed.handle(null);
            });
            ws.drainHandler(drained);
            ws.exceptionHandler(e -> MqttServer.LOG.debug("mqtt websocket {}: {}", ws.remoteAddress(), e.toString()));
        }

        @Override
        public Future<Void> write(MqttMessage message) {
            codec.writeOutbound(message);
            Future<Void> last = Future.succeededFuture();
            ByteBuf b;
            while ((b = codec.readOutbound()) != null) {
                try {
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes);
                    last = ws.writeBinaryMessage(Buffer.buffer(bytes));
                } finally {
                    b.release();
                }
            }
            return last;
        }

        @Override
        public boolean writeQueueFull() {
            return ws.writeQueueFull();
        }

        @Override
        public void pause() {
            ws.pause();
        }

        @Override
        public void resume() {
            ws.resume();
        }

        @Override
        public void close() {
            ws.close();
        }

        @Override
        public SocketAddress remoteAddress() {
            return ws.remoteAddress();
        }
    }
}
