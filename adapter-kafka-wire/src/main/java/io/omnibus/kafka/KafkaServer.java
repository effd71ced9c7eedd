package io.omnibus.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.transport.ServiceContext;
import io.omnibus.core.transport.Listeners;
import io.vertx.core.Future;
import org.apache.kafka.common.protocol.ApiKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Kafka listener and what outlives a connection: the group coordinator and committed offsets (confined to
 * one context of their own), idempotent producers' sequence state, and the connections, for shutdown.
 */
final class KafkaServer implements ProtocolAdapter {
    static final Logger LOG = LoggerFactory.getLogger(KafkaServer.class);

    final AdapterContext ctx;
    /** What deliveries lose in Kafka (omnibus.translation.losses). */
    final io.omnibus.core.spi.TranslationLosses losses;
    final KafkaConfig config;
    final AtomicInteger connectionCount = new AtomicInteger();
    final Set<KafkaConnection> connections = ConcurrentHashMap.newKeySet();
    final ProducerStates producers;
    final Topics topics;
    final FetchHandler fetches;
    final ProduceHandler produces;
    private final AtomicLong ids = new AtomicLong();
    private final Map<ApiKeys, Counter> requests = new ConcurrentHashMap<>();
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
    private volatile ServiceContext coordinatorContext;
    private volatile GroupCoordinator coordinator;
    private volatile Listeners listener;
    private long expiryTimer = -1;

    KafkaServer(AdapterContext ctx, KafkaConfig config) {
        this.ctx = ctx;
        this.config = config;
        this.losses = new io.omnibus.core.spi.TranslationLosses(ctx.meters());
        this.producers = new ProducerStates();
        this.topics = new Topics(this);
        this.fetches = new FetchHandler(this);
        this.produces = new ProduceHandler(this);
        Gauge.builder("omnibus.kafka.producer.states", producers, ProducerStates::size)
                .description("Idempotent producer/partition sequence states kept").register(ctx.meters());
    }

    void counted(ApiKeys api) {
        requests.computeIfAbsent(api, a -> Counter.builder("omnibus.kafka.requests").tag("api", a.name)
                .description("Kafka requests handled, by API").register(ctx.meters())).increment();
    }

    /** A connection closed for bad input; {@code reason} is one of a few fixed words. */
    void refused(String reason) {
        refusals.computeIfAbsent(reason, r -> Counter.builder("omnibus.kafka.connections.refused").tag("reason", r)
                .description("Kafka connections closed for bad input, by reason").register(ctx.meters())).increment();
    }

    @Override
    public Future<Void> start() {
        // the protocol classes take a few hundred ms to initialize: on a worker, while the gateway starts; a
        // request arriving before that is done waits for it (class initialization)
        ctx.vertx().executeBlocking(() -> ApiTable.implemented().size(), false);
        return ServiceContext.deploy(ctx.vertx())
                .compose(service -> {
                    coordinatorContext = service;
                    return service.call(() -> {
                        coordinator = new GroupCoordinator(this);
                        coordinator.startOffsetsExpiry(); // its timer fires on the coordinator's context
                        return coordinator.load();
                    });
                })
                .compose(v -> Listeners.bind(ctx, config.listeners(), "kafka", (ch, context) -> {
                    KafkaConnection c = new KafkaConnection(this, ch, context, "kafka-" + ids.incrementAndGet());
                    // 4-byte size prefix; a larger request than allowed fails the decoder and closes the connection
                    io.netty.channel.ChannelHandler idle = Listeners.idleTimeout(config.idleTimeout(), "kafka");
                    if (idle != null) {
                        ch.pipeline().addLast("idle", idle);
                    }
                    // until the client has authenticated, requests are small (Kafka's sasl.server.max.receive.size)
                    ch.pipeline().addLast("frames", new io.omnibus.core.transport.LengthPrefixedFrames(config.maxRequestSize(),
                            requiresSasl() ? config.maxUnauthenticatedRequestSize() : config.maxRequestSize()));
                    ch.pipeline().addLast("kafka", c);
                }))
                .map(l -> {
                    listener = l;
                    long sweep = Math.max(1000, Math.min(60_000, config.producerStateRetention().toMillis() / 4));
                    expiryTimer = ctx.vertx().setPeriodic(sweep, t -> producers.expire(System.currentTimeMillis()
                            - config.producerStateRetention().toMillis()));
                    return null;
                });
    }

    /** The port clients on {@code ch} are told to use: their own listener's (plain or TLS); null: the plain one. */
    int advertisedPort(io.netty.channel.Channel ch) {
        Listeners l = listener; // null only for a request racing the bind's completion
        return l != null ? l.advertisedPort(ch, config.advertisedPort())
                : config.advertisedPort() > 0 ? config.advertisedPort() : config.port();
    }

    /**
     * Runs {@code work} on the coordinator's context and completes the returned future on the caller's: the
     * group and offset state is touched only there.
     */
    <T> Future<T> onCoordinator(java.util.function.Function<GroupCoordinator, Future<T>> work) {
        return coordinatorContext.call(() -> work.apply(coordinator));
    }

    /** Whether clients must authenticate with SASL before anything but ApiVersions and the SASL exchange. */
    boolean requiresSasl() {
        return !ctx.authenticator().allowsAnonymous();
    }

    @Override
    public Future<Void> stop() {
        if (expiryTimer >= 0) {
            ctx.vertx().cancelTimer(expiryTimer);
        }
        Future<Void> closed = listener == null ? Future.succeededFuture() : listener.close();
        return closed.onComplete(ar -> connections.forEach(KafkaConnection::shutdown))
                .compose(v -> coordinatorContext == null ? Future.succeededFuture()
                        : onCoordinator(GroupCoordinator::shutdown))
                .compose(v -> coordinatorContext == null ? Future.succeededFuture() : coordinatorContext.undeploy());
    }

    @Override
    public Map<String, Object> status() {
        if (listener == null) {
            return Map.of();
        }
        Map<String, Object> out = new java.util.LinkedHashMap<>(listener.status());
        out.put("advertised", config.advertisedHost() + ":" + advertisedPort(null));
        return out;
    }

    @Override
    public Map<String, Object> render(io.omnibus.core.spi.Envelope e, String variant) {
        org.apache.kafka.common.record.Record r = RecordTranslation.toRecords(java.util.List.of(
                new io.omnibus.core.spi.Logs.Entry(0, e))).records().iterator().next();
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("protocol", "kafka");
        out.put("topic", KafkaNames.toKafka(e.address()));
        out.put("timestamp", r.timestamp());
        out.put("key", r.hasKey() ? io.omnibus.core.spi.Rendering.value(r.key()) : null);
        java.util.List<Map<String, Object>> headers = new java.util.ArrayList<>();
        for (org.apache.kafka.common.header.Header h : r.headers()) {
            Map<String, Object> one = new java.util.LinkedHashMap<>();
            one.put("name", h.key());
            one.putAll(h.value() == null ? Map.of() : io.omnibus.core.spi.Rendering.value(h.value()));
            headers.add(one);
        }
        out.put("headers", headers);
        out.put("value", r.hasValue() ? io.omnibus.core.spi.Rendering.body(r.value(), "bytes") : null);
        return out;
    }
}
