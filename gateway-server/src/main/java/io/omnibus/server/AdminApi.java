package io.omnibus.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.omnibus.core.internal.ConnectionRegistry;
import io.omnibus.core.internal.DefaultBroker;
import io.omnibus.core.internal.SubscriptionView;
import io.omnibus.core.internal.TopicView;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.server.bridge.Bridges;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The admin API under {@code /api}: what the gateway holds (overview, addresses, subscriptions, connections; stored
 * messages and the translation table in {@link AdminMessages}) and what an operator may do with it
 * ({@link AdminActions}). {@link AdminServer} authenticates and authorizes first; routes registered here answer only
 * once the gateway has recovered its store. The helpers at the end serve all three.
 */
final class AdminApi {

    private final GatewayConfig config;
    private final DefaultBroker broker;
    private final ConnectionRegistry connections;
    private final Function<String, ProtocolAdapter> adapters;
    private final Bridges bridges;
    private final MeterRegistry meters;
    private final Supplier<JsonObject> health;
    private final long startedAt;

    AdminApi(GatewayConfig config, DefaultBroker broker, ConnectionRegistry connections,
             Function<String, ProtocolAdapter> adapters, Bridges bridges, MeterRegistry meters, Supplier<JsonObject> health,
             long startedAt) {
        this.config = config;
        this.broker = broker;
        this.connections = connections;
        this.adapters = adapters;
        this.bridges = bridges;
        this.meters = meters;
        this.health = health;
        this.startedAt = startedAt;
    }

    /** The routes; {@code permitted} says whether a request may see message contents or act. */
    void routes(Router router, java.util.function.Predicate<RoutingContext> permitted) {
        AdminMessages messages = new AdminMessages(broker, adapters);
        AdminActions actions = new AdminActions(broker, connections, bridges);
        router.get("/api/overview").handler(ctx -> json(ctx, overview()));
        router.get("/api/topics").handler(ctx -> jsonOffLoop(ctx, this::topics));
        router.get("/api/subscriptions").handler(ctx -> jsonOffLoop(ctx, this::subscriptions));
        router.get("/api/connections").handler(this::connections);
        router.get("/api/translation").handler(messages::translation);
        router.get("/api/bridges").handler(ctx -> json(ctx, bridges.status()));
        // names may hold '/' (sent as %2F or as it is): the regex takes the whole rest of the path
        String contents = "message contents are shown to requests from the gateway's own machine only (or to authorized users)";
        router.getWithRegex("/api/messages/(.+)/as/([a-z0-9]+)").handler(guard(permitted, messages::messageAs, contents));
        router.getWithRegex("/api/topics/(.+)/messages").handler(guard(permitted, messages::browse, contents));
        String acting = "actions are taken for requests from the gateway's own machine only (or for users with admin: operate)";
        router.postWithRegex("/api/bridges/([^/]+)/([a-z]+)").handler(guard(permitted, actions::controlBridge, acting));
        router.postWithRegex("/api/subscriptions/(.+)/(purge|pause|resume)").handler(guard(permitted,
                actions::subscriptionAction, acting));
        router.deleteWithRegex("/api/subscriptions/(.+)").handler(guard(permitted, actions::deleteSubscription, acting));
        router.postWithRegex("/api/topics/(.+)/redrive").handler(guard(permitted, actions::redrive, acting));
        router.deleteWithRegex("/api/topics/(.+)").handler(guard(permitted, actions::deleteTopic, acting));
        router.postWithRegex("/api/connections/(.+)/disconnect").handler(guard(permitted, actions::disconnect, acting));
    }

    private static io.vertx.core.Handler<RoutingContext> guard(java.util.function.Predicate<RoutingContext> permitted,
                                                               io.vertx.core.Handler<RoutingContext> handler, String refusal) {
        return ctx -> {
            if (permitted.test(ctx)) {
                handler.handle(ctx);
            } else {
                error(ctx, 403, refusal);
            }
        };
    }

    // ---- views ------------------------------------------------------------------------------------

    private JsonObject overview() {
        JsonObject in = new JsonObject();
        JsonObject out = new JsonObject();
        JsonObject bytesIn = new JsonObject();
        JsonObject bytesOut = new JsonObject();
        meters.find("omnibus.messages.in").counters().forEach(c -> in.put(c.getId().getTag("protocol"), (long) c.count()));
        meters.find("omnibus.messages.out").counters().forEach(c -> out.put(c.getId().getTag("protocol"), (long) c.count()));
        meters.find("omnibus.payload.in").counters().forEach(c -> bytesIn.put(c.getId().getTag("protocol"), (long) c.count()));
        meters.find("omnibus.payload.out").counters().forEach(c -> bytesOut.put(c.getId().getTag("protocol"), (long) c.count()));
        JsonObject counts = new JsonObject();
        connections.counts().forEach(counts::put);
        JsonObject store = new JsonObject().put("type", broker.store().type())
                .put("bytes", gauge("omnibus.store.size"))
                .put("diskFree", gauge("omnibus.store.disk.free"))
                .put("diskTotal", gauge("omnibus.store.disk.total"));
        io.micrometer.core.instrument.Timer fsync = meters.find("omnibus.store.fsync").timer();
        if (fsync != null) {
            io.micrometer.core.instrument.distribution.HistogramSnapshot h = fsync.takeSnapshot();
            store.put("fsync", new JsonObject().put("count", h.count())
                    .put("meanMillis", h.mean(java.util.concurrent.TimeUnit.MILLISECONDS))
                    .put("maxMillis", h.max(java.util.concurrent.TimeUnit.MILLISECONDS))
                    .put("p99Millis", percentile(h, 0.99)));
        }
        // totals from the gauges: no list of every subscription made for a page that polls every 2 s
        return new JsonObject().put("version", Main.version()).put("startedAt", startedAt)
                .put("uptimeMillis", System.currentTimeMillis() - startedAt).put("health", health.get())
                .put("connections", counts).put("messages", new JsonObject().put("in", in).put("out", out))
                .put("bytes", new JsonObject().put("in", bytesIn).put("out", bytesOut)).put("store", store)
                .put("topics", gauge("omnibus.topics")).put("subscriptions", gauge("omnibus.subscriptions"))
                .put("backlog", gauge("omnibus.subscriptions.backlog"));
    }

    /** The bucket bound at or above {@code q} of the counts (histogram buckets: no exact percentile is kept). */
    private static Double percentile(io.micrometer.core.instrument.distribution.HistogramSnapshot h, double q) {
        long total = h.count();
        if (total == 0) {
            return null;
        }
        for (io.micrometer.core.instrument.distribution.CountAtBucket b : h.histogramCounts()) {
            if (b.count() >= q * total) {
                return b.bucket(java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        }
        return h.max(java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private Long gauge(String name) {
        io.micrometer.core.instrument.Gauge g = meters.find(name).gauge();
        return g == null ? null : (long) g.value();
    }

    private JsonArray topics() {
        JsonArray out = new JsonArray();
        for (TopicView t : broker.topicViews()) {
            io.omnibus.core.config.AddressRule rule = config.broker().addressRule(Address.of(t.name()));
            java.time.Duration age = rule != null && rule.retentionAge() != null ? rule.retentionAge() : config.store().retentionAge();
            long bytes = rule != null && rule.retentionBytes() != null ? rule.retentionBytes() : config.store().retentionBytes();
            out.add(new JsonObject().put("name", t.name()).put("partitions", t.partitions()).put("queue", t.queue())
                    .put("messages", t.messages()).put("bytes", t.bytes())
                    .put("startOffset", t.startOffset()).put("endOffset", t.endOffset())
                    .put("retentionAgeMillis", age.toMillis()).put("retentionBytes", bytes));
        }
        return out;
    }

    private JsonArray subscriptions() {
        JsonArray out = new JsonArray();
        for (SubscriptionView s : broker.subscriptionViews()) {
            out.add(subscription(s));
        }
        return out;
    }

    static JsonObject subscription(SubscriptionView s) {
        return new JsonObject().put("name", s.name()).put("filter", s.filter()).put("dispatch", s.dispatch())
                .put("durable", s.durable()).put("consumers", s.consumers()).put("backlog", s.backlog())
                .put("unacknowledged", s.unacknowledged()).put("delivered", s.delivered())
                .put("acknowledged", s.acknowledged()).put("redelivered", s.redelivered())
                .put("deadLettered", s.deadLettered()).put("expired", s.expired()).put("dropped", s.dropped())
                .put("lostToRetention", s.lostToRetention()).put("paused", s.paused())
                .put("deadLetterAddress", s.deadLetterAddress());
    }

    /** Every connection, with what each has in flight (asked on its own context; null if it does not answer soon). */
    private void connections(RoutingContext ctx) {
        List<ConnectionRegistry.Live> all = connections.connections();
        List<Future<Integer>> inFlight = new ArrayList<>(all.size());
        for (ConnectionRegistry.Live l : all) {
            io.vertx.core.Promise<Integer> n = io.vertx.core.Promise.promise();
            l.control().inFlight().onComplete(n);
            long timer = ctx.vertx().setTimer(2_000, t -> n.tryComplete(null));
            inFlight.add(n.future().onComplete(x -> ctx.vertx().cancelTimer(timer)));
        }
        Future.join(inFlight).onComplete(done -> jsonOffLoop(ctx, () -> {
            JsonArray out = new JsonArray();
            for (int i = 0; i < all.size(); i++) {
                ConnectionInfo c = all.get(i).info(); // any thread
                Future<Integer> n = inFlight.get(i);
                out.add(new JsonObject().put("protocol", c.protocol()).put("connectionId", c.connectionId())
                        .put("clientId", c.clientId()).put("remoteAddress", c.remoteAddress()).put("user", c.user())
                        .put("connectedAt", c.connectedAt()).put("inFlight", n.succeeded() ? n.result() : null));
            }
            return out;
        }));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    static final class NotFound extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotFound(String message) {
            super(message, null, false, false);
        }
    }

    static void answer(RoutingContext ctx, Future<JsonObject> result) {
        result.onComplete(ar -> {
            if (ar.succeeded()) {
                json(ctx, ar.result());
            } else if (ar.cause() instanceof NotFound || ar.cause() instanceof io.omnibus.core.spi.BrokerException b
                    && b.reason() == io.omnibus.core.spi.BrokerException.Reason.NOT_FOUND) {
                error(ctx, 404, ar.cause().getMessage());
            } else if (ar.cause() instanceof io.omnibus.core.spi.BrokerException b
                    && b.reason() == io.omnibus.core.spi.BrokerException.Reason.CONFLICT
                    || ar.cause() instanceof IllegalStateException) {
                error(ctx, 409, ar.cause().getMessage());
            } else {
                error(ctx, 500, String.valueOf(ar.cause().getMessage()));
            }
        });
    }

    static String param(RoutingContext ctx, String name, String dflt) {
        String v = ctx.request().getParam(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    static Address address(RoutingContext ctx, String name) {
        try {
            return Address.of(name);
        } catch (InvalidAddressException e) {
            error(ctx, 400, e.getMessage());
            return null;
        }
    }

    static boolean partitionExists(DefaultBroker broker, RoutingContext ctx, Address address, int partition) {
        int partitions = broker.logs().partitionCount(address);
        if (partitions == 0) {
            error(ctx, 404, "no address " + address.name());
            return false;
        }
        if (partition < 0 || partition >= partitions) {
            error(ctx, 404, "no partition " + partition + " of " + address.name() + " (it has " + partitions + ")");
            return false;
        }
        return true;
    }

    static void error(RoutingContext ctx, int status, String message) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
                .end(new JsonObject().put("error", message).encodePrettily());
    }

    static void json(RoutingContext ctx, Object body) {
        ctx.response().putHeader("content-type", "application/json").end(encode(body));
    }

    /**
     * A list made and encoded on a worker: one of every topic, subscription (one per persistent MQTT session) or
     * connection may hold hundreds of thousands, and the event loop the admin port runs on serves clients. The views
     * read what the broker publishes for any thread, as the scrape's gauges do.
     */
    static void jsonOffLoop(RoutingContext ctx, java.util.function.Supplier<Object> view) {
        offLoop(ctx, "application/json", () -> encode(view.get()));
    }

    /**
     * Answers with what {@code body} makes on a worker, turned into bytes there too (a long text's UTF-8 encoding is
     * work the event loop would do in its write); a 500 if it fails.
     */
    static void offLoop(RoutingContext ctx, String contentType, java.util.concurrent.Callable<String> body) {
        ctx.vertx().executeBlocking(() -> io.vertx.core.buffer.Buffer.buffer(body.call()), false).onComplete(bytes -> {
            if (bytes.succeeded()) {
                ctx.response().putHeader("content-type", contentType).end(bytes.result());
            } else {
                error(ctx, 500, String.valueOf(bytes.cause().getMessage()));
            }
        });
    }

    private static String encode(Object body) {
        return body instanceof JsonArray a ? a.encodePrettily() : ((JsonObject) body).encodePrettily();
    }
}
