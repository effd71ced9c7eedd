package io.omnibus.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.omnibus.core.spi.ListenerPort;
import io.omnibus.core.store.ServingNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/** What a standby passes on to the serving node: the client's bytes, after a PROXY header naming it when asked to. */
class StandbyForwarderTest {
    private final Vertx vertx = Vertx.vertx();
    private final Buffer received = Buffer.buffer();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static int freePort() throws Exception {
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return free.getLocalPort();
        }
    }

    /**
     * A started forwarder listening on {@code port}, passing connections on to {@code serving} (made to listen), whose
     * listener reads PROXY headers when {@code readsHeader}.
     */
    private StandbyForwarder forwarder(NetServer serving, boolean proxyHeader, boolean readsHeader, int port)
            throws Exception {
        int servingPort = serving.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
                .actualPort();
        StandbyForwarder forwarder = new StandbyForwarder(vertx,
                () -> new ServingNode("node-a", "127.0.0.1", Map.of("mqtt.port", servingPort)), true, proxyHeader);
        forwarder.start(Map.of("mqtt.port", new ListenerPort("port", "127.0.0.1", port, readsHeader)))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return forwarder;
    }

    /** Forwards one client, bound to 127.0.0.4, that sends "hello"; returns the client's port and the forwarder's. */
    private int[] forwardOne(boolean proxyHeader, boolean readsHeader) throws Exception {
        NetServer serving = vertx.createNetServer().connectHandler(s -> s.handler(b -> {
            synchronized (received) {
                received.appendBuffer(b);
            }
        }));
        int port = freePort();
        forwarder(serving, proxyHeader, readsHeader, port);
        Socket client = new Socket();
        client.bind(new InetSocketAddress("127.0.0.4", 0));
        client.connect(new InetSocketAddress("127.0.0.1", port));
        client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            synchronized (received) {
                return received.toString(StandardCharsets.ISO_8859_1).endsWith("hello");
            }
        });
        int clientPort = client.getLocalPort();
        client.close();
        return new int[] {clientPort, port};
    }

    @Test
    void withTheProxyProtocolTheServingNodeLearnsTheClient() throws Exception {
        int[] ports = forwardOne(true, true);
        EmbeddedChannel decoder = new EmbeddedChannel(new HAProxyMessageDecoder());
        synchronized (received) {
            decoder.writeInbound(Unpooled.wrappedBuffer(received.getBytes()));
        }
        HAProxyMessage header = decoder.readInbound();
        assertThat(header.command()).isEqualTo(HAProxyCommand.PROXY);
        assertThat(header.sourceAddress()).isEqualTo("127.0.0.4");
        assertThat(header.sourcePort()).isEqualTo(ports[0]);
        assertThat(header.destinationAddress()).isEqualTo("127.0.0.1");
        assertThat(header.destinationPort()).isEqualTo(ports[1]);
        header.release();
        ByteBuf rest = decoder.readInbound();
        assertThat(rest.toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
        rest.release();
        decoder.finishAndReleaseAll();
    }

    @Test
    void itCountsWhatItPassesOnAndClosesItWhenItStops() throws Exception {
        int port = freePort();
        StandbyForwarder forwarder = forwarder(vertx.createNetServer().connectHandler(s -> { }), false, true, port);
        try (Socket first = new Socket("127.0.0.1", port); Socket second = new Socket("127.0.0.1", port)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> forwarder.connections() == 2);
            first.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> forwarder.connections() == 1);
            forwarder.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            second.setSoTimeout(10_000);
            assertThat(second.getInputStream().read()).as("closed with the forwarder").isEqualTo(-1);
            await().atMost(Duration.ofSeconds(10)).until(() -> forwarder.connections() == 0);
        }
        assertThat(catchThrowable(() -> new Socket("127.0.0.1", port).close())).as("no longer listening").isNotNull();
    }

    @Test
    void withoutItTheBytesGoAsTheyCame() throws Exception {
        forwardOne(false, true);
        synchronized (received) {
            assertThat(received.toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
        }
    }

    @Test
    void aPortWhoseListenerReadsNoHeaderGetsNone() throws Exception { // MQTT's WebSocket port: an HTTP server
        forwardOne(true, false);
        synchronized (received) {
            assertThat(received.toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
        }
    }
}
