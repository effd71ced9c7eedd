package io.omnibus.core.transport;

import io.netty.channel.Channel;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.AdapterContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An adapter's listeners: a plain port, a TLS port, or both, serving the same pipeline. Every adapter reads
 * its {@code host}, {@code port} and {@code tls} keys with {@link #read} and binds with {@link #bind}.
 */
public final class Listeners {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Listeners.class);
    /**
     * @param host where both listen
     * @param port the plain port, or -1 ({@code port: off}) for none
     * @param tls  the TLS listener, or null for none
     * @param writeBuffer bytes written to a connection and not yet sent before the adapter stops writing to it
     * @param proxies     the sources whose PROXY headers name the client ({@code proxy-protocol}), or null for none
     */
    public record Config(String host, int port, TlsConfig tls, int maxConnectionsPerAddress, int writeBuffer,
                         ProxyProtocol.Sources proxies) {
        public Config(String host, int port, TlsConfig tls) {
            this(host, port, tls, 0, TcpListener.DEFAULT_WRITE_BUFFER, null);
        }

        /** The ports configured, under the names the adapter's status gives them ({@code port}, {@code tls-port}). */
        public java.util.List<io.omnibus.core.spi.ListenerPort> ports() {
            java.util.List<io.omnibus.core.spi.ListenerPort> out = new java.util.ArrayList<>();
            if (port >= 0) {
                out.add(new io.omnibus.core.spi.ListenerPort("port", host, port, true));
            }
            if (tls != null) {
                out.add(new io.omnibus.core.spi.ListenerPort("tls-port", host, tls.port(), true));
            }
            return out;
        }
    }

    /** The keys {@link #read} reads, for an adapter's list of known keys. */
    public static final java.util.Set<String> KEYS = java.util.Set.of("host", "port", "tls", "max-connections-per-address",
            "write-buffer", "proxy-protocol");

    /** An adapter's known keys: the listener's ({@link #KEYS}) and its own. */
    public static java.util.Set<String> keysWith(String... own) {
        java.util.Set<String> all = new java.util.HashSet<>(KEYS);
        all.addAll(java.util.List.of(own));
        return java.util.Set.copyOf(all);
    }

    private final TcpListener plain;
    private final TcpListener secure;
    private final Tls tls;
    private final AddressCounts counts;

    private Listeners(TcpListener plain, TcpListener secure, Tls tls, AddressCounts counts) {
        this.counts = counts;
        this.plain = plain;
        this.secure = secure;
        this.tls = tls;
    }

    /**
     * Reads {@code host}, {@code port} ("off" for no plain listener), the {@code tls} section of {@code s},
     * {@code max-connections-per-address}, {@code write-buffer} and {@code proxy-protocol} (the addresses and CIDR
     * blocks of the load balancers or gateway nodes whose PROXY headers name the client).
     */
    public static Config read(ConfigSection s, int defaultPort, int defaultTlsPort) {
        return read(s, defaultPort, defaultTlsPort, true);
    }

    /** As {@link #read(ConfigSection, int, int)}, without a per-address cap when {@code capped} is false (admin). */
    public static Config read(ConfigSection s, int defaultPort, int defaultTlsPort, boolean capped) {
        int port = portOrOff(s, "port", defaultPort);
        TlsConfig tls = TlsConfig.read(s.section("tls"), defaultTlsPort);
        if (port < 0 && tls == null) {
            throw new ConfigException(s.keyOf("port"), "is off and TLS is not enabled: the adapter would have no listener "
                    + "(disable the adapter with 'enabled: false' instead)");
        }
        return new Config(s.getString("host", "0.0.0.0"), port, tls,
                capped ? s.getInt("max-connections-per-address", 0, 0, Integer.MAX_VALUE) : 0,
                (int) s.getSize("write-buffer", TcpListener.DEFAULT_WRITE_BUFFER, 4096, 64L << 20),
                capped ? ProxyProtocol.Sources.read(s, "proxy-protocol") : null);
    }

    /**
     * Binds the listeners of {@code config}; {@code name} (the config key, e.g. "mqtt") names them in errors and
     * logs. Under the safe default ({@link io.omnibus.core.spi.Authenticator#loopbackOnly()}) they accept loopback
     * clients only.
     */
    public static Future<Listeners> bind(AdapterContext ctx, Config config, String name, TcpListener.ChannelSetup setup) {
        Vertx vertx = ctx.vertx();
        // the key material is read from files: on a worker, not on the event loop that starts the adapter
        Future<Tls> loaded = config.tls() == null ? Future.succeededFuture(null)
                : vertx.executeBlocking(() -> Tls.start(vertx, config.tls(), name + ".tls"), false);
        ProxyProtocol.Sources proxies = ctx.proxyingNodes() == null ? config.proxies()
                : ProxyProtocol.Sources.withNodes(config.proxies(), ctx.proxyingNodes());
        return loaded.compose(tls -> bind(vertx, ctx.authenticator().loopbackOnly(), config, proxies, name, tls, setup));
    }

    private static Future<Listeners> bind(Vertx vertx, boolean loopbackOnly, Config config,
                                          ProxyProtocol.Sources proxies, String name, Tls tls,
                                          TcpListener.ChannelSetup setup) {
        AddressCounts counts = config.maxConnectionsPerAddress() > 0 ? new AddressCounts(config.maxConnectionsPerAddress())
                : null;
        TcpListener.ChannelSetup guarded = counts == null ? setup : capped(name, counts, setup);
        Future<TcpListener> plain = config.port() < 0 ? Future.succeededFuture(null)
                : TcpListener.bind(vertx, config.host(), config.port(), null, loopbackOnly, config.writeBuffer(),
                        proxies, name, guarded);
        if (tls != null) {
            plain = plain.onFailure(e -> tls.close()); // its reload timer goes with the listener that failed
        }
        return plain.compose(p -> tls == null ? Future.succeededFuture(new Listeners(p, null, null, counts))
                : TcpListener.bind(vertx, config.host(), config.tls().port(), tls, loopbackOnly, config.writeBuffer(),
                        proxies, name + ".tls", guarded)
                .map(s -> new Listeners(p, s, tls, counts))
                .recover(e -> {
                    tls.close();
                    return (p == null ? Future.<Void>succeededFuture() : p.close()).compose(v -> Future.failedFuture(e));
                }));
    }

    /** Closes a channel whose remote address already has its {@link AddressCounts} share, as soon as it is accepted. */
    private static TcpListener.ChannelSetup capped(String name, AddressCounts counts, TcpListener.ChannelSetup next) {
        return (ch, context) -> {
            if (counts.admit(ch, name)) {
                next.init(ch, context);
            } else {
                ch.close();
            }
        };
    }

    /**
     * A handler closing a channel that neither read nor wrote for {@code timeout} (put it first in the pipeline),
     * or null for a zero timeout. {@code name} says whose, in the log.
     */
    public static io.netty.channel.ChannelHandler idleTimeout(java.time.Duration timeout, String name) {
        if (timeout.isZero()) {
            return null;
        }
        return new io.netty.handler.timeout.IdleStateHandler(0, 0, timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS) {
            @Override
            protected void channelIdle(io.netty.channel.ChannelHandlerContext ctx, io.netty.handler.timeout.IdleStateEvent e) {
                LOG.info("{}: closing {}: silent for {} ({}.idle-timeout)", name, ProxyProtocol.clientAddress(ctx.channel()),
                        timeout, name);
                ctx.close();
            }
        };
    }

    /**
     * Whether a clear-text password (SASL PLAIN) may come over {@code ch}: it is TLS, or the client is on this
     * machine, or the configuration allows it ({@code allow-plain-without-tls}).
     */
    public static boolean plainAllowed(Channel ch, io.omnibus.core.spi.Authenticator authenticator) {
        return Tls.secure(ch) || loopback(ProxyProtocol.clientAddress(ch)) || authenticator.plainWithoutTls();
    }

    /** Whether {@code address} is a loopback address (a Unix socket counts as local too). */
    public static boolean loopback(java.net.SocketAddress address) {
        return !(address instanceof InetSocketAddress a) || a.getAddress() != null && a.getAddress().isLoopbackAddress();
    }

    private static final AtomicLong lastRefusalLog = new AtomicLong();

    /** Logs (at most once a minute) that a remote client was refused under the safe default. */
    static void refusedRemote(java.net.SocketAddress remote, int port) {
        long now = System.currentTimeMillis();
        long last = lastRefusalLog.get();
        if (now - last > 60_000 && lastRefusalLog.compareAndSet(last, now)) {
            LOG.warn("refused a client from {} on port {}: with no users configured only loopback clients are accepted; "
                    + "add users or set allow-anonymous: true (docs/security.md)", remote, port);
        }
    }

    /**
     * A port key that may also be {@code off} (-1: no listener there). YAML reads a bare {@code off} as false, and
     * an environment override gives the text: both mean off.
     */
    public static int portOrOff(ConfigSection s, String key, int defaultPort) {
        Object v = s.raw(key);
        if (Boolean.FALSE.equals(v) || v instanceof String t && (t.trim().equalsIgnoreCase("off")
                || t.trim().equalsIgnoreCase("false"))) {
            return -1;
        }
        return s.getPort(key, defaultPort);
    }

    /** The per-address counts of these listeners, for other listeners of the adapter to share; null without a cap. */
    public AddressCounts counts() {
        return counts;
    }

    /** The plain port bound, or -1. */
    public int port() {
        return plain == null ? -1 : plain.port();
    }

    /** The TLS port bound, or -1. */
    public int tlsPort() {
        return secure == null ? -1 : secure.port();
    }

    /** The port a client on {@code ch} is told to use (its own listener's), with {@code advertised} for plain ones. */
    public int advertisedPort(Channel ch, int advertised) {
        if (ch != null && Tls.secure(ch)) {
            return tls.config().advertisedPort() > 0 ? tls.config().advertisedPort() : tlsPort();
        }
        return advertised > 0 ? advertised : port() > 0 ? port() : tlsPort();
    }

    /** For the adapter's status: {@code port} and {@code tls-port}, where bound. */
    public Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        if (plain != null) {
            out.put("port", plain.port());
        }
        if (secure != null) {
            out.put("tls-port", secure.port());
        }
        return out;
    }

    /** Stops accepting on both; connections already accepted stay open. */
    public Future<Void> close() {
        if (tls != null) {
            tls.close();
        }
        return Future.all(plain == null ? Future.succeededFuture() : plain.close(),
                secure == null ? Future.succeededFuture() : secure.close()).mapEmpty();
    }
}
