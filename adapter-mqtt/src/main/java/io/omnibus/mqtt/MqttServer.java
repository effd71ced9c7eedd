package io.omnibus.mqtt;

import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.Authenticator;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.transport.Listeners;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The MQTT listener and what outlives one connection: who is connected under which client id
 * (for session takeover), persistent sessions waiting to expire, and wills waiting for their delay.
 * Session records live in the broker's state (namespace {@value #SESSIONS}), so they survive restarts.
 */
final class MqttServer implements ProtocolAdapter {
    static final Logger LOG = LoggerFactory.getLogger(MqttServer.class);
    static final String SESSIONS = "mqtt.sessions";

    final AdapterContext ctx;
    final MqttConfig config;
    /** What deliveries lose in MQTT (omnibus.translation.losses). */
    final io.omnibus.core.spi.TranslationLosses losses;
    final Authenticator authenticator;
    /** mqtt.authentication-timeout, as the keep-alive sweep reads it for every connection not yet in. */
    final long authenticationTimeoutMillis;
    final ConcurrentHashMap<String, MqttConnection> connected = new ConcurrentHashMap<>();
    /** Timers ending sessions (session expiry) and sending delayed wills, by client id. */
    final ConcurrentHashMap<String, Long> expiryTimers = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, Long> willTimers = new ConcurrentHashMap<>();
    final AtomicInteger connections = new AtomicInteger();
    /** QoS 2 exchanges a persistent session left half done: inbound ids awaiting PUBREL, outbound ids awaiting PUBCOMP. */
    final ConcurrentHashMap<String, Qos2State> qos2 = new ConcurrentHashMap<>();

    record Qos2State(java.util.Set<Integer> awaitingRelease, java.util.Set<Integer> pendingRelease) {
    }
    private final AtomicLong ids = new AtomicLong();
    private Listeners listener;
    /** Ends the connection registry's listing of {@link #connected} (at the stop). */
    private Runnable unlist = () -> { };
    /** MQTT over WebSocket, plain and TLS ({@link MqttWebSocket}); null when off. */
    private Listeners webSockets;

    MqttServer(AdapterContext ctx, MqttConfig config, Authenticator authenticator) {
        this.ctx = ctx;
        this.config = config;
        // the sweep comes by twice a second: a connection parks after the first sweep past park-idle-after
        long parkAfter = config.parkIdleAfter().toMillis();
        this.decoders = new MqttDecoders(config.maxPacketSize(),
                parkAfter == 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (parkAfter + 499) / 500));
        this.losses = new io.omnibus.core.spi.TranslationLosses(ctx.meters());
        io.micrometer.core.instrument.Gauge.builder("omnibus.connections.parked",
                        io.omnibus.core.transport.ParkedChannel::parkedNow)
                .description("Idle connections whose sockets are parked without their channels (park-idle-after)")
                .register(ctx.meters());
        this.authenticator = authenticator;
        this.authenticationTimeoutMillis = config.authenticationTimeout().toMillis();
    }

    /** The decoder each TCP connection has while it reads. */
    private final MqttDecoders decoders;

    /** Whether the connection of {@code clientId} holds its decoder now (false: dropped while it idles); for tests. */
    boolean holdsDecoder(String clientId) throws Exception {
        MqttConnection c = connected.get(clientId);
        return c != null && (!(c.socket instanceof MqttNettyTransport netty) || netty.decoding());
    }

    /** Whether the socket of {@code clientId}'s connection is parked now ({@code park-idle-after}); for tests. */
    boolean parked(String clientId) throws Exception {
        MqttConnection c = connected.get(clientId);
        return c != null && c.socket instanceof MqttNettyTransport netty && netty.isParked();
    }

    /** How many times an idle connection dropped its decoder (it makes a new one when bytes arrive). */
    long idleDecodersDropped() {
        return decoders.droppedCount();
    }

    @Override
    public Future<Void> start() {
        // the registry lists the connections from here (those in by their CONNECT, not yet closed) rather than keeping
        // each in a set of its own too
        unlist.run();
        unlist = ctx.connections().listing(() -> connected.values().stream().filter(c -> !c.closed).toList());
        // off the start's path (12,000 sessions' records took 0.3 s to read there, in code not yet compiled)
        ctx.vertx().executeBlocking(() -> {
            scheduleStoredExpiries();
            return null;
        }, false).onFailure(e -> LOG.error("mqtt: the stored sessions' expiry timers could not be set; sessions of "
                + "clients that do not come back stay until the next start", e));
        Future<Void> tcp = Listeners.bind(ctx, config.listeners(), "mqtt", (ch, context) -> {
            MqttNettyTransport transport = new MqttNettyTransport(ch, context, decoders);
            long id = ids.incrementAndGet();
            context.emit(v -> new MqttConnection(MqttServer.this, transport, id).start());
        }).map(l -> {
            listener = l;
            return null;
        });
        if (!config.webSocket()) {
            return tcp;
        }
        // the TCP port's listener settings (write buffer, PROXY sources) and its per-address counts, checked at the
        // handshake so that a refusal is an HTTP status
        Listeners.Config tcpConfig = config.listeners();
        Listeners.Config wsConfig = new Listeners.Config(config.host(), config.webSocketPort(), config.webSocketTls(),
                0, tcpConfig.writeBuffer(), tcpConfig.proxies());
        return tcp.compose(v -> Listeners.bind(ctx, wsConfig, "mqtt.websocket", (ch, context) -> {
            MqttWebSocket.setUp(ch, config.webSocketPath(), config.maxPacketSize(), config.webSocketOrigins(),
                    listener.counts());
            MqttNettyTransport transport = new MqttNettyTransport(ch, context, decoders);
            long id = -ids.incrementAndGet(); // negative: mqtt-ws-N
            context.emit(x -> new MqttConnection(MqttServer.this, transport, id).start());
        })).map(l -> {
            webSockets = l;
            return null;
        });
    }

    @Override
    public Future<Void> stop() {
        if (listener == null) {
            unlist.run();
            return Future.succeededFuture();
        }
        // stop accepting, then close the connections (their in-flight deliveries go back to the broker)
        Future<Void> ws = webSockets == null ? Future.succeededFuture() : webSockets.close();
        return Future.all(listener.close(), ws).<Void>mapEmpty()
                .onComplete(ar -> {
                    connected.values().forEach(MqttConnection::shutdown);
                    unlist.run();
                });
    }

    @Override
    public Map<String, Object> status() {
        if (listener == null) {
            return Map.of();
        }
        Map<String, Object> out = new java.util.LinkedHashMap<>(listener.status());
        if (webSockets != null && webSockets.port() >= 0) {
            out.put("websocket-port", webSockets.port());
        }
        if (webSockets != null && webSockets.tlsPort() >= 0) {
            out.put("websocket-tls-port", webSockets.tlsPort());
        }
        return out;
    }

    /**
     * The connections of one context whose keep alive it checks, with one periodic timer for all of them. The list
     * runs through the connections themselves ({@link MqttConnection#keepAliveNext}): nothing is made per connection.
     */
    private static final class KeepAliveSweep {
        MqttConnection head;
        long timer = -1;
        /** Rounds done; read by tests on other threads. */
        volatile long rounds;
    }

    private final ConcurrentHashMap<io.vertx.core.Context, KeepAliveSweep> sweeps = new ConcurrentHashMap<>();

    /**
     * On {@code context}: adds a connection to its event loop's sweep (started on first use, fires there). Keyed by the
     * event loop's own context: a WebSocket's handlers run on a context duplicated for its request, one per connection,
     * which would have made a sweep, and a timer that never stops, for every connection ever made.
     */
    void watchKeepAlive(io.vertx.core.Context context, MqttConnection connection) {
        KeepAliveSweep sweep = sweeps.computeIfAbsent(loopOf(context), c -> new KeepAliveSweep());
        if (connection.keepAliveWatched) {
            return;
        }
        connection.keepAliveWatched = true;
        connection.keepAlivePrev = null;
        connection.keepAliveNext = sweep.head;
        if (sweep.head != null) {
            sweep.head.keepAlivePrev = connection;
        }
        sweep.head = connection;
        if (sweep.timer < 0) {
            sweep.timer = ctx.vertx().setPeriodic(500, t -> {
                long now = System.currentTimeMillis();
                MqttConnection c = sweep.head;
                while (c != null) {
                    MqttConnection next = c.keepAliveNext; // checking may close c, which leaves the list
                    c.checkKeepAlive(now);
                    c = next;
                }
                sweep.rounds++; // on the sweep's event loop only
            });
        }
    }

    private static io.vertx.core.Context loopOf(io.vertx.core.Context context) {
        return ((io.vertx.core.internal.ContextInternal) context).unwrap();
    }

    /** The fewest rounds any event loop's keep-alive sweep has done. */
    long keepAliveRounds() {
        return sweeps.values().stream().mapToLong(s -> s.rounds).min().orElse(0);
    }

    /** How many keep-alive sweeps (each with its periodic timer) there are. */
    int keepAliveSweeps() {
        return sweeps.size();
    }

    /** On {@code context}: the connection is gone. */
    void unwatchKeepAlive(io.vertx.core.Context context, MqttConnection connection) {
        KeepAliveSweep sweep = sweeps.get(loopOf(context));
        if (sweep == null || !connection.keepAliveWatched) {
            return;
        }
        connection.keepAliveWatched = false;
        if (connection.keepAlivePrev != null) {
            connection.keepAlivePrev.keepAliveNext = connection.keepAliveNext;
        } else {
            sweep.head = connection.keepAliveNext;
        }
        if (connection.keepAliveNext != null) {
            connection.keepAliveNext.keepAlivePrev = connection.keepAlivePrev;
        }
        connection.keepAlivePrev = null;
        connection.keepAliveNext = null;
    }

    /**
     * After a restart: sessions whose clients are gone expire when their interval, counted from the disconnect, ends.
     * Run once the listeners may already take clients: a session whose client came back, or came and went again (its
     * disconnect scheduled an expiry of its own), is left to what that did.
     */
    private void scheduleStoredExpiries() {
        long now = System.currentTimeMillis();
        ctx.broker().states(SESSIONS).forEach((clientId, bytes) -> {
            if (connected.containsKey(clientId) || expiryTimers.containsKey(clientId)) {
                return;
            }
            JsonObject record = new JsonObject(io.vertx.core.buffer.Buffer.buffer(bytes));
            long disconnectedAt = record.getLong("disconnectedAt", 0L);
            // 0: the client was connected when the gateway stopped; its expiry counts from now
            long due = (disconnectedAt == 0 ? now : disconnectedAt) + 1000L * record.getLong("expiry", 0L);
            expiryTimers.computeIfAbsent(clientId, id -> connected.containsKey(id) ? null : expiryTimer(id, due - now));
        });
    }

    /** Ends the session in {@code delayMillis} unless replaced or cancelled first (its client back). */
    void scheduleExpiry(String clientId, long delayMillis) {
        expiryTimers.compute(clientId, (id, earlier) -> {
            if (earlier != null) {
                ctx.vertx().cancelTimer(earlier);
            }
            return expiryTimer(id, delayMillis);
        });
    }

    private Long expiryTimer(String clientId, long delayMillis) {
        return ctx.vertx().setTimer(Math.max(1, delayMillis), t -> {
            expiryTimers.remove(clientId, t); // unless a later one took its place
            if (!connected.containsKey(clientId)) {
                qos2.remove(clientId);
                MqttSessionState.end(ctx.broker(), clientId);
            }
        });
    }

    void cancelExpiry(String clientId) {
        Long id = expiryTimers.remove(clientId);
        if (id != null) {
            ctx.vertx().cancelTimer(id);
        }
    }

    /** A reconnect of the session within the Will Delay Interval cancels the will [MQTT-3.1.3-9]. */
    void cancelWill(String clientId) {
        Long id = willTimers.remove(clientId);
        if (id != null) {
            ctx.vertx().cancelTimer(id);
        }
    }

    @Override
    public Map<String, Object> render(io.omnibus.core.spi.Envelope e, String variant) {
        boolean v5 = !"mqtt3".equals(variant);
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("protocol", v5 ? "mqtt5" : "mqtt3");
        out.put("topic", e.address().name());
        out.put("qos", Translation.qosOf(e));
        out.put("retain", e.retain());
        out.put("dup", e.deliveryCount() > 0 && Translation.qosOf(e) > 0);
        if (v5) {
            Map<String, Object> props = new java.util.LinkedHashMap<>();
            for (io.netty.handler.codec.mqtt.MqttProperties.MqttProperty<?> p
                    : Translation.properties(e, 0, System.currentTimeMillis()).listAll()) {
                switch (p.propertyId()) {
                    case io.netty.handler.codec.mqtt.MqttProperties.PAYLOAD_FORMAT_INDICATOR -> props.put("payload-format-indicator", p.value());
                    case io.netty.handler.codec.mqtt.MqttProperties.CONTENT_TYPE -> props.put("content-type", p.value());
                    case io.netty.handler.codec.mqtt.MqttProperties.RESPONSE_TOPIC -> props.put("response-topic", p.value());
                    case io.netty.handler.codec.mqtt.MqttProperties.CORRELATION_DATA ->
                            props.put("correlation-data", io.omnibus.core.spi.Rendering.value((byte[]) p.value()));
                    case io.netty.handler.codec.mqtt.MqttProperties.PUBLICATION_EXPIRY_INTERVAL -> props.put("message-expiry-interval", p.value());
                    case io.netty.handler.codec.mqtt.MqttProperties.USER_PROPERTY -> {
                        java.util.List<Map<String, String>> pairs = new java.util.ArrayList<>();
                        if (p instanceof io.netty.handler.codec.mqtt.MqttProperties.UserProperties ups) {
                            ups.value().forEach(pair -> pairs.add(Map.of("name", pair.key, "value", pair.value)));
                        }
                        props.put("user-properties", pairs);
                    }
                    default -> {
                        // per connection (subscription identifier): not the message's
                    }
                }
            }
            out.put("properties", props);
        }
        out.put("payload", io.omnibus.core.spi.Rendering.body(e.payload(), v5 && e.payloadUtf8() ? "utf-8" : "bytes"));
        return out;
    }
}
