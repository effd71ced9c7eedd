package io.omnibus.core.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import io.netty.util.NetUtil;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The PROXY protocol (HAProxy's, versions 1 and 2): a load balancer, or a standby gateway node passing a connection on,
 * tells in a header before the client's first byte whom the connection is for. A listener honours the header only
 * from the sources its {@code proxy-protocol} key trusts ({@link Sources}); from those, a connection may start with
 * one or go straight to its protocol. The client's address from the header is then the connection's address
 * everywhere ({@link #clientAddress}): the loopback-only safe default, {@code max-connections-per-address}, login
 * throttling, the logs and the connection listings. Decoding is Netty's ({@link HAProxyMessageDecoder}).
 *
 * <p>No protocol the gateway serves starts with either header's first bytes (MQTT's CONNECT, AMQP's and TLS's
 * headers, Kafka's and RocketMQ's frame lengths), so the first byte that differs decides: a client that sends a few
 * bytes and waits for the server's (AMQP) is not kept waiting.
 */
public final class ProxyProtocol {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProxyProtocol.class);

    /** The client's address as a trusted proxy's header gave it; set only on connections that came with a header. */
    private static final AttributeKey<InetSocketAddress> CLIENT = AttributeKey.valueOf("omnibus.proxied-client");
    private static final byte[] V1 = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    /** How long a trusted source may take to send its header (or its protocol's first byte). */
    static final long HEADER_TIMEOUT_MS = 10_000;

    private ProxyProtocol() {
    }

    /**
     * The address of the client at the other end of {@code ch}: the one a trusted proxy's header named, else the
     * channel's own remote address.
     */
    public static SocketAddress clientAddress(Channel ch) {
        InetSocketAddress proxied = proxiedClient(ch);
        return proxied != null ? proxied : ch.remoteAddress();
    }

    /** The client a trusted proxy's header named for {@code ch}, or null. */
    static InetSocketAddress proxiedClient(Channel ch) {
        return ch.hasAttr(CLIENT) ? ch.attr(CLIENT).get() : null;
    }

    /** Gives {@code ch} the client a header named for the channel it takes over ({@link ParkedChannel}). */
    static void nameClient(Channel ch, InetSocketAddress client) {
        ch.attr(CLIENT).set(client);
    }

    /**
     * A version 2 header saying that {@code client} connected to {@code server} (both IPv4 or both IPv6; mixed, the
     * IPv4 one is written as IPv4-mapped IPv6), for a connection passed on to a listener that trusts this node.
     */
    public static byte[] header(InetSocketAddress client, InetSocketAddress server) {
        InetAddress from = client.getAddress();
        InetAddress to = server.getAddress();
        boolean v4 = from instanceof Inet4Address && to instanceof Inet4Address;
        HAProxyMessage message = new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6, literal(from, v4), literal(to, v4),
                client.getPort(), server.getPort());
        EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        try {
            encoder.writeOutbound(message);
            ByteBuf out = encoder.readOutbound();
            try {
                byte[] bytes = new byte[out.readableBytes()];
                out.readBytes(bytes);
                return bytes;
            } finally {
                out.release();
            }
        } finally {
            encoder.finishAndReleaseAll();
        }
    }

    private static String literal(InetAddress a, boolean v4) {
        if (v4 || !(a instanceof Inet4Address)) {
            return NetUtil.toAddressString(a);
        }
        return "::ffff:" + a.getHostAddress();
    }

    // ---- the trusted sources -----------------------------------------------------------------------------------

    /**
     * The addresses and networks (CIDR blocks) whose PROXY headers a listener honours, and the gateway nodes that
     * pass connections on to this one with a header ({@link #withNodes}).
     */
    public static final class Sources {
        private final List<byte[]> networks;
        private final int[] prefixes;
        private final List<String> given;
        /** The nodes' IP addresses as they are now; null for none. */
        private final java.util.function.Supplier<? extends java.util.Collection<String>> nodes;

        private Sources(List<byte[]> networks, int[] prefixes, List<String> given,
                        java.util.function.Supplier<? extends java.util.Collection<String>> nodes) {
            this.networks = networks;
            this.prefixes = prefixes;
            this.given = given;
            this.nodes = nodes;
        }

        /**
         * {@code configured} (null: none) and the gateway nodes whose addresses {@code nodes} gives when a
         * connection comes (IP literals; anything else is ignored): the nodes change as they join and leave.
         */
        public static Sources withNodes(Sources configured,
                                        java.util.function.Supplier<? extends java.util.Collection<String>> nodes) {
            return configured == null ? new Sources(List.of(), new int[0], List.of(), nodes)
                    : new Sources(configured.networks, configured.prefixes, configured.given, nodes);
        }

        /**
         * Reads {@code key} of {@code s}: a list of IP addresses and CIDR blocks ({@code 10.0.0.0/8},
         * {@code fd00::/8}), or one string of them separated by commas (as an environment variable gives it); null
         * when the key is absent or empty (no header is honoured).
         */
        public static Sources read(ConfigSection s, String key) {
            Object v = s.raw(key);
            List<String> items = new ArrayList<>();
            if (v instanceof List<?> list) {
                for (Object o : list) {
                    if (o == null || o instanceof Map || o instanceof List) {
                        throw new ConfigException(s.keyOf(key), "expected a list of IP addresses and CIDR blocks");
                    }
                    items.add(String.valueOf(o).trim());
                }
            } else if (v instanceof Map) {
                throw new ConfigException(s.keyOf(key), "expected a list of IP addresses and CIDR blocks");
            } else if (v != null && !Boolean.FALSE.equals(v)) {
                for (String part : String.valueOf(v).split(",")) {
                    if (!part.isBlank()) {
                        items.add(part.trim());
                    }
                }
            }
            if (items.isEmpty()) {
                return null;
            }
            try {
                return of(items);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.keyOf(key), e.getMessage());
            }
        }

        /** The sources {@code items} name (addresses and CIDR blocks, literals only: no name is looked up). */
        public static Sources of(List<String> items) {
            List<byte[]> networks = new ArrayList<>();
            int[] prefixes = new int[items.size()];
            for (int i = 0; i < items.size(); i++) {
                String item = items.get(i);
                int slash = item.indexOf('/');
                String host = slash < 0 ? item : item.substring(0, slash);
                byte[] address = NetUtil.createByteArrayFromIpAddressString(host);
                if (address == null) {
                    throw new IllegalArgumentException("'" + item + "' is not an IP address or a CIDR block");
                }
                int prefix = address.length * 8;
                if (slash >= 0) {
                    try {
                        prefix = Integer.parseInt(item.substring(slash + 1));
                    } catch (NumberFormatException e) {
                        prefix = -1;
                    }
                    if (prefix < 0 || prefix > address.length * 8) {
                        throw new IllegalArgumentException("'" + item + "': the prefix length must be 0 to "
                                + address.length * 8);
                    }
                }
                networks.add(address);
                prefixes[i] = prefix;
            }
            return new Sources(List.copyOf(networks), prefixes, List.copyOf(items), null);
        }

        /** Whether a header from {@code remote} is honoured (an IPv4-mapped IPv6 address counts as its IPv4 one). */
        public boolean trusts(SocketAddress remote) {
            if (!(remote instanceof InetSocketAddress a) || a.getAddress() == null) {
                return false;
            }
            byte[] address = a.getAddress().getAddress();
            if (ipv4Mapped(address)) {
                address = java.util.Arrays.copyOfRange(address, 12, 16);
            }
            for (int i = 0; i < networks.size(); i++) {
                if (within(address, networks.get(i), prefixes[i])) {
                    return true;
                }
            }
            if (nodes != null) {
                for (String node : nodes.get()) {
                    byte[] n = NetUtil.createByteArrayFromIpAddressString(node);
                    if (n != null && ipv4Mapped(n)) {
                        n = java.util.Arrays.copyOfRange(n, 12, 16);
                    }
                    if (n != null && java.util.Arrays.equals(address, n)) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** {@code ::ffff:a.b.c.d} */
        private static boolean ipv4Mapped(byte[] a) {
            if (a.length != 16 || a[10] != (byte) 0xFF || a[11] != (byte) 0xFF) {
                return false;
            }
            for (int i = 0; i < 10; i++) {
                if (a[i] != 0) {
                    return false;
                }
            }
            return true;
        }

        private static boolean within(byte[] address, byte[] network, int prefix) {
            if (address.length != network.length) {
                return false;
            }
            int whole = prefix / 8;
            for (int i = 0; i < whole; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return rest == 0 || (address[whole] & mask) == (network[whole] & mask);
        }

        @Override
        public String toString() {
            String listed = String.join(", ", given);
            return nodes == null ? listed : listed.isEmpty() ? "the gateway nodes" : listed + " and the gateway nodes";
        }
    }

    // ---- the header on an accepted connection ------------------------------------------------------------------

    /**
     * First in the pipeline of a connection from a trusted source: holds back the channel's activation until the
     * first bytes tell whether a PROXY header comes; then sets the client's address (when one came), runs
     * {@code rest} (the listener's checks and the adapter's pipeline), activates the channel and hands on what
     * followed the header.
     */
    static final class Header extends ChannelInboundHandlerAdapter {
        private final String listener;
        private final java.util.function.Consumer<Channel> rest;
        private ByteBuf first;
        private ScheduledFuture<?> deadline;
        /** A header came: Netty's decoder has it now, and the deadline goes on to {@link Message}. */
        private boolean decoding;

        Header(String listener, java.util.function.Consumer<Channel> rest) {
            this.listener = listener;
            this.rest = rest;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            deadline = ctx.executor().schedule(() -> {
                LOG.info("{}: closing {}: no PROXY header nor protocol bytes within {} ms", listener,
                        ctx.channel().remoteAddress(), HEADER_TIMEOUT_MS);
                ctx.close();
            }, HEADER_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (!decoding) {
                deadline.cancel(false);
            }
            if (first != null) {
                first.release();
                first = null;
            }
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // held back: the connection is the client's once its address is known (proceed)
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // closed before it was anybody's: nothing downstream knows of it
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            if (first == null) {
                first = in;
            } else {
                ByteBuf both = ctx.alloc().buffer(first.readableBytes() + in.readableBytes());
                both.writeBytes(first).writeBytes(in);
                first.release();
                in.release();
                first = both;
            }
            int v1 = matched(first, V1);
            int v2 = matched(first, V2);
            if (v1 < 0 && v2 < 0) { // the protocol's own first bytes
                ByteBuf bytes = first;
                first = null;
                proceed(ctx, bytes);
            } else if (v1 == V1.length || v2 == V2.length) {
                ByteBuf bytes = first;
                first = null;
                decoding = true;
                ctx.pipeline().addAfter(ctx.name(), "proxy-message", new Message(listener, rest, deadline));
                ctx.pipeline().replace(this, "proxy-decoder", new HAProxyMessageDecoder());
                // fired from a replaced handler's context, an event goes to its replacement (Netty relinks it): the
                // decoder takes the header, hands the message on, then passes on what followed and leaves
                ctx.fireChannelRead(bytes);
            }
            // else a prefix of a header so far: more bytes decide
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // read completion is the protocol's business once the connection is its own
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.info("{}: closing {}: {}", listener, ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }

        /** -1 when {@code buf} does not start as {@code signature} does, else how many of its bytes it has so far. */
        private static int matched(ByteBuf buf, byte[] signature) {
            int n = Math.min(buf.readableBytes(), signature.length);
            for (int i = 0; i < n; i++) {
                if (buf.getByte(buf.readerIndex() + i) != signature[i]) {
                    return -1;
                }
            }
            return n;
        }

        private void proceed(ChannelHandlerContext ctx, ByteBuf bytes) {
            deadline.cancel(false);
            start(ctx, rest);
            if (ctx.channel().isActive()) {
                ctx.fireChannelRead(bytes);
                ctx.fireChannelReadComplete();
            } else {
                bytes.release();
            }
            ctx.pipeline().remove(this);
        }
    }

    /** Takes the decoded header, sets the client's address from it, and lets the connection start. */
    private static final class Message extends ChannelInboundHandlerAdapter {
        private final String listener;
        private final java.util.function.Consumer<Channel> rest;
        private final ScheduledFuture<?> deadline;

        Message(String listener, java.util.function.Consumer<Channel> rest, ScheduledFuture<?> deadline) {
            this.listener = listener;
            this.rest = rest;
            this.deadline = deadline;
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            deadline.cancel(false);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HAProxyMessage m)) {
                // what followed the header, on a connection the setup closed: nobody's (the decoder hands the header
                // on first, and this handler leaves once the connection is the protocol's)
                io.netty.util.ReferenceCountUtil.release(msg);
                return;
            }
            try {
                // LOCAL (the proxy's own health check) and UNKNOWN or Unix-socket sources keep the proxy's address
                if (m.command() == HAProxyCommand.PROXY && m.sourceAddress() != null
                        && (m.proxiedProtocol() == HAProxyProxiedProtocol.TCP4
                        || m.proxiedProtocol() == HAProxyProxiedProtocol.TCP6)) {
                    // a literal the decoder checked: nothing is looked up
                    InetAddress source = NetUtil.createInetAddressFromIpAddressString(m.sourceAddress());
                    ctx.channel().attr(CLIENT).set(new InetSocketAddress(source, m.sourcePort()));
                }
            } finally {
                m.release();
            }
            start(ctx, rest);
            if (ctx.channel().isActive()) {
                ctx.pipeline().remove(this);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // the bytes after the header come on their own (the decoder passes them on as it leaves)
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.info("{}: closing {}: bad PROXY header: {}", listener, ctx.channel().remoteAddress(), cause.getMessage());
            ctx.close();
        }
    }

    /** Sets up the rest of the pipeline behind {@code ctx} and activates it, unless the setup closed the channel. */
    private static void start(ChannelHandlerContext ctx, java.util.function.Consumer<Channel> rest) {
        rest.accept(ctx.channel());
        if (ctx.channel().isActive()) {
            ctx.fireChannelActive();
        }
    }
}
