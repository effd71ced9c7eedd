package io.omnibus.openmessaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.transport.ServiceContext;
import io.omnibus.core.transport.Listeners;
import io.omnibus.openmessaging.remoting.RemotingException;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.omnibus.openmessaging.remoting.WireMessage;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The RocketMQ remoting listener, name server and broker on one port, and what outlives a connection: the
 * clients and groups that sent heartbeats, consumer offsets, queue locks, and the two services on a context of
 * their own that release delayed messages and resolve transactions.
 */
final class OpenMessagingServer implements ProtocolAdapter {
    static final Logger LOG = LoggerFactory.getLogger(OpenMessagingServer.class);

    /** RocketMQ's JSON bodies; made at the first one, not at start-up (databind's set-up costs about 30 ms). */
    static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();

        private Json() {
        }
    }

    final AdapterContext ctx;
    /** What deliveries lose in RocketMQ (omnibus.translation.losses). */
    final io.omnibus.core.spi.TranslationLosses losses;
    final OpenMessagingConfig config;
    final AtomicInteger connectionCount = new AtomicInteger();
    final Set<RemotingConnection> connections = ConcurrentHashMap.newKeySet();
    final Routing routing;
    final Clients clients;
    final Consuming consuming;
    final Producing producing;
    final Scheduler scheduler;
    final Transactions transactions;
    private final AtomicLong ids = new AtomicLong();
    private final Counter propertiesCut;
    private final Map<Integer, Counter> requests = new ConcurrentHashMap<>();
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
    private volatile Listeners listener;
    private volatile byte[] hostBytes = {127, 0, 0, 1};
    private volatile ServiceContext service;
    private long sweepTimer = -1;

    OpenMessagingServer(AdapterContext ctx, OpenMessagingConfig config) {
        this.ctx = ctx;
        this.config = config;
        this.losses = new io.omnibus.core.spi.TranslationLosses(ctx.meters());
        ctx.broker().addSelectorVocabulary(Translation::selectorValue);
        this.routing = new Routing(this);
        this.clients = new Clients(this);
        this.consuming = new Consuming(this);
        this.producing = new Producing(this);
        this.scheduler = new Scheduler(this);
        this.transactions = new Transactions(this);
        this.propertiesCut = Counter.builder("omnibus.openmessaging.properties.cut")
                .description("Messages delivered to RocketMQ clients without some properties: more than RocketMQ's "
                        + "32767 bytes of them").register(ctx.meters());
    }

    /**
     * A stored envelope as a RocketMQ client gets it (properties cut to RocketMQ's limit, counted); pulls count what
     * they deliver in omnibus.translation.losses themselves (a view or a check-back is no delivery).
     */
    WireMessage wire(String topic, int queue, long offset, long physical, io.omnibus.core.spi.Envelope e) {
        return Translation.toWire(topic, queue, offset, physical, e, propertiesCut::increment);
    }

    void counted(int code) {
        requests.computeIfAbsent(code, c -> Counter.builder("omnibus.openmessaging.requests").tag("code", codeTag(c))
                .description("RocketMQ remoting requests handled, by request code").register(ctx.meters())).increment();
    }

    /** Request codes as tags: the ones served by number, any other as "other" (the tag's values stay bounded). */
    private static String codeTag(int code) {
        return code >= 0 && code <= 400 ? Integer.toString(code) : "other";
    }

    /** A connection closed for bad input; {@code reason} is one of a few fixed words. */
    void refused(String reason) {
        refusals.computeIfAbsent(reason, r -> Counter.builder("omnibus.openmessaging.connections.refused").tag("reason", r)
                .description("RocketMQ connections closed for bad input, by reason").register(ctx.meters())).increment();
    }

    boolean requiresAuthentication() {
        return !ctx.authenticator().allowsAnonymous();
    }

    @Override
    public Future<Void> start() {
        if (requiresAuthentication()) {
            LOG.info("openmessaging: users are configured: RocketMQ clients sign their requests (AccessKey: a user name, "
                    + "SecretKey: its access-secret) or show a TLS client certificate; others get NO_PERMISSION");
        }
        return ctx.vertx().executeBlocking(() -> resolve(config.advertisedHost()), false)
                .compose(host -> {
                    hostBytes = host;
                    return ServiceContext.deploy(ctx.vertx());
                })
                .compose(s -> {
                    service = s;
                    return onService(() -> consuming.load()
                            .compose(v -> transactions.start())
                            .compose(v -> scheduler.start()));
                })
                .compose(v -> Listeners.bind(ctx, config.listeners(), "openmessaging", (ch, context) -> {
                    RemotingConnection c = new RemotingConnection(this, ch, context, "oms-" + ids.incrementAndGet());
                    // 4-byte length of what follows; a larger frame than allowed fails the decoder and closes the channel
                    io.netty.channel.ChannelHandler idle = Listeners.idleTimeout(config.idleTimeout(), "openmessaging");
                    if (idle != null) {
                        ch.pipeline().addLast("idle", idle);
                    }
                    ch.pipeline().addLast("frames", new LengthFieldBasedFrameDecoder(config.maxFrameSize(), 0, 4, 0, 4, true));
                    ch.pipeline().addLast("remoting", c);
                }))
                .map(l -> {
                    listener = l;
                    long every = Math.max(1000, Math.min(30_000, config.clientExpiry().toMillis() / 4));
                    sweepTimer = ctx.vertx().setPeriodic(every, t -> {
                        clients.expire(System.currentTimeMillis());
                    });
                    return null;
                });
    }

    /** The store host of message ids: the advertised host's IPv4 address (127.0.0.1 when it has none). */
    private static byte[] resolve(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (a instanceof Inet4Address) {
                    return a.getAddress();
                }
            }
        } catch (IOException e) {
            LOG.warn("openmessaging: advertised-host {} does not resolve ({}); message ids name 127.0.0.1", host, e.toString());
        }
        return new byte[] {127, 0, 0, 1};
    }

    byte[] hostBytes() {
        return hostBytes;
    }

    /** The plain listener's advertised port (message ids carry it), or the TLS one's when there is no plain one. */
    int advertisedPort() {
        return advertisedPort(null);
    }

    /** The port clients on {@code ch} are told to use: their own listener's (plain or TLS). */
    int advertisedPort(io.netty.channel.Channel ch) {
        Listeners l = listener;
        return l != null ? l.advertisedPort(ch, config.advertisedPort())
                : config.advertisedPort() > 0 ? config.advertisedPort() : config.port();
    }

    String advertisedAddress() {
        return advertisedAddress(null);
    }

    /** The broker address route answers give a client on {@code ch}. */
    String advertisedAddress(io.netty.channel.Channel ch) {
        return config.advertisedHost() + ":" + advertisedPort(ch);
    }

    /** Runs {@code work} on the services' context (delayed and transactional messages), completing on the caller's. */
    <T> Future<T> onService(java.util.function.Supplier<Future<T>> work) {
        return service.call(work);
    }

    @Override
    public Future<Void> stop() {
        if (sweepTimer >= 0) {
            ctx.vertx().cancelTimer(sweepTimer);
        }
        Future<Void> closed = listener == null ? Future.succeededFuture() : listener.close();
        return closed.onComplete(ar -> connections.forEach(RemotingConnection::shutdown))
                .compose(v -> service == null ? Future.succeededFuture()
                        : onService(() -> scheduler.stop().compose(x -> transactions.stop())))
                .compose(v -> service == null ? Future.succeededFuture() : service.undeploy());
    }

    @Override
    public Map<String, Object> status() {
        if (listener == null) {
            return Map.of();
        }
        Map<String, Object> out = new java.util.LinkedHashMap<>(listener.status());
        out.put("advertised", advertisedAddress());
        return out;
    }

    static ByteBuffer json(Object value) {
        try {
            return ByteBuffer.wrap(Json.MAPPER.writeValueAsBytes(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A request body as JSON; a missing or malformed one is the client's error. */
    static JsonNode jsonBody(io.omnibus.openmessaging.remoting.RemotingCommand cmd) {
        ByteBuffer body = cmd.body();
        if (body == null || !body.hasRemaining()) {
            throw new RemotingException(ResponseCode.SYSTEM_ERROR, "the request body is missing");
        }
        try {
            return Json.MAPPER.readTree(Translation.bytes(body));
        } catch (IOException e) {
            throw new RemotingException(ResponseCode.SYSTEM_ERROR, "the request body is not JSON: " + e.getMessage());
        }
    }

    @Override
    public Map<String, Object> render(io.omnibus.core.spi.Envelope e, String variant) {
        String topic = RocketNames.toRocket(e.address());
        WireMessage w = Translation.toWire(topic == null ? e.address().name() : topic, 0, 0, 0, e, () -> { });
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("protocol", "rocketmq");
        out.put("topic", topic);
        out.put("flag", w.flag());
        out.put("bornTimestamp", w.bornTimestamp());
        out.put("reconsumeTimes", w.reconsumeTimes());
        out.put("properties", w.properties());
        out.put("body", io.omnibus.core.spi.Rendering.body(w.body(), "bytes"));
        return out;
    }
}
