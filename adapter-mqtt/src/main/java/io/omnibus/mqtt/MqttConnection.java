package io.omnibus.mqtt;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttIdentifierRejectedException;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttUnacceptableProtocolVersionException;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.util.ReferenceCountUtil;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.Connections;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One MQTT client connection: its state, the dispatch of its packets, its keep alive, and its leaving (DISCONNECT,
 * takeover; at the close, the session saved or ended and the will in {@link MqttLeaving}). Everything here runs on the
 * connection's event-loop context.
 *
 * <p>The rest is split by what it does: CONNECT to CONNACK in {@link MqttConnect} (made at CONNECT, let go at
 * CONNACK); PUBLISH from the client in {@link MqttInbound} (PUBACK / PUBREC sent only once the broker has the message
 * durably, the socket not read while {@code receive-maximum} publishes wait for the store), made at its first
 * publish; messages to the client in {@link MqttOutbound} (one core consumer per subscription, its credit refilled
 * as the client acknowledges, within the client's Receive Maximum), made at its first message; SUBSCRIBE and
 * UNSUBSCRIBE in {@link MqttSubscribing}. An idle connection holds none of the three objects.
 */
final class MqttConnection implements MqttTransport.Events, Connections.Connection {
    static final long NEVER_EXPIRES = 0xFFFFFFFFL;

    final MqttServer server;
    final MqttTransport socket;
    /**
     * The connection's number, shown as {@code mqtt-N} ({@code mqtt-ws-N} over WebSocket, kept negative): the string
     * is made when it is shown, not kept by every idle connection.
     */
    private final long id;
    final Context context;
    /** Since when: the socket's accept, as for every protocol (shown by the connection registry's listing). */
    private long connectedAt;

    /** From CONNECT to CONNACK: the exchange that lets the client in (MqttConnect); null before and after. */
    MqttConnect handshake;
    /** CONNACK sent: packets that came earlier wait in the handshake ({@link MqttConnect#early}). */
    boolean established;
    /** The session's subscriptions are loaded: only then may closing save them. */
    boolean restored;
    /** The channel closed: what is left is the leaving (MqttLeaving). Volatile: the registry's listing reads it. */
    volatile boolean closed;
    boolean v5;
    volatile String clientId; // volatile: info() shows it on the admin API's thread
    /** The client came in with MQTT 5 enhanced authentication (an AUTH from it now is a re-authentication). */
    boolean enhancedAuth;
    /** Who the client authenticated as (a username or a client certificate's identity); null: anonymous. */
    volatile String user; // read by a connection of another event loop taking over the same client id
    /** Who this connection's messages and consumers are: made at first use, once the client id is known ({@link #origin()}). */
    private Origin origin;
    boolean persistent;
    long sessionExpiry;
    int keepAliveSeconds;
    /** This connection's links in its context's keep-alive sweep (MqttServer#watchKeepAlive); on the context only. */
    MqttConnection keepAlivePrev;
    MqttConnection keepAliveNext;
    boolean keepAliveWatched;
    private long lastPacketAt;
    /** What is published when the connection ends without a normal DISCONNECT; null: none, or no more. */
    Will will;

    // what the client publishes, made at its first publish (MqttInbound); what goes to it, made at its first message
    // (MqttOutbound): an idle connection (most IoT devices, most of the time) has neither
    private MqttInbound inbound;
    MqttOutbound outbound;
    /** What the client said at CONNECT it takes: topic aliases, the largest packet; and the window it gets. */
    int clientTopicAliasMax;
    /** Integer.MAX_VALUE: none set (or one above what any packet of ours can reach, 256 MiB and a header). */
    int clientMaxPacketSize = Integer.MAX_VALUE;
    int window;
    // Each starts as an immutable empty collection, which reads like an empty one, and is replaced by a real one on
    // its first change (the accessors below). Every change goes through an accessor; closing puts the empty ones back.
    Map<String, MqttSessionState.Sub> subs = Map.of();
    Map<String, Consumer> consumers = Map.of();

    Map<String, MqttSessionState.Sub> subs() {
        if (!(subs instanceof LinkedHashMap)) {
            subs = new LinkedHashMap<>(); // in the order subscribed: the session record keeps that order
        }
        return subs;
    }

    Map<String, Consumer> consumers() {
        if (!(consumers instanceof HashMap)) {
            consumers = new HashMap<>();
        }
        return consumers;
    }

    MqttOutbound outbound() {
        if (outbound == null) {
            outbound = new MqttOutbound(this);
        }
        return outbound;
    }

    /** Made at the first publish, subscription or will: an idle connection needs none. */
    Origin origin() {
        if (origin == null) {
            origin = new Origin("mqtt", clientId, connectionId());
        }
        return origin;
    }

    MqttInbound inbound() {
        if (inbound == null) {
            inbound = new MqttInbound(this);
        }
        return inbound;
    }

    /** QoS 2 messages of the client stored and acknowledged with PUBREC, waiting for their PUBREL. */
    Set<Integer> awaitingRelease() {
        return inbound == null ? Set.of() : inbound.awaitingReleaseNow();
    }

    /** QoS 2 messages sent to the client whose PUBREC came and PUBCOMP has not. */
    Set<Integer> pendingRelease() {
        return outbound == null ? Set.of() : outbound.pendingRelease();
    }

    /** As the logs and the admin API show the connection: {@code mqtt-N}, {@code mqtt-ws-N}. */
    String connectionId() {
        return id < 0 ? "mqtt-ws-" + -id : "mqtt-" + id;
    }

    MqttConnection(MqttServer server, MqttTransport transport, long id) {
        this.server = server;
        this.socket = transport;
        this.id = id;
        this.context = Vertx.currentContext();
    }

    /** The will message and its delay (MQTT 5's Will Delay Interval, 0 in 3.1.1), kept only by a connection that has one. */
    record Will(Envelope message, long delaySeconds) {
    }

    Broker broker() {
        return server.ctx.broker();
    }

    /** CONNECT accepted (the client id known; its checks and CONNACK may still be under way). */
    boolean connected() {
        return clientId != null;
    }

    void start() {
        socket.start(this);
        // every socket counts, CONNECT or not; far beyond the limit they are not even read
        int limit = server.config.maxConnections();
        if (server.connections.incrementAndGet() > limit + Math.max(100, limit / 10)) {
            MqttServer.LOG.warn("mqtt {}: {} connections, over max-connections; closing at once", connectionId(),
                    server.connections.get());
            closed = true;
            server.connections.decrementAndGet();
            socket.close();
            return;
        }
        connectedAt = System.currentTimeMillis();
        server.ctx.connections().opened(this);
        lastPacketAt = connectedAt;
        // the event loop's sweep drops a client that never sends CONNECT (checkKeepAlive), not a timer of its own: a
        // CONNECT storm made and cancelled one per connection
        server.watchKeepAlive(context, this);
    }

    // ---- what the connection registry shows and does (any thread) ----------------------------------------

    @Override
    public String protocol() {
        return "mqtt";
    }

    /**
     * Listed from the server's map by client id (once CONNECT is accepted: authenticated and within the access rules;
     * until the channel closes), said closed once (MqttLeaving).
     */
    @Override
    public boolean listedByAdapter() {
        return true;
    }

    @Override
    public ConnectionInfo info() {
        return new ConnectionInfo("mqtt", connectionId(), clientId, String.valueOf(socket.remoteAddress()), user,
                connectedAt);
    }

    /** The operator's disconnect (admin API): DISCONNECT 0x98 to an MQTT 5 client. */
    @Override
    public void disconnect() {
        Contexts.on(context, () -> disconnect((byte) 0x98, "disconnected by an operator (admin API)"));
    }

    @Override
    public Future<Integer> inFlight() {
        Promise<Integer> n = Promise.promise();
        Contexts.on(context, () -> n.complete((outbound == null ? 0 : outbound.inFlight())
                + (inbound == null ? 0 : inbound.unackedInbound)));
        return n.future();
    }

    // ---- dispatch of packets --------------------------------------------------------------------------

    @Override
    public void handle(Object packet) {
        onMessage(packet);
    }

    @Override
    public void handledRead() {
        if (inbound != null) {
            inbound.flush(); // the read's run of publishes, gathered by MqttInbound
        }
    }

    @Override
    public void closed() {
        MqttLeaving.closed(this);
    }

    @Override
    public void drained() {
        if (outbound != null) {
            outbound.drainWaiting();
        }
    }

    void onMessage(Object msg) {
        try {
            if (!(msg instanceof MqttMessage m) || closed) {
                return;
            }
            lastPacketAt = io.omnibus.core.spi.CoarseClock.millis(); // per packet: the coarse clock is enough
            if (!connected() && handshake != null) {
                return; // a CONNECT refused before it named the client: its CONNACK goes out, then the close
            }
            if (m.decoderResult().isFailure()) {
                decodeFailed(m.decoderResult().cause());
                return;
            }
            MqttMessageType type = m.fixedHeader().messageType();
            if (!connected()) {
                if (type == MqttMessageType.CONNECT) {
                    handshake = new MqttConnect(this);
                    handshake.onConnect((MqttConnectMessage) m);
                } else {
                    reject("sent " + type + " before CONNECT [MQTT-3.1.0-1]");
                }
                return;
            }
            if (!established && type == MqttMessageType.AUTH && handshake != null && handshake.authenticating()) {
                handshake.onAuth(m);
                return;
            }
            if (!established) {
                // sent after CONNECT, before our CONNACK (allowed): handled once the client is in
                if (handshake.early.size() >= 100) {
                    reject("more than 100 packets before CONNACK");
                    return;
                }
                if (handshake.early.isEmpty()) {
                    handshake.early = new ArrayList<>(4);
                }
                handshake.early.add(ReferenceCountUtil.retain(msg));
                return;
            }
            if (type != MqttMessageType.PUBLISH && inbound != null) {
                inbound.flush(); // publishes that came before another packet reach the broker before it acts on it
            }
            switch (type) {
                case CONNECT -> protocolError("a second CONNECT [MQTT-3.1.0-2]");
                case PUBLISH -> inbound().onPublish((MqttPublishMessage) m);
                case PUBACK -> outbound().onPubAck(((MqttMessageIdVariableHeader) m.variableHeader()).messageId());
                case PUBREC -> outbound().onPubRec(((MqttMessageIdVariableHeader) m.variableHeader()).messageId());
                case PUBREL -> inbound().onPubRel(((MqttMessageIdVariableHeader) m.variableHeader()).messageId());
                case PUBCOMP -> outbound().onPubComp(((MqttMessageIdVariableHeader) m.variableHeader()).messageId());
                case SUBSCRIBE -> MqttSubscribing.subscribe(this, (MqttSubscribeMessage) m);
                case UNSUBSCRIBE -> MqttSubscribing.unsubscribe(this, (MqttUnsubscribeMessage) m);
                case PINGREQ -> write(new MqttMessage(new MqttFixedHeader(MqttMessageType.PINGRESP, false,
                        MqttQoS.AT_MOST_ONCE, false, 0)));
                case DISCONNECT -> onDisconnect(m);
                // re-authentication (MQTT 5 §4.12.1) is not offered; AUTH without an authentication method at CONNECT is
                // a protocol error [MQTT-4.12.0-7]
                case AUTH -> disconnect(enhancedAuth ? ReasonCodes.BAD_AUTHENTICATION_METHOD : ReasonCodes.PROTOCOL_ERROR,
                        !enhancedAuth ? "AUTH without an Authentication Method in CONNECT [MQTT-4.12.0-7]"
                                : "re-authentication is not supported");
                default -> protocolError("unexpected " + type);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void decodeFailed(Throwable cause) {
        if (!connected()) {
            if (cause instanceof MqttUnacceptableProtocolVersionException) {
                connAckAndClose(MqttConnectReturnCode.CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION,
                        "unsupported protocol version");
                return;
            }
            if (cause instanceof MqttIdentifierRejectedException) {
                connAckAndClose(MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED, "client id rejected");
                return;
            }
        }
        boolean tooLarge = cause instanceof TooLongFrameException
                || String.valueOf(cause.getMessage()).contains("too large");
        disconnect(tooLarge ? ReasonCodes.PACKET_TOO_LARGE : ReasonCodes.MALFORMED_PACKET,
                (tooLarge ? "packet larger than max-packet-size " + server.config.maxPacketSize() : "malformed packet")
                        + ": " + cause.getMessage());
    }

    /**
     * Called by the sweep of this connection's event loop (one per event loop, not a timer per connection), which the
     * connection joins at its accept: until CONNACK it checks the handshake's deadlines; then the keep alive, and lets
     * an idle connection drop its decoder (a connection without a keep alive, MQTT 3.1.1's 0, too, for the latter).
     */
    void checkKeepAlive(long now) {
        if (!established) {
            long timeout = server.authenticationTimeoutMillis;
            if (closed) {
                return;
            } else if (handshake == null && now - connectedAt > timeout) {
                reject("no CONNECT within " + timeout + " ms");
            } else if (handshake != null && handshake.authenticating() && now - handshake.authStartedAt > timeout) {
                close("enhanced authentication not finished within " + timeout + " ms");
            }
            return;
        }
        // one and a half times the keep alive without a packet [MQTT-3.1.2-22]; 0: none [MQTT-3.1.2-23]
        if (!closed && keepAliveSeconds > 0 && now - lastPacketAt > keepAliveSeconds * 1500L) {
            disconnect(ReasonCodes.KEEP_ALIVE_TIMEOUT, "keep alive of " + keepAliveSeconds + " s expired");
        } else if (!closed) {
            socket.swept();
        }
    }

    /**
     * Writes the session record with the QoS 2 exchanges half done now, so that they survive a gateway crash while
     * the client is connected; a clean session keeps none.
     */
    Future<Void> saveQos2() {
        if (!persistent || !restored) {
            return Future.succeededFuture();
        }
        return MqttSessionState.save(broker(), user, clientId, sessionExpiry, 0, subs,
                new MqttServer.Qos2State(Set.copyOf(awaitingRelease()), Set.copyOf(pendingRelease())));
    }

    // ---- leaving ------------------------------------------------------------------------------------------

    private void onDisconnect(MqttMessage m) {
        byte reason = ReasonCodes.SUCCESS;
        if (v5 && m.variableHeader() instanceof MqttReasonCodeAndPropertiesVariableHeader h) {
            reason = h.reasonCode();
            int expiry = Translation.intProperty(h.properties(), MqttProperties.SESSION_EXPIRY_INTERVAL, -1);
            if (expiry >= 0) {
                if (sessionExpiry == 0 && expiry > 0) {
                    protocolError("session expiry set on DISCONNECT after connecting with 0 [MQTT-3.14.2-2]");
                    return;
                }
                sessionExpiry = Math.min(Integer.toUnsignedLong(expiry), server.config.maxSessionExpiry().toSeconds());
                // [MQTT-3.1.2-23] with 0 the session ends with this connection: its subscriptions and record go now
                persistent = sessionExpiry > 0;
            }
        }
        if (reason != 0x04) { // "disconnect with will message"; a normal DISCONNECT drops the will [MQTT-3.1.2-10]
            will = null;
        }
        close(null);
    }

    /**
     * Called by a newer connection with the same client id: close this one with 0x8E [MQTT-3.1.4-3]. The future
     * completes once this connection has left entirely (session record written, QoS 2 state handed over), also when
     * it was already closing on its own.
     */
    Future<Void> takeOver() {
        Promise<Void> done = Promise.promise();
        Contexts.on(context, () -> {
            if (hasLeft) {
                done.complete();
                return;
            }
            if (gone == null) {
                gone = Promise.promise();
            }
            gone.future().onComplete(done);
            disconnect(ReasonCodes.SESSION_TAKEN_OVER, "session taken over by a new connection");
        });
        return done.future();
    }

    /**
     * Completes when {@link MqttLeaving#closed} has finished (until then the connection stays in {@code server.connected}), for
     * a connection taking this one's session over: made then, on this connection's context.
     */
    private Promise<Void> gone;
    /** {@link MqttLeaving#closed} has finished: the session record is written, the QoS 2 state handed over. */
    private boolean hasLeft;

    /** On the context: the connection has left entirely. */
    void left() {
        hasLeft = true;
        if (gone != null) {
            gone.complete();
        }
    }

    void shutdown() {
        Contexts.on(context, () -> disconnect(ReasonCodes.SERVER_SHUTTING_DOWN, "gateway shutting down"));
    }

    private void reject(String why) {
        MqttServer.LOG.info("mqtt {} from {}: {}; closing", connectionId(), socket.remoteAddress(), why);
        close(null);
    }

    private void protocolError(String why) {
        disconnect(ReasonCodes.PROTOCOL_ERROR, why);
    }

    void connAckAndClose(MqttConnectReturnCode code, String why) {
        MqttServer.LOG.info("mqtt {} from {}: CONNECT refused ({}): {}", connectionId(), socket.remoteAddress(), code, why);
        MqttConnAckMessage ack = MqttMessageBuilders.connAck().returnCode(code).sessionPresent(false).build();
        will = null;
        closeAfter(socket.write(ack));
    }

    /** MQTT 5: DISCONNECT with a reason, then close; MQTT 3.1.1: just close. One log line says why. */
    void disconnect(byte reason, String why) {
        if (closed) {
            return;
        }
        MqttServer.LOG.info("mqtt {} ({}): closing: {}", connectionId(), clientId == null ? "no client id" : clientId, why);
        if (v5 && connected()) {
            closeAfter(socket.write(MqttMessageBuilders.disconnect().reasonCode(reason).build()));
        } else {
            close(null);
        }
    }

    /** Closes once the last packet is written, or after a second if the peer does not take it. */
    private void closeAfter(Future<Void> lastWrite) {
        long timer = server.ctx.vertx().setTimer(1_000, t -> close(null));
        lastWrite.onComplete(x -> {
            server.ctx.vertx().cancelTimer(timer);
            close(null);
        });
    }

    void close(String why) {
        if (why != null) {
            MqttServer.LOG.info("mqtt {} ({}): closing: {}", connectionId(), clientId, why);
        }
        if (!closed) {
            socket.close();
        }
    }

    // ---- writing ----------------------------------------------------------------------------------------

    void write(MqttMessage m) {
        if (!closed) {
            socket.send(m);
        }
    }

    void writePubReply(MqttMessageType type, int packetId, byte reason) {
        MqttQoS qos = type == MqttMessageType.PUBREL ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
        write(new MqttMessage(new MqttFixedHeader(type, false, qos, false, 0),
                new MqttPubReplyMessageVariableHeader(packetId, v5 ? reason : ReasonCodes.SUCCESS, MqttProperties.NO_PROPERTIES)));
    }

    /** Runs on a context: now if already there. */
    static final class Contexts {
        static void on(Context ctx, Runnable r) {
            if (Vertx.currentContext() == ctx) {
                r.run();
            } else {
                ctx.runOnContext(v -> r.run());
            }
        }
    }
}
