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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A standby node's listeners: while a store shared by several nodes has this node wait, it listens on the ports its
 * adapters will listen on once it serves, and passes each connection, byte for byte, to the port of the same name on
 * the node that serves now ({@link io.omnibus.core.store.MessageStore#servingNode()}). A client may so reach the
 * service through any node. TLS passes through: the serving node ends it. When no node is known to serve (a takeover
 * under way), a connection is closed at once and the client's reconnection tries again.
 *
 * <p>With {@code store.kafka.standby-proxy-protocol}, each connection starts with a PROXY header (version 2) naming the
 * client, so that the serving node's listeners, trusting this node in their {@code proxy-protocol}, see the client's
 * address (its per-address cap, its logs); otherwise the serving node sees the standby as the client's address. Under
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
    private final List<NetServer> servers = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The clients' ends of the connections passed on (or being): closed with the forwarder, and with them theirs. */
    private final Set<NetSocket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    StandbyForwarder(Vertx vertx, Supplier<ServingNode> serving, boolean loopbackOnly, boolean proxyHeader) {
        this.vertx = vertx;
        this.serving = serving;
        this.loopbackOnly = loopbackOnly;
        this.proxyHeader = proxyHeader;
        this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(5_000).setTcpNoDelay(true));
    }

    /**
     * Listens on each of {@code ports} (by {@code <protocol>.<name>}); a port that cannot be bound is logged and left
     * out (the adapter binding it later fails the start, as it would without a standby).
     */
    Future<Void> start(Map<String, ListenerPort> ports) {
        List<Future<?>> bound = new ArrayList<>();
        ports.forEach((key, p) -> {
            NetServer server = vertx.createNetServer(new NetServerOptions().setHost(p.host()).setPort(p.port())
                    .setTcpNoDelay(true));
            server.connectHandler(in -> accept(key, in));
            bound.add(server.listen().onSuccess(s -> servers.add(s)).recover(e -> {
                LOG.warn("standby: could not listen on {} ({}:{}) to pass its connections on: {}", key, p.host(),
                        p.port(), e.toString());
                return Future.succeededFuture();
            }));
        });
        return Future.join(bound).mapEmpty();
    }

    private void accept(String key, NetSocket in) {
        if (loopbackOnly && !loopback(in)) {
            in.close();
            return;
        }
        ServingNode node = serving.get();
        Integer port = node == null ? null : node.ports().get(key);
        if (port == null) {
            LOG.debug("standby: closed a connection on {}: no serving node is known to listen there", key);
            in.close();
            return;
        }
        in.pause();
        open.add(in);
        in.closeHandler(v -> open.remove(in));
        client.connect(port, node.host()).onComplete(ar -> {
            if (ar.failed()) {
                LOG.debug("standby: could not reach {} at {}:{} for a connection on {}: {}", node.nodeId(), node.host(),
                        port, key, ar.cause().toString());
                in.close();
                return;
            }
            NetSocket out = ar.result();
            in.closeHandler(v -> {
                open.remove(in);
                out.close();
            });
            out.closeHandler(v -> in.close());
            if (closed) { // closed while it connected
                in.close();
                return;
            }
            if (proxyHeader) {
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

    /** How many clients' connections are passed on now (or being). */
    int connections() {
        return open.size();
    }

    /** Stops listening and closes every connection passed on. */
    Future<Void> close() {
        closed = true;
        List<Future<?>> all = new ArrayList<>();
        servers.forEach(s -> all.add(s.close()));
        open.forEach(s -> all.add(s.close()));
        all.add(client.close());
        return Future.join(all).mapEmpty();
    }
}
