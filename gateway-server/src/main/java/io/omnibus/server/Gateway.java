package io.omnibus.server;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.omnibus.core.internal.BrokerMetrics;
import io.omnibus.core.internal.ConnectionRegistry;
import io.omnibus.core.internal.DefaultBroker;
import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.spi.ProtocolAdapterFactory;
import io.omnibus.core.store.MemoryMessageStore;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.file.FileMessageStore;
import io.omnibus.core.store.file.FileStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The running gateway: store, broker, admin HTTP and the enabled adapters, started in that order
 * and stopped in reverse. If any part fails to start, what did start is stopped again: nothing
 * half-starts.
 */
public final class Gateway {
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

    private final GatewayConfig config;
    private final Map<String, ProtocolAdapterFactory<?>> factories;
    private final Vertx vertx;
    /**
     * The meters. Their time windows (a timer's max and histogram) look at the wall clock on every record, twice per
     * message and timer: the coarse clock's time serves them; durations are measured by their callers.
     */
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT,
            new io.prometheus.metrics.model.registry.PrometheusRegistry(), new io.micrometer.core.instrument.Clock() {
                @Override
                public long wallTime() {
                    return io.omnibus.core.spi.CoarseClock.millis();
                }

                @Override
                public long monotonicTime() {
                    return System.nanoTime();
                }
            });
    private final ConnectionRegistry connections = new ConnectionRegistry(meters);
    private final BrokerMetrics brokerMetrics = new BrokerMetrics(meters);
    // written on event loops, read by /health on the admin context
    private final Map<String, ProtocolAdapter> adapters = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<String> startOrder = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, String> adapterState = new java.util.concurrent.ConcurrentHashMap<>();
    private MessageStore store;
    private DefaultBroker broker;
    private AdminServer admin;
    /** While this node waits as a standby of a shared store: its listeners, passing connections on; else null. */
    private volatile StandbyForwarder forwarder;
    private io.omnibus.server.bridge.Bridges bridges;
    /** Keeps the heap tight while the process idles (null: not here); stopped, with the flags set back, at the stop. */
    private volatile IdleHeap idleHeap;
    private int adminPort;
    private volatile boolean stopping;

    private Gateway(GatewayConfig config, Map<String, ProtocolAdapterFactory<?>> factories) {
        this.config = config;
        this.factories = factories;
        // Netty's native transport (epoll on Linux) where its library loads, else NIO; -Domnibus.transport=nio
        // forces NIO (for comparisons). One event loop per core unless configured (Vert.x's own default is two)
        // Vert.x's cache directory named after this process, those of processes gone removed (VertxCacheDir)
        this.vertx = Vertx.vertx(new io.vertx.core.VertxOptions()
                .setPreferNativeTransport(!"nio".equals(System.getProperty("omnibus.transport")))
                .setEventLoopPoolSize(config.eventLoops())
                .setWorkerPoolSize(config.workerThreads())
                .setFileSystemOptions(VertxCacheDir.options()));
    }

    /**
     * Starts everything; on failure stops what started and fails with a {@link StartupException}.
     * The returned future is not tied to a Vert.x context: it completes even after Vert.x is closed.
     */
    public static Future<Gateway> start(GatewayConfig config, Map<String, ProtocolAdapterFactory<?>> factories) {
        return start(config, factories, g -> { });
    }

    /** As {@link #start(GatewayConfig, Map)}; {@code made} gets the gateway before it starts (to ask it while it does). */
    static Future<Gateway> start(GatewayConfig config, Map<String, ProtocolAdapterFactory<?>> factories,
                                 java.util.function.Consumer<Gateway> made) {
        Gateway g = new Gateway(config, factories);
        made.accept(g);
        io.vertx.core.Promise<Gateway> result = io.vertx.core.Promise.promise();
        g.startAll().onComplete(ar -> {
            if (ar.succeeded()) {
                result.complete(g);
            } else {
                g.stop().onComplete(ignored -> result.fail(ar.cause()));
            }
        });
        return result.future();
    }

    private Future<Void> startAll() {
        new ClassLoaderMetrics().bindTo(meters);
        new JvmMemoryMetrics().bindTo(meters);
        new JvmGcMetrics().bindTo(meters);
        new JvmThreadMetrics().bindTo(meters);
        new ProcessorMetrics().bindTo(meters);
        new UptimeMetrics().bindTo(meters);
        store = createStore(config.store());
        store.instrument(meters);
        List<String> loginProtocols = new ArrayList<>(List.of("admin"));
        config.adapters().values().stream().filter(GatewayConfig.AdapterSection::enabled)
                .forEach(a -> loginProtocols.add(a.protocol()));
        config.users().instrument(meters, loginProtocols);
        // the admin port first: liveness and readiness answer while the store recovers, however long that takes
        admin = new AdminServer(vertx, config.admin(), meters, this::health, () -> ready, config.users(), config.authorizer(),
                store::servingNode);
        return admin.start().recover(e -> Future.failedFuture(bindFailure("admin", config.admin().port(), e)))
                .compose(port -> {
                    adminPort = port;
                    return startForwarder();
                })
                .compose(v -> DefaultBroker.start(vertx, store, config.broker(), brokerMetrics)
                        .recover(e -> Future.failedFuture(new StartupException("store: could not open the "
                                + store.type() + " store: " + e.getMessage(), e))))
                .compose(b -> {
                    broker = b;
                    return stopForwarding(); // this node serves now: its adapters take the ports
                })
                .compose(v -> {
                    bridges = new io.omnibus.server.bridge.Bridges(config.bridges(), vertx, broker, meters, this::waiting);
                    return startAdapters();
                })
                .compose(v -> bridges.start()
                        .recover(e -> Future.failedFuture(new StartupException("bridges: could not start: " + e.getMessage(), e))))
                .onSuccess(v -> {
                    store.advertise(listening());
                    SubscriptionLag.register(meters, broker, config.admin().lagTopSubscriptions(), vertx);
                    admin.ready(new AdminApi(config, broker, connections, adapters::get, bridges, meters, this::health,
                            startedAt));
                    ready = true;
                    admin.warm();
                    idleHeap = IdleHeap.start(vertx, meters);
                });
    }

    /**
     * A store shared by several nodes has this node wait as a standby until it serves: meanwhile it listens on its
     * adapters' configured ports and passes connections on to the serving node ({@link StandbyForwarder}), unless
     * {@code store.kafka.standby-forwarding} is off. Ports configured as 0 (any free one) are not: no client could
     * know them.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private Future<Void> startForwarder() {
        if (!store.sharedByNodes() || config.store().kafka() == null || !config.store().kafka().standbyForwarding()) {
            return Future.succeededFuture();
        }
        Map<String, io.omnibus.core.spi.ListenerPort> ports = new java.util.LinkedHashMap<>();
        for (GatewayConfig.AdapterSection section : config.adapters().values()) {
            ProtocolAdapterFactory factory = factories.get(section.protocol());
            if (section.enabled() && factory != null) {
                List<io.omnibus.core.spi.ListenerPort> own =
                        factory.listenerPorts(factory.configure(section.section()));
                own.stream().filter(p -> p.port() > 0).forEach(p -> ports.put(section.protocol() + "." + p.name(), p));
            }
        }
        StandbyForwarder f = new StandbyForwarder(vertx, store::servingNode, config.users().loopbackOnly(),
                config.store().kafka().standbyProxyProtocol());
        forwarder = f;
        return f.start(ports);
    }

    private Future<Void> stopForwarding() {
        StandbyForwarder f = forwarder;
        forwarder = null;
        return f == null ? Future.succeededFuture() : f.close();
    }

    /**
     * Where this node's adapters listen, as {@code <protocol>.<status name>}, and its admin API's plain HTTP and HTTPS
     * ports ({@code admin.port}, {@code admin.tls-port}): for the standbys of a shared store, which pass connections
     * and admin requests on.
     */
    private Map<String, Integer> listening() {
        Map<String, Integer> out = new java.util.TreeMap<>();
        if (admin.plainPort() > 0) {
            out.put(AdminForwarding.ADMIN_PORT, admin.plainPort());
        }
        if (admin.tlsPort() > 0) {
            out.put(AdminForwarding.ADMIN_TLS_PORT, admin.tlsPort());
        }
        adapters.forEach((protocol, a) -> a.status().forEach((k, v) -> {
            if (k.endsWith("port") && v instanceof Integer port) {
                out.put(protocol + "." + k, port);
            }
        }));
        return out;
    }

    private final long startedAt = System.currentTimeMillis();
    /** Recovered and every part started: what /health/ready waits for. */
    private volatile boolean ready;

    /** What waits in a subscription: its backlog and what is delivered and not acknowledged (0 when there is none). */
    private long waiting(String subscription) {
        io.omnibus.core.internal.SubscriptionView v = broker.subscriptionView(subscription);
        return v == null ? 0 : v.backlog() + v.unacknowledged();
    }

    private MessageStore createStore(GatewayConfig.StoreConfig s) {
        if (s.type().equals("memory")) {
            return new MemoryMessageStore(s.memoryMaxMessages(), s.memoryMaxBytes());
        }
        if (s.type().equals("kafka")) {
            GatewayConfig.KafkaStoreConfig k = s.kafka();
            return new io.omnibus.store.kafka.KafkaMessageStore(new io.omnibus.store.kafka.KafkaStoreOptions(
                    k.bootstrapServers(), k.topicPrefix(), k.replicationFactor(), k.minInsyncReplicas(), k.nodeId(),
                    k.readers(), k.readTimeout(), (int) Math.min(1L << 30, config.broker().maxMessageSize() + 65_536),
                    address -> new io.omnibus.store.kafka.KafkaStoreOptions.Retention(retentionAge(s, address),
                            retentionBytes(s, address)), k.properties(), k.sessionTimeout(),
                    () -> {
                        // another node may be active already: serving on would deliver twice and write over its state
                        System.err.println("omnibus: this node is no longer, or may no longer be, the active one of the "
                                + "Kafka store (see the log); exiting with status " + Main.EXIT_LEASE_LOST);
                        System.err.flush();
                        Runtime.getRuntime().halt(Main.EXIT_LEASE_LOST);
                    }, k.cacheBytes(), s.checkpointInterval(), k.advertisedHost()));
        }
        FileStoreOptions.Fsync fsync = switch (s.fsync()) {
            case "every-write" -> FileStoreOptions.Fsync.EVERY_WRITE;
            case "os" -> FileStoreOptions.Fsync.OS;
            default -> FileStoreOptions.Fsync.GROUP;
        };
        return new FileMessageStore(new FileStoreOptions(s.dir(), fsync, s.fsyncInterval(), s.fsyncBytes(),
                s.segmentSize(), 1 << 20, s.checkpointInterval(), s.queueBytes(),
                address -> new FileStoreOptions.Retention(retentionAge(s, address), retentionBytes(s, address)),
                FileStoreOptions.DEFAULT_OPEN_INDEX_FILES, s.preallocate()));
    }

    /** How long an address's messages are kept: its address rule's retention, else the store's. */
    private java.time.Duration retentionAge(GatewayConfig.StoreConfig s, io.omnibus.core.spi.Address address) {
        io.omnibus.core.config.AddressRule rule = config.broker().addressRule(address);
        return rule != null && rule.retentionAge() != null ? rule.retentionAge() : s.retentionAge();
    }

    private long retentionBytes(GatewayConfig.StoreConfig s, io.omnibus.core.spi.Address address) {
        io.omnibus.core.config.AddressRule rule = config.broker().addressRule(address);
        return rule != null && rule.retentionBytes() != null ? rule.retentionBytes() : s.retentionBytes();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Future<Void> startAdapters() {
        Future<Void> chain = Future.succeededFuture();
        for (GatewayConfig.AdapterSection section : config.adapters().values()) {
            if (!section.enabled()) {
                continue;
            }
            ProtocolAdapterFactory factory = factories.get(section.protocol());
            connections.declareProtocol(section.protocol());
            brokerMetrics.declareProtocol(section.protocol());
            chain = chain.compose(v -> {
                Object adapterConfig = factory.configure(section.section());
                ProtocolAdapter adapter = factory.create(context(), adapterConfig);
                adapters.put(section.protocol(), adapter);
                startOrder.add(section.protocol());
                adapterState.put(section.protocol(), "STARTING");
                return adapter.start()
                        .onSuccess(x -> adapterState.put(section.protocol(), "UP"))
                        .recover(e -> {
                            adapterState.put(section.protocol(), "DOWN");
                            return Future.failedFuture(bindFailure(section.protocol(), section.port(), e));
                        });
            });
        }
        return chain;
    }

    private static StartupException bindFailure(String part, int port, Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && !addressInUse(root)) {
            root = root.getCause();
        }
        if (addressInUse(root)) {
            return new StartupException(part + ": port " + port + " is already in use (" + root.getMessage() + ")", e);
        }
        return new StartupException(part + ": could not start: " + e.getMessage(), e);
    }

    /** NIO says BindException; Netty's native transport an IOException with the system's EADDRINUSE message. */
    private static boolean addressInUse(Throwable t) {
        return t instanceof BindException || t instanceof java.io.IOException && t.getMessage() != null
                && t.getMessage().contains("Address already in use");
    }

    /**
     * With {@code store.kafka.standby-proxy-protocol}, the standbys start each connection they pass on with a PROXY
     * header, so every listener honours headers from the nodes sharing the store (as their Kafka cluster sees them).
     */
    private AdapterContext context() {
        boolean proxying = store.sharedByNodes() && config.store().kafka() != null
                && config.store().kafka().standbyProxyProtocol();
        return AdapterContext.of(vertx, broker, connections, meters, config.users(), config.authorizer(),
                proxying ? store::nodeAddresses : null);
    }

    /**
     * Stops accepting (adapters first), lets in-flight publishes reach the store, flushes and
     * closes it, then the admin server and Vert.x. Like {@link #start}, the future is not tied to a
     * context: futures bound to a context of a closed Vert.x would never complete.
     */
    public Future<Void> stop() {
        io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
        // the heap's flags set back whether the parts stopped well or not: they are the process's
        stopParts().transform(ar -> idleHeap == null ? Future.<Void>succeededFuture() : idleHeap.close()).onComplete(ar -> {
            // Vert.x cannot report its own close to one of its event loops, so it is closed from a thread of our own
            Thread t = new Thread(() -> vertx.close().onComplete(done), "omnibus-vertx-close");
            t.setDaemon(true);
            t.start();
        });
        return done.future();
    }

    private static Future<Void> stopSafely(ProtocolAdapter a) {
        try {
            return a.stop();
        } catch (RuntimeException e) {
            return Future.failedFuture(e); // one adapter's bug must not keep the store from being flushed
        }
    }

    private Future<Void> stopParts() {
        stopping = true;
        List<String> names = new ArrayList<>(startOrder);
        java.util.Collections.reverse(names);
        Future<Void> chain = stopForwarding().otherwise(e -> null)
                .compose(v -> bridges == null ? Future.<Void>succeededFuture() : bridges.stop().otherwise(e -> {
                    LOG.warn("bridges: stop failed: {}", e.toString());
                    return null;
                }));
        for (String name : names) {
            ProtocolAdapter a = adapters.get(name);
            chain = chain.compose(v -> stopSafely(a).otherwise(e -> {
                LOG.warn("{}: stop failed: {}", name, e.toString());
                return null;
            }).onComplete(x -> adapterState.put(name, "STOPPED")));
        }
        return chain
                .compose(v -> broker == null ? (store == null ? Future.<Void>succeededFuture() : store.close()) : broker.close())
                .otherwise(e -> {
                    LOG.warn("store: close failed: {}", e.toString());
                    return null;
                })
                .compose(v -> admin == null ? Future.<Void>succeededFuture() : admin.stop())
                .otherwise(e -> null);
    }

    JsonObject health() {
        boolean storeUp = store != null && store.healthy();
        boolean up = !stopping && storeUp && broker != null && !broker.isClosing();
        JsonObject adaptersJson = new JsonObject();
        for (GatewayConfig.AdapterSection s : config.adapters().values()) {
            if (!s.enabled()) {
                continue;
            }
            String state = adapterState.getOrDefault(s.protocol(), "STARTING");
            up &= state.equals("UP");
            JsonObject a = new JsonObject().put("status", state);
            ProtocolAdapter adapter = adapters.get(s.protocol());
            if (adapter != null) {
                adapter.status().forEach(a::put);
            }
            adaptersJson.put(s.protocol(), a);
        }
        JsonObject storeJson = new JsonObject().put("status", storeUp ? "UP" : broker == null && !stopping ? "STARTING" : "DOWN")
                .put("type", store == null ? null : store.type());
        if (store != null) {
            store.status().forEach(storeJson::put);
        }
        StandbyForwarder f = forwarder;
        if (f != null) { // a standby: where it passes connections on, and how many it does
            io.omnibus.core.store.ServingNode serving = store.servingNode();
            storeJson.put("forwarding", new JsonObject().put("to", serving == null ? null
                    : serving.nodeId() + " (" + serving.host() + ")").put("connections", f.connections()));
        }
        return new JsonObject()
                .put("status", up ? "UP" : "DOWN")
                .put("store", storeJson)
                .put("adapters", adaptersJson)
                .put("bridges", bridges == null ? new JsonObject() : bridges.health());
    }

    /** The port an enabled adapter listens on (the one chosen, when 0 was configured). */
    public int port(String protocol) {
        return (Integer) adapters.get(protocol).status().get("port");
    }

    /** Whether this node waits as a standby of a Kafka store's active node (it has served nothing). */
    boolean standby() {
        MessageStore s = store;
        return s != null && "standby".equals(s.status().get("role"));
    }

    /** Whether the gateway recovered its store and started every part. */
    public boolean ready() {
        return ready;
    }

    public int adminPort() {
        return adminPort;
    }

    /** A port an adapter listens on, by its status key ({@code port}, {@code tls-port}, ...); -1 when it has none. */
    public int port(String protocol, String key) {
        Object port = adapters.get(protocol).status().get(key);
        return port instanceof Integer p ? p : -1;
    }

    /** One line per part, for the startup message. */
    public String describe() {
        StringBuilder sb = new StringBuilder("admin " + (config.admin().port() < 0 ? "https" : "http") + "://"
                + config.admin().host() + ":" + adminPort + ", store " + store.type());
        startOrder.forEach(name -> sb.append(", ").append(name).append(' ').append(adapters.get(name).status()));
        return sb.toString();
    }

    public Vertx vertx() {
        return vertx;
    }

    public DefaultBroker broker() {
        return broker;
    }
}
