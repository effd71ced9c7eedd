package io.omnibus.amqp;

import io.omnibus.core.transport.ProxyProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.Connections;
import io.omnibus.core.spi.Origin;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Collector;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.Transport;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One AMQP connection: a proton-j engine (transport, connection, collector) fed by the Netty channel.
 * Everything runs on the channel's event loop, inside its Vert.x context, so broker futures come back here
 * too. After every input, and after every asynchronous completion, {@link #pump} processes the engine's
 * events ({@link AmqpEvents}) and writes what it has to say. This class reads and writes the channel, runs SASL, opens
 * the connection, keeps its transactions, and closes it.
 */
final class AmqpConnection extends ChannelInboundHandlerAdapter {
    static final Symbol ANONYMOUS_RELAY = Symbol.valueOf("ANONYMOUS-RELAY");
    static final Symbol DELAYED_DELIVERY = Symbol.valueOf("DELAYED_DELIVERY");
    static final Symbol SHARED_SUBS = Symbol.valueOf("SHARED-SUBS");
    /** AMQP with the SASL layer: "AMQP" 3 1 0 0, what a server that wants SASL answers to a wrong header. */
    private static final byte[] SASL_HEADER = {'A', 'M', 'Q', 'P', 3, 1, 0, 0};

    final AmqpServer server;
    final Broker broker;
    final String id;
    private final Channel channel;
    private final ContextInternal context;
    final Transport transport = Proton.transport();
    final Connection connection = Proton.connection();
    private final Collector collector = Proton.collector();
    /** The engine's events, handled: links, transfers, runs of them for the broker. */
    final AmqpEvents events = new AmqpEvents(this, collector);
    /** What the connection registry lists (null until started). */
    private Connections.Connection registration;
    private long connectedAt;
    Origin origin;
    volatile String containerId = ""; // volatile: the registry shows it on the admin API's thread
    private volatile String user;
    /** SASL succeeded, or was skipped while anonymous access is on; nothing but SASL is processed before. */
    private boolean authenticated;
    private boolean authFailed;
    /** The connection was opened (after authentication): until then every engine event but the open is ignored. */
    private boolean authorized;
    private boolean closed;
    private boolean counted;
    private long tickTimer = -1;
    private boolean flushScheduled;
    private final byte[] header = new byte[8];
    private int headerRead;
    /** Its temporary nodes, the queues it made sure of, and what its user may do with addresses. */
    final AmqpNodes nodes;
    /** Transactions declared on this connection and not discharged: any of its links may use them. */
    final AmqpTransactions transactions;

    AmqpConnection(AmqpServer server, Channel channel, ContextInternal context, String id) {
        this.server = server;
        this.broker = server.ctx.broker();
        this.channel = channel;
        this.context = context;
        this.id = id;
        this.nodes = new AmqpNodes(broker, server.ctx.authorizer(), id, () -> user);
        this.transactions = new AmqpTransactions(broker);
    }

    // ---- Netty -> the connection's context ----------------------------------------------------------------

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        context.emit(null, v -> start());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        context.emit((ByteBuf) msg, this::onBytes);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        context.emit(null, v -> onClosed());
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // a client that does not read what we send stops being read (its sends wait) and gets nothing more
        // pushed (no consumer credit is renewed) until it catches up: memory stays bounded
        channel.config().setAutoRead(channel.isWritable());
        if (channel.isWritable()) {
            context.emit(null, v -> {
                for (Link link = connection.linkHead(null, null); link != null; link = link.next(null, null)) {
                    if (link.getContext() instanceof OutgoingLink out) {
                        out.onFlow();
                    }
                }
                pump();
            });
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        AmqpServer.LOG.debug("amqp {}: {}", id, cause.toString());
        channel.close();
    }

    // ---- life cycle ----------------------------------------------------------------------------------------

    private void start() {
        counted = true;
        if (server.connectionCount.incrementAndGet() > server.config.maxConnections()) {
            AmqpServer.LOG.info("amqp {} from {}: amqp.max-connections ({}) reached; closing", id,
                    ProxyProtocol.clientAddress(channel), server.config.maxConnections());
            channel.close();
            return;
        }
        server.connections.add(this);
        connectedAt = System.currentTimeMillis();
        registration = new Connections.Connection() {
            @Override
            public String protocol() {
                return "amqp";
            }

            @Override
            public ConnectionInfo info() {
                String container = containerId;
                return new ConnectionInfo("amqp", id, container.isEmpty() ? null : container,
                        String.valueOf(ProxyProtocol.clientAddress(channel)), user, connectedAt);
            }

            @Override
            public void disconnect() {
                context.runOnContext(v -> {
                    if (!closed) { // amqp:connection:forced, as for a shutdown; the socket follows
                        connection.setCondition(new ErrorCondition(Symbol.valueOf("amqp:connection:forced"),
                                "disconnected by an operator"));
                        connection.close();
                        pump();
                        channel.close();
                    }
                });
            }

            @Override
            public io.vertx.core.Future<Integer> inFlight() {
                io.vertx.core.Promise<Integer> n = io.vertx.core.Promise.promise();
                context.runOnContext(v -> {
                    int unsettled = 0;
                    for (org.apache.qpid.proton.engine.Link l = connection.linkHead(null, null); l != null;
                         l = l.next(null, null)) {
                        unsettled += l.getUnsettled();
                    }
                    n.complete(unsettled);
                });
                return n.future();
            }
        };
        server.ctx.connections().opened(registration);
        transport.setMaxFrameSize(server.config.maxFrameSize());
        transport.setChannelMax(server.config.channelMax());
        // until the connection is open (after SASL), nothing times a silent client out: this does
        server.ctx.vertx().setTimer(Math.max(1, server.config.authenticationTimeout().toMillis()), t -> {
            if (!authorized && !closed) {
                AmqpServer.LOG.info("amqp {} from {}: not open after {} (amqp.authentication-timeout); closing", id,
                        ProxyProtocol.clientAddress(channel), server.config.authenticationTimeout());
                closed = true;
                channel.close();
            }
        });
        if (!server.config.idleTimeout().isZero()) {
            transport.setIdleTimeout((int) Math.min(Integer.MAX_VALUE, server.config.idleTimeout().toMillis()));
        }
        transport.setEmitFlowEventOnSend(false);
        connection.collect(collector);
        Sasl sasl = transport.sasl();
        sasl.server();
        boolean anonymous = server.ctx.authenticator().allowsAnonymous();
        // EXTERNAL: the identity of the TLS client certificate (offered where client certificates are asked for)
        boolean external = server.config.tls() != null && !server.config.tls().clientAuth().equals("none");
        java.util.List<String> mechanisms = new java.util.ArrayList<>();
        if (external) {
            mechanisms.add("EXTERNAL");
        }
        mechanisms.addAll(server.ctx.authenticator().scramMechanisms()); // Qpid JMS prefers SCRAM to PLAIN
        if (plainAllowed()) {
            mechanisms.add("PLAIN");
        }
        if (anonymous) {
            mechanisms.add("ANONYMOUS");
        }
        sasl.setMechanisms(mechanisms.toArray(String[]::new));
        sasl.allowSkip(anonymous); // a client may skip SASL only when nobody needs to authenticate
        sasl.setListener(new SaslServer(this));
        transport.bind(connection);
        tick();
    }

    private void onBytes(ByteBuf in) {
        try {
            if (closed) {
                return;
            }
            if (headerRead < header.length && !checkHeader(in)) {
                return;
            }
            if (authFailed) {
                return; // the outcome is on its way; nothing after it is read
            }
            while (in.isReadable() && !closed && !authFailed) {
                int capacity = transport.capacity();
                if (capacity <= 0) {
                    break; // the input side is closed (an error was raised): the rest is not read
                }
                int n = Math.min(capacity, in.readableBytes());
                ByteBuffer tail = transport.tail();
                ByteBuffer src = in.nioBuffer(in.readerIndex(), n);
                tail.put(src);
                in.skipBytes(n);
                try {
                    transport.process();
                } catch (RuntimeException e) {
                    AmqpServer.LOG.info("amqp {} ({}): input refused: {}", id, containerId, e.toString());
                    transport.close_tail();
                }
                events.process();
            }
            flush();
        } finally {
            in.release();
        }
    }

    /**
     * Reads the 8-byte protocol header. Anything but AMQP 1.0 (plain or SASL) gets our header back and a close,
     * as the spec says [AMQP 2.2]. Returns false when the input stops here.
     */
    private boolean checkHeader(ByteBuf in) {
        for (int i = 0; headerRead < header.length && i < in.readableBytes(); i++) {
            header[headerRead++] = in.getByte(in.readerIndex() + i); // peeked: the engine reads the header too
        }
        boolean ok = true;
        byte[] expect = {'A', 'M', 'Q', 'P'};
        for (int i = 0; i < Math.min(4, headerRead); i++) {
            ok &= header[i] == expect[i];
        }
        if (headerRead > 4) {
            ok &= header[4] == 0 || header[4] == 3;
        }
        for (int i = 5; i < headerRead; i++) {
            ok &= header[i] == (i == 5 ? 1 : 0);
        }
        if (!ok) {
            AmqpServer.LOG.info("amqp {} from {}: not an AMQP 1.0 protocol header; answering with ours and closing", id,
                    ProxyProtocol.clientAddress(channel));
            closed = true;
            channel.writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(SASL_HEADER))
                    .addListener(ChannelFutureListener.CLOSE);
            return false;
        }
        return true;
    }

    /** Processes the engine's events and writes its output; call after anything that may have changed the engine. */
    void pump() {
        if (closed) {
            return;
        }
        events.process();
        flush();
    }

    /** A pump at the end of this event-loop turn: deliveries pushed in a burst go out in one write. */
    void pumpSoon() {
        if (!flushScheduled && !closed) {
            flushScheduled = true;
            context.runOnContext(v -> {
                flushScheduled = false;
                pump();
            });
        }
    }

    private void flush() {
        boolean wrote = false;
        while (true) {
            int pending;
            try {
                pending = transport.pending();
            } catch (RuntimeException e) {
                AmqpServer.LOG.info("amqp {} ({}): output failed: {}", id, containerId, e.toString());
                pending = -1;
            }
            if (pending < 0) {
                // the engine has said all it will say (close frame, or an error): close after it is written
                closed = true;
                channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            if (pending == 0) {
                break;
            }
            ByteBuffer head = transport.head(); // may hold less than pending(): write what it has, pop that
            int n = head.remaining();
            ByteBuf out = channel.alloc().buffer(n);
            out.writeBytes(head);
            transport.pop(n);
            channel.write(out, channel.voidPromise());
            wrote = true;
        }
        if (wrote) {
            channel.flush();
        }
        if (authFailed) {
            closed = true;
            channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void tick() {
        if (closed) {
            return;
        }
        if (tickTimer >= 0) {
            server.ctx.vertx().cancelTimer(tickTimer);
            tickTimer = -1;
        }
        long now = System.currentTimeMillis();
        long deadline = transport.tick(now); // heartbeats out, and the local idle timeout checked
        if (deadline > 0) {
            tickTimer = server.ctx.vertx().setTimer(Math.max(1, deadline - now), t -> {
                tickTimer = -1;
                tick();
                pump();
            });
        }
    }

    private void onClosed() {
        if (counted) {
            server.connectionCount.decrementAndGet();
        }
        if (registration == null) {
            return; // never started
        }
        closed = true;
        server.connections.remove(this);
        server.ctx.connections().closed(registration);
        if (tickTimer >= 0) {
            server.ctx.vertx().cancelTimer(tickTimer);
        }
        // open transactions roll back first (what they acknowledged comes back as a failed attempt), then every
        // link's consumer goes (its unsettled deliveries return), then this connection's temporary nodes
        transactions.rollBackAll();
        List<Future<?>> closing = new ArrayList<>();
        for (Link link = connection.linkHead(null, null); link != null; link = link.next(null, null)) {
            if (link.getContext() instanceof OutgoingLink out) {
                closing.add(out.detached(false));
            } else if (link.getContext() instanceof IncomingLink in) {
                in.detached();
            }
        }
        Future.all(closing).onComplete(x -> nodes.temporaryNodes().forEach(broker::unsubscribe));
        AmqpServer.LOG.info("amqp {} closed: container {}", id, containerId);
    }

    /** Drops the socket without a close frame, as a dead peer or network would (an operator's disconnect). */
    void disconnect() {
        channel.close();
    }

    /** Gateway shutdown: close with amqp:connection:forced. */
    void shutdown() {
        context.runOnContext(v -> {
            if (!closed) {
                connection.setCondition(new ErrorCondition(Symbol.valueOf("amqp:connection:forced"), "gateway shutting down"));
                connection.close();
                pump();
            }
        });
    }

    // ---- SASL ---------------------------------------------------------------------------------------------

    /** The SASL exchange succeeded ({@code user} null for ANONYMOUS). */
    void authenticated(String user) {
        this.user = user;
        authenticated = true;
    }

    /** The SASL exchange failed: the outcome goes out with the next flush, then the socket closes. */
    void authenticationFailed(String why) {
        AmqpServer.LOG.info("amqp {} from {}: authentication failed: {}", id, ProxyProtocol.clientAddress(channel), why);
        authFailed = true;
        transport.close_tail(); // and nothing the client pipelined behind its response is read
    }

    boolean isClosed() {
        return closed;
    }

    /** Opened after authentication: until then every engine event but the open is ignored ({@link AmqpEvents}). */
    boolean authorized() {
        return authorized;
    }

    /** The client's open: answered when it authenticated (or may be anonymous), else the connection is closed. */
    void onOpen() {
        // proton-j leaves it to us: after a failed (or skipped, when not allowed) SASL exchange, no AMQP
        if (!authenticated && !(header[4] == 0 && server.ctx.authenticator().allowsAnonymous())) {
            AmqpServer.LOG.info("amqp {} from {}: open without authentication; closing", id, ProxyProtocol.clientAddress(channel));
            closed = true;
            transport.close_tail();
            channel.close();
            return;
        }
        authorized = true;
        containerId = connection.getRemoteContainer() == null ? "" : connection.getRemoteContainer();
        origin = new Origin("amqp", containerId, id);
        connection.setContainer("omnibus");
        connection.setOfferedCapabilities(new Symbol[]{ANONYMOUS_RELAY, DELAYED_DELIVERY, SHARED_SUBS});
        connection.setProperties(Map.of(Symbol.valueOf("product"), "omnibus"));
        connection.open();
        AmqpServer.LOG.info("amqp {} connected: container {}, user {}, from {}", id, containerId,
                user == null ? "(anonymous)" : user, ProxyProtocol.clientAddress(channel));
        tick(); // the client's idle timeout is known now: heartbeats from here on
    }

    // ---- the channel ----------------------------------------------------------------------------------------

    boolean writable() {
        return channel.isWritable();
    }

    io.netty.channel.Channel channel() {
        return channel;
    }

    /** Whether SASL PLAIN (a password in clear text) is offered: over TLS, from this machine, or where allowed. */
    boolean plainAllowed() {
        return io.omnibus.core.transport.Listeners.plainAllowed(channel, server.ctx.authenticator());
    }

    /** The AMQP error condition for a broker failure. */
    static String condition(Throwable t) {
        if (!(t instanceof BrokerException b)) {
            return "amqp:internal-error";
        }
        return switch (b.reason()) {
            case INVALID_ADDRESS -> "amqp:invalid-field";
            case UNKNOWN_ADDRESS, NOT_FOUND -> "amqp:not-found";
            case MESSAGE_TOO_LARGE -> "amqp:link:message-size-exceeded";
            case STORE_FAILURE -> "amqp:resource-limit-exceeded";
            case SUBSCRIPTION_CONFLICT, CONFLICT -> "amqp:precondition-failed";
            case INVALID_SELECTOR -> "amqp:invalid-field";
            case SHUTTING_DOWN -> "amqp:connection:forced";
        };
    }
}
