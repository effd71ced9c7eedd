package io.omnibus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

/**
 * Raw packets over a socket, for what real clients refuse to send (malformed, oversized, wildcards
 * in a topic name, packets before CONNECT) and for killing a connection without a DISCONNECT.
 */
final class RawMqtt implements AutoCloseable {
    private final Socket socket;
    /** Encoder and decoder share a channel, as in a Netty client: the CONNECT sent sets the version both use. */
    private final EmbeddedChannel codec = new EmbeddedChannel(MqttEncoder.INSTANCE, new MqttDecoder(1 << 20));

    RawMqtt(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(5_000);
    }

    void send(MqttMessage m) throws IOException {
        codec.writeOutbound(m);
        ByteBuf b;
        while ((b = codec.readOutbound()) != null) {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            b.release();
            sendBytes(bytes);
        }
    }

    /** An MQTT 5 CONNECT with clean start, keep alive 60 s and {@code props} (may be empty). */
    static io.netty.handler.codec.mqtt.MqttConnectMessage connect5(String clientId,
                                                                   io.netty.handler.codec.mqtt.MqttProperties props) {
        return io.netty.handler.codec.mqtt.MqttMessageBuilders.connect().clientId(clientId)
                .protocolVersion(io.netty.handler.codec.mqtt.MqttVersion.MQTT_5).cleanSession(true).keepAlive(60)
                .properties(props).build();
    }

    /** The packet's bytes, as Netty's encoder writes it. */
    static byte[] encode(MqttMessage m) {
        EmbeddedChannel ch = new EmbeddedChannel(MqttEncoder.INSTANCE);
        ch.writeOutbound(m);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            b.release();
            out.writeBytes(bytes);
        }
        ch.finishAndReleaseAll();
        return out.toByteArray();
    }

    void sendBytes(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
    }

    /** Everything the server sends until it closes the connection (or 5 s pass). */
    List<MqttMessage> readUntilClosed() throws IOException {
        List<MqttMessage> out = new ArrayList<>();
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                codec.writeInbound(io.netty.buffer.Unpooled.copiedBuffer(buf, 0, n));
                MqttMessage m;
                while ((m = codec.readInbound()) != null) {
                    out.add(m);
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection; it sent " + out);
        }
        return out;
    }

    /** Reads packets until {@code count} have arrived. */
    List<MqttMessage> read(int count) throws IOException {
        List<MqttMessage> out = new ArrayList<>();
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[4096];
        while (out.size() < count) {
            MqttMessage m;
            while (out.size() < count && (m = codec.readInbound()) != null) {
                out.add(m);
            }
            if (out.size() >= count) {
                break;
            }
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            codec.writeInbound(io.netty.buffer.Unpooled.copiedBuffer(buf, 0, n));
        }
        return out;
    }

    /** What arrives within {@code millis} (nothing, when the server is holding back). */
    List<MqttMessage> readWithin(int millis) throws IOException {
        List<MqttMessage> out = new ArrayList<>();
        MqttMessage m;
        while ((m = codec.readInbound()) != null) {
            out.add(m);
        }
        socket.setSoTimeout(millis);
        try {
            byte[] buf = new byte[4096];
            int n = socket.getInputStream().read(buf);
            if (n > 0) {
                codec.writeInbound(io.netty.buffer.Unpooled.copiedBuffer(buf, 0, n));
                while ((m = codec.readInbound()) != null) {
                    out.add(m);
                }
            }
        } catch (SocketTimeoutException quiet) {
            // nothing came
        } finally {
            socket.setSoTimeout(5_000);
        }
        return out;
    }

    /** Drops the TCP connection without a DISCONNECT packet. */
    void kill() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
        codec.finishAndReleaseAll();
    }
}
