package io.omnibus.server;

import io.omnibus.core.spi.ListenerPort;
import io.omnibus.core.store.ServingNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A standby node's listeners: while a store shared by several nodes has this node wait, it listens on the ports its
 * adapters will listen on once it serves, and passes each connection, byte for byte, to the port of the same name on
 * the node that serves now ({@link io.omnibus.core.store.MessageStore#servingNode()}). A client may so reach the
 * service through any node. TLS passes through: the serving node ends it. When no node is known to serve (a takeover
 * under way), a connection is closed at once and the client's reconnection tries again.
 *
 * <p>With {@code store.kafka.standby-proxy-protocol}, each connection to a port whose listener reads one
 * ({@link ListenerPort#proxyProtocol()}: the adapters' shared listeners) starts with a PROXY header (version 2) naming the
 * client, so that the serving node's listeners, trusting the nodes, see the client's address (its per-address cap,
 * its logs); otherwise the serving node sees the standby as the client's address. Under
 * the safe default (loopback clients only, when no users are configured) the standby accepts loopback clients only, as
 * the adapters would.
 */
final class StandbyForwarder {
    private static final Logger LOG = LoggerFactory.getLogger(StandbyForwarder.class);

    private final Vertx vertx;
    private final Supplier<ServingNode> serving;
    private final boolean loopbackOnly;
    private final boolean proxyHeader;
    private final NetClient client;
    /** The ports listened on; each port's connections are its context's alone. */
    private final List<Port> ports = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Clients' connections passed on (or being) over all ports: for {@code /health}, read on other threads. */
    private final java.util.concurrent.atomic.AtomicInteger passing = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;

    /**
     * One port listened on: its server runs on {@code context}, one event loop's (a port's clients and their
     * connections to the serving node are all served there), and only that context touches {@code open}: the
     * clients' ends of the connections passed on (or being), closed with the forwarder, and with them theirs.
     */
    private static final class Port {
        final io.vertx.core.Context context;
        final Set<NetSocket> open = new HashSet<>();
        NetServer server;

        Port(io.vertx.core.Context context) {
            this.context = context;
        }
    }

    StandbyForwarder(Vertx vertx, Supplier<ServingNode> serving, boolean loopbackOnly, boolean proxyHeader) {
        this.vertx = vertx;
        this.serving = serving;
        this.loopbackOnly = loopbackOnly;
        this.proxyHeader = proxyHeader;
        this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(5_000).setTcpNoDelay(true));
    }

    /**
     * Listens on each of {@code listeners} (by {@code <protocol>.<name>}); a port that cannot be bound is logged and left
     * out (the adapter binding it later fails the start, as it would without a standby).
     */
    Future<Void> start(Map<String, ListenerPort> listeners) {
        List<Future<?>> bound = new ArrayList<>();
        io.vertx.core.internal.VertxInternal vx = (io.vertx.core.internal.VertxInternal) vertx;
        listeners.forEach((key, p) -> {
            // a context of its own on the next event loop: the ports spread over the loops
            Port port = new Port(vx.contextBuilder().withEventLoop(vx.nettyEventLoopGroup().next())
                    .withThreadingModel(io.vertx.core.ThreadingModel.EVENT_LOOP).build());
            io.vertx.core.Promise<Void> listening = io.vertx.core.Promise.promise();
            port.context.runOnContext(v -> {
                NetServer server = vertx.createNetServer(new NetServerOptions().setHost(p.host()).setPort(p.port())
                        .setTcpNoDelay(true));
                server.connectHandler(in -> accept(port, key, p.proxyProtocol(), in));
                server.listen().onSuccess(x -> {
                    port.server = server;
                    ports.add(port);
                }).recover(e -> {
                    LOG.warn("standby: could not listen on {} ({}:{}) to pass its connections on: {}", key, p.host(),
                            p.port(), e.toString());
                    return Future.succeededFuture();
                }).<Void>mapEmpty().onComplete(listening);
            });
            bound.add(listening.future());
        });
        return Future.join(bound).mapEmpty();
    }

    /**
     * A client's connection on {@code port}, on its context; {@code readsHeader}: the serving node's listener for
     * {@code key} reads a PROXY header.
     */
    private void accept(Port port, String key, boolean readsHeader, NetSocket in) {
        if (loopbackOnly && !loopback(in)) {
            in.close();
            return;
        }
        ServingNode node = serving.get();
        Integer to = node == null ? null : node.ports().get(key);
        if (to == null) {
            LOG.debug("standby: closed a connection on {}: no serving node is known to listen there", key);
            in.close();
            return;
        }
        in.pause();
        port.open.add(in);
        passing.incrementAndGet();
        in.closeHandler(v -> gone(port, in, null));
        client.connect(to, node.host()).onComplete(ar -> {
            if (ar.failed()) {
                LOG.debug("standby: could not reach {} at {}:{} for a connection on {}: {}", node.nodeId(), node.host(),
                        to, key, ar.cause().toString());
                in.close();
                return;
            }
            NetSocket out = ar.result();
            in.closeHandler(v -> gone(port, in, out));
            out.closeHandler(v -> in.close());
            if (closed) { // closed while it connected
                in.close();
                return;
            }
            if (proxyHeader && readsHeader) { // not to a listener that would take it for the client's first bytes
                out.write(io.vertx.core.buffer.Buffer.buffer(io.omnibus.core.transport.ProxyProtocol.header(
                        inet(in.remoteAddress()), inet(in.localAddress()))));
            }
            in.pipeTo(out);
            out.pipeTo(in);
        });
    }

    /** The adapters' own check ({@link io.omnibus.core.transport.Listeners#loopback}), on the client's address. */
    private static boolean loopback(NetSocket s) {
        io.vertx.core.net.SocketAddress remote = s.remoteAddress();
        return remote != null && remote.hostAddress() != null && io.omnibus.core.transport.Listeners.loopback(
                inet(remote));
    }

    /** A socket's address (an IP literal: nothing is looked up). */
    private static java.net.InetSocketAddress inet(io.vertx.core.net.SocketAddress a) {
        return new java.net.InetSocketAddress(a.hostAddress(), a.port());
    }

    /** A client's end closed (on its port's context): its connection to the serving node, if made, goes too. */
    private void gone(Port port, NetSocket in, NetSocket out) {
        if (port.open.remove(in)) {
            passing.decrementAndGet();
        }
        if (out != null) {
            out.close();
        }
    }

    /** How many clients' connections are passed on now (or being). */
    int connections() {
        return passing.get();
    }

    /** Stops listening and closes every connection passed on, each port on its own context. */
    Future<Void> close() {
        closed = true;
        List<Future<?>> all = new ArrayList<>();
        for (Port port : ports) {
            io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
            port.context.runOnContext(v -> {
                List<Future<?>> closing = new ArrayList<>();
                closing.add(port.server.close());
                List.copyOf(port.open).forEach(s -> closing.add(s.close()));
                Future.join(closing).<Void>mapEmpty().onComplete(done);
            });
            all.add(done.future());
        }
        all.add(client.close());
        return Future.join(all).mapEmpty();
    }
}
