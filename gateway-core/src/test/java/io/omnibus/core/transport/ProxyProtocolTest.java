package io.omnibus.core.transport;

import io.omnibus.core.harness.TrustingTls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProxyProtocolTest {
    private static final byte[] MQTT_CONNECT = {0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00,
            0x01, 'c'};

    /** What the protocol's pipeline saw: whether it was activated, the bytes it read, and the client address then. */
    private static final class Protocol extends ChannelInboundHandlerAdapter {
        int activations;
        SocketAddress clientAtActivation;
        final ByteArrayOutputStream read = new ByteArrayOutputStream();

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            activations++;
            clientAtActivation = ProxyProtocol.clientAddress(ctx.channel());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            read.writeBytes(bytes);
            b.release();
        }
    }

    private final Protocol protocol = new Protocol();
    private final List<SocketAddress> setUpFor = new ArrayList<>();

    private EmbeddedChannel channel() {
        return new EmbeddedChannel(new ProxyProtocol.Header("test", ch -> {
            setUpFor.add(ProxyProtocol.clientAddress(ch));
            ch.pipeline().addLast(protocol);
        }));
    }

    private static ByteBuf bytes(String ascii) {
        return Unpooled.copiedBuffer(ascii, StandardCharsets.US_ASCII);
    }

    @Test
    void aVersion1HeaderNamesTheClientAndWhatFollowsGoesToTheProtocol() {
        EmbeddedChannel ch = channel();
        assertThat(protocol.activations).as("held back until the first bytes decide").isZero();
        ch.writeInbound(bytes("PROXY TCP4 203.0.113.7 10.0.0.1 42"));
        assertThat(setUpFor).isEmpty();
        ch.writeInbound(Unpooled.wrappedBuffer(bytes("42 1883\r\n"), Unpooled.wrappedBuffer(MQTT_CONNECT)));
        assertThat(setUpFor).containsExactly(new InetSocketAddress("203.0.113.7", 4242));
        assertThat(protocol.activations).isOne();
        assertThat(protocol.clientAtActivation).isEqualTo(new InetSocketAddress("203.0.113.7", 4242));
        assertThat(protocol.read.toByteArray()).isEqualTo(MQTT_CONNECT);
        assertThat(ch.pipeline().names()).doesNotContain("proxy-header", "proxy-decoder", "proxy-message");
        ch.writeInbound(bytes("more"));
        assertThat(protocol.read.toString(StandardCharsets.US_ASCII)).endsWith("more");
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aVersion2HeaderAsTheStandbyWritesItNamesAnIpv6Client() {
        EmbeddedChannel ch = channel();
        InetSocketAddress client = new InetSocketAddress("2001:db8::7", 50_000);
        byte[] header = ProxyProtocol.header(client, new InetSocketAddress("2001:db8::1", 1883));
        for (byte b : header) { // one byte at a time: every prefix waits for more
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        ch.writeInbound(Unpooled.wrappedBuffer(MQTT_CONNECT));
        assertThat(protocol.clientAtActivation).isEqualTo(client);
        assertThat(protocol.read.toByteArray()).isEqualTo(MQTT_CONNECT);
        ch.finish();
    }

    @Test
    void anIpv4ClientOfAnIpv6ListenerIsWrittenMapped() {
        EmbeddedChannel ch = channel();
        InetSocketAddress client = new InetSocketAddress("192.0.2.9", 1234);
        ch.writeInbound(Unpooled.wrappedBuffer(ProxyProtocol.header(client, new InetSocketAddress("::1", 1883))));
        ch.writeInbound(Unpooled.wrappedBuffer(MQTT_CONNECT));
        assertThat(((InetSocketAddress) protocol.clientAtActivation).getAddress().getHostAddress()).isEqualTo("192.0.2.9");
        assertThat(((InetSocketAddress) protocol.clientAtActivation).getPort()).isEqualTo(1234);
        ch.finish();
    }

    @Test
    void withoutAHeaderTheFirstByteThatDiffersHandsTheConnectionOnAtOnce() {
        EmbeddedChannel ch = channel();
        byte[] amqp = {'A', 'M', 'Q', 'P', 0, 1, 0, 0}; // and the client waits for the server's header
        ch.writeInbound(Unpooled.wrappedBuffer(amqp));
        assertThat(protocol.activations).isOne();
        assertThat(protocol.clientAtActivation).isEqualTo(ch.remoteAddress());
        assertThat(protocol.read.toByteArray()).isEqualTo(amqp);

        Protocol second = new Protocol();
        EmbeddedChannel other = new EmbeddedChannel(new ProxyProtocol.Header("test", c -> c.pipeline().addLast(second)));
        other.writeInbound(bytes("PRO")); // a prefix of "PROXY ": it waits
        assertThat(second.activations).isZero();
        other.writeInbound(bytes("BE"));
        assertThat(second.activations).isOne();
        assertThat(second.read.toString(StandardCharsets.US_ASCII)).isEqualTo("PROBE");
        ch.finish();
        other.finish();
    }

    @Test
    void aLocalHeaderKeepsTheProxysOwnAddress() {
        EmbeddedChannel ch = channel();
        // version 2, LOCAL (0x20), UNSPEC, no addresses: a proxy's own health check
        byte[] local = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00};
        ch.writeInbound(Unpooled.wrappedBuffer(local));
        ch.writeInbound(Unpooled.wrappedBuffer(MQTT_CONNECT));
        assertThat(protocol.clientAtActivation).isEqualTo(ch.remoteAddress());
        assertThat(protocol.read.toByteArray()).isEqualTo(MQTT_CONNECT);
        ch.finish();
    }

    @Test
    void aMalformedHeaderClosesTheConnectionBeforeTheProtocolSeesIt() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(bytes("PROXY TCP4 not-an-address 10.0.0.1 1 2\r\n"));
        assertThat(ch.isOpen()).isFalse();
        assertThat(setUpFor).isEmpty();
        assertThat(protocol.activations).isZero();
    }

    @Test
    void aSourceThatSendsNothingIsClosedAfterTheDeadline() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(bytes("PROXY TCP4 ")); // a header begun, not finished
        ch.advanceTimeBy(ProxyProtocol.HEADER_TIMEOUT_MS - 1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isTrue();
        ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(protocol.activations).isZero();
    }

    @Test
    void aSetupThatClosesTheConnectionGetsNoActivationNorBytes() {
        Protocol never = new Protocol();
        EmbeddedChannel ch = new EmbeddedChannel(new ProxyProtocol.Header("test", c -> {
            c.pipeline().addLast(never);
            c.close(); // e.g. the loopback-only safe default refusing the client the header named
        }));
        ch.writeInbound(Unpooled.wrappedBuffer(bytes("PROXY TCP4 203.0.113.7 10.0.0.1 4242 1883\r\n"),
                Unpooled.wrappedBuffer(MQTT_CONNECT)));
        assertThat(ch.isOpen()).isFalse();
        assertThat(never.activations).isZero();
        assertThat(never.read.size()).isZero();
    }

    // ---- the trusted sources ---------------------------------------------------------------------------------------

    @Test
    void sourcesAreAddressesAndCidrBlocks() {
        ProxyProtocol.Sources s = ProxyProtocol.Sources.of(List.of("10.0.0.0/8", "192.168.1.7", "fd00::/8", "172.16.0.0/12"));
        assertThat(s.trusts(new InetSocketAddress("10.200.3.4", 1))).isTrue();
        assertThat(s.trusts(new InetSocketAddress("11.0.0.1", 1))).isFalse();
        assertThat(s.trusts(new InetSocketAddress("192.168.1.7", 1))).isTrue();
        assertThat(s.trusts(new InetSocketAddress("192.168.1.8", 1))).isFalse();
        assertThat(s.trusts(new InetSocketAddress("172.31.255.255", 1))).isTrue();
        assertThat(s.trusts(new InetSocketAddress("172.32.0.0", 1))).isFalse();
        assertThat(s.trusts(new InetSocketAddress("fd12::1", 1))).isTrue();
        assertThat(s.trusts(new InetSocketAddress("fe80::1", 1))).isFalse();
        assertThat(s.trusts(new InetSocketAddress("::ffff:10.0.0.5", 1))).as("IPv4-mapped").isTrue();
        assertThat(s.trusts(null)).isFalse();
        assertThat(ProxyProtocol.Sources.of(List.of("0.0.0.0/0")).trusts(new InetSocketAddress("8.8.8.8", 1))).isTrue();
    }

    @Test
    void theGatewayNodesAreTrustedAsTheyComeAndGo() {
        List<String> nodes = new java.util.concurrent.CopyOnWriteArrayList<>(List.of("10.0.0.5"));
        ProxyProtocol.Sources alone = ProxyProtocol.Sources.withNodes(null, () -> nodes);
        assertThat(alone.trusts(new InetSocketAddress("10.0.0.5", 1))).isTrue();
        assertThat(alone.trusts(new InetSocketAddress("10.0.0.6", 1))).isFalse();
        nodes.add("10.0.0.6"); // a standby joined the nodes' group
        nodes.add("not an address"); // ignored
        assertThat(alone.trusts(new InetSocketAddress("10.0.0.6", 1))).isTrue();
        assertThat(alone.trusts(new InetSocketAddress("::ffff:10.0.0.6", 1))).as("IPv4-mapped").isTrue();
        nodes.remove("10.0.0.5"); // it left
        assertThat(alone.trusts(new InetSocketAddress("10.0.0.5", 1))).isFalse();
        nodes.add("::ffff:192.168.3.3"); // as a cluster may show an IPv4 member
        assertThat(alone.trusts(new InetSocketAddress("192.168.3.3", 1))).isTrue();
        assertThat(alone.toString()).isEqualTo("the gateway nodes");

        ProxyProtocol.Sources both = ProxyProtocol.Sources.withNodes(ProxyProtocol.Sources.of(List.of("172.16.0.0/12")),
                () -> nodes);
        assertThat(both.trusts(new InetSocketAddress("172.20.1.1", 1))).as("configured").isTrue();
        assertThat(both.trusts(new InetSocketAddress("10.0.0.6", 1))).as("a node").isTrue();
        assertThat(both.trusts(new InetSocketAddress("11.0.0.1", 1))).isFalse();
        assertThat(both.toString()).isEqualTo("172.16.0.0/12 and the gateway nodes");
    }

    @Test
    void theKeyTakesAListOrACommaSeparatedStringAndRefusesNames() {
        assertThat(ProxyProtocol.Sources.read(section(Map.of()), "proxy-protocol")).isNull();
        assertThat(ProxyProtocol.Sources.read(section(Map.of("proxy-protocol", List.of())), "proxy-protocol")).isNull();
        ProxyProtocol.Sources fromEnv = ProxyProtocol.Sources.read(section(Map.of("proxy-protocol", "10.0.0.0/8, 127.0.0.1")),
                "proxy-protocol");
        assertThat(fromEnv.trusts(new InetSocketAddress("127.0.0.1", 1))).isTrue();
        assertThat(fromEnv.trusts(new InetSocketAddress("10.9.9.9", 1))).isTrue();
        assertThatThrownBy(() -> ProxyProtocol.Sources.read(section(Map.of("proxy-protocol", List.of("lb.example.com"))),
                "proxy-protocol")).isInstanceOf(ConfigException.class).hasMessageContaining("mqtt.proxy-protocol")
                .hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> ProxyProtocol.Sources.read(section(Map.of("proxy-protocol", List.of("10.0.0.0/33"))),
                "proxy-protocol")).isInstanceOf(ConfigException.class).hasMessageContaining("0 to 32");
    }

    private static ConfigSection section(Map<String, Object> values) {
        return new ConfigSection("mqtt", values);
    }

    // ---- through a listener ------------------------------------------------------------------------------------

    /** The header comes before the TLS handshake (as HAProxy's send-proxy-v2 sends it): TLS starts after it. */
    @Test
    void onATlsListenerTheHeaderComesFirstAndTlsAfterIt() throws Exception {
        java.nio.file.Path examples = java.nio.file.Path.of(System.getProperty("omnibus.root", ".."))
                .resolve("config/examples/tls").toAbsolutePath().normalize();
        TlsConfig config = TlsConfig.read(new ConfigSection("test.tls", Map.of("enabled", true, "port", 0,
                "cert", examples.resolve("server.pem").toString(), "key", examples.resolve("server-key.pem").toString())), 0);
        Vertx vertx = Vertx.vertx();
        Tls tls = Tls.start(vertx, config, "test.tls");
        CompletableFuture<SocketAddress> client = new CompletableFuture<>();
        TcpListener listener = TcpListener.bind(vertx, "127.0.0.1", 0, tls, false, TcpListener.DEFAULT_WRITE_BUFFER,
                ProxyProtocol.Sources.of(List.of("127.0.0.1")), "test.tls", (ch, context) -> {
                    client.complete(ProxyProtocol.clientAddress(ch));
                    ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ctx.writeAndFlush(msg); // an echo, behind the TLS handler
                        }
                    });
                }).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
            raw.getOutputStream().write("PROXY TCP4 192.0.2.9 127.0.0.1 5555 8883\r\n".getBytes(StandardCharsets.US_ASCII));
            javax.net.ssl.SSLSocket secure = (javax.net.ssl.SSLSocket) TrustingTls.trusting(examples.resolve("ca.pem"))
                    .getSocketFactory().createSocket(raw, "localhost", listener.port(), true);
            secure.setSoTimeout(10_000);
            secure.startHandshake();
            secure.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            assertThat(secure.getInputStream().readNBytes(4)).isEqualTo("ping".getBytes(StandardCharsets.US_ASCII));
            assertThat(client.get(10, TimeUnit.SECONDS)).isEqualTo(new InetSocketAddress("192.0.2.9", 5555));
        } finally {
            listener.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            tls.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aListenerChecksTheClientAHeaderNamesNotTheProxy() throws Exception {
        Vertx vertx = Vertx.vertx();
        List<CompletableFuture<SocketAddress>> accepted = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            accepted.add(new CompletableFuture<>());
        }
        int[] next = {0};
        TcpListener listener = TcpListener.bind(vertx, "127.0.0.1", 0, null, true, TcpListener.DEFAULT_WRITE_BUFFER,
                ProxyProtocol.Sources.of(List.of("127.0.0.1")), "test",
                (Channel ch, io.vertx.core.internal.ContextInternal context) ->
                        accepted.get(next[0]++).complete(ProxyProtocol.clientAddress(ch)))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
            // a loopback client behind the trusted proxy: accepted, as that client
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
                s.getOutputStream().write("PROXY TCP4 127.0.0.5 127.0.0.1 4242 1883\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(accepted.get(0).get(10, TimeUnit.SECONDS)).isEqualTo(new InetSocketAddress("127.0.0.5", 4242));
            }
            // a remote client behind it: the loopback-only safe default closes the connection, the pipeline never made
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("PROXY TCP4 203.0.113.7 127.0.0.1 4242 1883\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(s.getInputStream().read()).isEqualTo(-1);
            }
            // the trusted source without a header: itself
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
                s.getOutputStream().write(MQTT_CONNECT);
                assertThat(accepted.get(1).get(10, TimeUnit.SECONDS))
                        .isEqualTo(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort()));
            }
            assertThat(accepted.get(2)).isNotDone();
        } finally {
            listener.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
