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
        router.get("/api/topics").handler(ctx -> list(ctx, broker::topicViews, TopicView::name, this::topic));
        router.get("/api/subscriptions").handler(ctx -> list(ctx, broker::subscriptionViews, SubscriptionView::name,
                AdminApi::subscription));
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

    private JsonObject topic(TopicView t) {
        io.omnibus.core.config.AddressRule rule = config.broker().addressRule(Address.of(t.name()));
        java.time.Duration age = rule != null && rule.retentionAge() != null ? rule.retentionAge() : config.store().retentionAge();
        long bytes = rule != null && rule.retentionBytes() != null ? rule.retentionBytes() : config.store().retentionBytes();
        return new JsonObject().put("name", t.name()).put("partitions", t.partitions()).put("queue", t.queue())
                .put("messages", t.messages()).put("bytes", t.bytes())
                .put("startOffset", t.startOffset()).put("endOffset", t.endOffset())
                .put("retentionAgeMillis", age.toMillis()).put("retentionBytes", bytes);
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

    /**
     * The connections (a page of them: {@link ListPage}), each with what it has in flight, asked on its own context:
     * null where it does not answer within 2 s.
     */
    private void connections(RoutingContext ctx) {
        ListPage page = ListPage.of(ctx);
        if (page == null) {
            return;
        }
        ctx.vertx().executeBlocking(() -> page.apply(connections.connections(), l -> l.info().connectionId()), false)
                .onComplete(paged -> {
                    if (paged.failed()) {
                        error(ctx, 500, String.valueOf(paged.cause().getMessage()));
                        return;
                    }
                    ListPage.Result<ConnectionRegistry.Live> r = paged.result();
                    List<io.vertx.core.Promise<Integer>> inFlight = new ArrayList<>(r.items().size());
                    for (ConnectionRegistry.Live l : r.items()) {
                        io.vertx.core.Promise<Integer> n = io.vertx.core.Promise.promise();
                        l.control().inFlight().onComplete(n);
                        inFlight.add(n);
                    }
                    // one timer for the page, not one per connection
                    long timer = ctx.vertx().setTimer(2_000, t -> inFlight.forEach(n -> n.tryComplete(null)));
                    Future.join(inFlight.stream().map(io.vertx.core.Promise::future).toList()).onComplete(done -> {
                        ctx.vertx().cancelTimer(timer);
                        pageOffLoop(ctx, page, () -> {
                            List<JsonObject> rows = new ArrayList<>(r.items().size());
                            for (int i = 0; i < r.items().size(); i++) {
                                ConnectionInfo c = r.items().get(i).info(); // any thread
                                Future<Integer> n = inFlight.get(i).future();
                                rows.add(new JsonObject().put("protocol", c.protocol())
                                        .put("connectionId", c.connectionId()).put("clientId", c.clientId())
                                        .put("remoteAddress", c.remoteAddress()).put("user", c.user())
                                        .put("connectedAt", c.connectedAt())
                                        .put("inFlight", n.succeeded() ? n.result() : null));
                            }
                            return new ListPage.Result<>(rows, r.total(), r.nextAfter());
                        });
                    });
                });
    }

    /** A list as the request pages it ({@link ListPage}), its rows made and encoded on a worker. */
    private <T> void list(RoutingContext ctx, Supplier<List<T>> all, Function<T, String> name,
                          Function<T, JsonObject> row) {
        ListPage page = ListPage.of(ctx);
        if (page != null) {
            pageOffLoop(ctx, page, () -> {
                ListPage.Result<T> r = page.apply(all.get(), name);
                List<JsonObject> rows = new ArrayList<>(r.items().size());
                r.items().forEach(t -> rows.add(row.apply(t)));
                return new ListPage.Result<>(rows, r.total(), r.nextAfter());
            });
        }
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

    /**
     * A page of rows made and encoded on a worker, answered as a JSON array with the page's headers
     * ({@code X-Total-Count}, {@code Link} to the next page): a list of every topic, subscription (one per persistent
     * MQTT session) or connection may hold hundreds of thousands, and the event loop the admin port runs on serves
     * clients. The views read what the broker publishes for any thread, as the scrape's gauges do.
     */
    private static void pageOffLoop(RoutingContext ctx, ListPage page,
                                    java.util.concurrent.Callable<ListPage.Result<JsonObject>> rows) {
        String path = ctx.request().path();
        record Answer(io.vertx.core.buffer.Buffer body, int total, String link) {
        }
        ctx.vertx().executeBlocking(() -> {
            ListPage.Result<JsonObject> r = rows.call();
            String body = new JsonArray(new ArrayList<>(r.items())).encodePrettily();
            return new Answer(io.vertx.core.buffer.Buffer.buffer(body), r.total(),
                    r.nextAfter() == null ? null : page.nextLink(path, r.nextAfter()));
        }, false).onComplete(a -> {
            if (a.failed()) {
                error(ctx, 500, String.valueOf(a.cause().getMessage()));
                return;
            }
            io.vertx.core.http.HttpServerResponse response = ctx.response().putHeader("content-type", "application/json")
                    .putHeader("X-Total-Count", Integer.toString(a.result().total()));
            if (a.result().link() != null) {
                response.putHeader("Link", a.result().link());
            }
            response.end(a.result().body());
        });
    }

    private static String encode(Object body) {
        return body instanceof JsonArray a ? a.encodePrettily() : ((JsonObject) body).encodePrettily();
    }
}
