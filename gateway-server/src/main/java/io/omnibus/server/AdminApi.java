package io.omnibus.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.omnibus.core.internal.ConnectionRegistry;
import io.omnibus.core.internal.DefaultBroker;
import io.omnibus.core.internal.SubscriptionView;
import io.omnibus.core.internal.TopicView;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.spi.TranslationTable;
import io.omnibus.server.bridge.Bridges;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The admin API under {@code /api}: what the gateway holds (overview, addresses, subscriptions, connections, stored
 * messages, the translation table) and what an operator may do with it (purge, pause and resume, delete, move dead
 * letters back, disconnect, pause and resume bridges). {@link AdminServer} authenticates and authorizes first; routes
 * registered here answer only once the gateway has recovered its store.
 */
final class AdminApi {
    private static final List<String> SHOWN_PROTOCOLS = TranslationTable.PROTOCOLS;

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
        router.get("/api/overview").handler(ctx -> json(ctx, overview()));
        router.get("/api/topics").handler(ctx -> json(ctx, topics()));
        router.get("/api/subscriptions").handler(ctx -> json(ctx, subscriptions()));
        router.get("/api/connections").handler(this::connections);
        router.get("/api/translation").handler(this::translation);
        router.get("/api/bridges").handler(ctx -> json(ctx, bridges.status()));
        // names may hold '/' (sent as %2F or as it is): the regex takes the whole rest of the path
        router.getWithRegex("/api/messages/(.+)/as/([a-z0-9]+)").handler(guard(permitted, this::messageAs,
                "message contents are shown to requests from the gateway's own machine only (or to authorized users)"));
        router.getWithRegex("/api/topics/(.+)/messages").handler(guard(permitted, this::browse,
                "message contents are shown to requests from the gateway's own machine only (or to authorized users)"));
        String acting = "actions are taken for requests from the gateway's own machine only (or for users with admin: operate)";
        router.postWithRegex("/api/bridges/([^/]+)/([a-z]+)").handler(guard(permitted, this::controlBridge, acting));
        router.postWithRegex("/api/subscriptions/(.+)/(purge|pause|resume)").handler(guard(permitted, this::subscriptionAction, acting));
        router.deleteWithRegex("/api/subscriptions/(.+)").handler(guard(permitted, this::deleteSubscription, acting));
        router.postWithRegex("/api/topics/(.+)/redrive").handler(guard(permitted, this::redrive, acting));
        router.deleteWithRegex("/api/topics/(.+)").handler(guard(permitted, this::deleteTopic, acting));
        router.postWithRegex("/api/connections/(.+)/disconnect").handler(guard(permitted, this::disconnect, acting));
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

    private static JsonObject subscription(SubscriptionView s) {
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
        Future.join(inFlight).onComplete(done -> {
            JsonArray out = new JsonArray();
            for (int i = 0; i < all.size(); i++) {
                ConnectionInfo c = all.get(i).info();
                Future<Integer> n = inFlight.get(i);
                out.add(new JsonObject().put("protocol", c.protocol()).put("connectionId", c.connectionId())
                        .put("clientId", c.clientId()).put("remoteAddress", c.remoteAddress()).put("user", c.user())
                        .put("connectedAt", c.connectedAt()).put("inFlight", n.succeeded() ? n.result() : null));
            }
            json(ctx, out);
        });
    }

    /**
     * {@code /api/translation}: the whole table; with {@code from} and {@code to} (mqtt3, mqtt5, amqp, kafka, rocketmq),
     * the field table of that pair: each field, how each side carries it, and whether it is kept, converted or lost.
     */
    private void translation(RoutingContext ctx) {
        TranslationTable table = TranslationTable.get();
        String from = ctx.request().getParam("from");
        String to = ctx.request().getParam("to");
        if (from == null && to == null) {
            JsonArray fields = new JsonArray();
            for (TranslationTable.Field f : table.fields()) {
                JsonObject protocols = new JsonObject();
                f.cells().forEach((p, c) -> protocols.put(p, cell(c)));
                fields.add(new JsonObject().put("field", f.name()).put("meaning", f.meaning()).put("protocols", protocols));
            }
            json(ctx, fields);
            return;
        }
        if (from == null || to == null || !SHOWN_PROTOCOLS.contains(from) || !SHOWN_PROTOCOLS.contains(to)) {
            error(ctx, 400, "from and to must both be given, each one of " + SHOWN_PROTOCOLS);
            return;
        }
        JsonArray rows = new JsonArray();
        for (TranslationTable.Outcome o : table.pair(from, to)) {
            rows.add(new JsonObject().put("field", o.field()).put("meaning", o.meaning()).put("from", cell(o.from()))
                    .put("to", cell(o.to())).put("result", o.result()));
        }
        json(ctx, rows);
    }

    private static JsonObject cell(TranslationTable.Cell c) {
        return new JsonObject().put("carry", c.carry().name().toLowerCase(java.util.Locale.ROOT)).put("how", c.how());
    }

    /** {@code /api/messages/{address}@{partition}:{offset}/as/{protocol}}: a stored message as that protocol delivers it. */
    private void messageAs(RoutingContext ctx) {
        String id = ctx.pathParam("param0"); // already decoded by the router
        String protocol = ctx.pathParam("param1");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.+)@(\\d+):(\\d+)").matcher(id);
        if (!m.matches()) {
            error(ctx, 400, "a message id is ADDRESS@PARTITION:OFFSET, not " + id);
            return;
        }
        if (!SHOWN_PROTOCOLS.contains(protocol)) {
            error(ctx, 400, "the protocol must be one of " + SHOWN_PROTOCOLS);
            return;
        }
        ProtocolAdapter adapter = adapters.apply(protocol.startsWith("mqtt") ? "mqtt"
                : protocol.equals("rocketmq") ? "openmessaging" : protocol);
        if (adapter == null) {
            error(ctx, 404, "the " + protocol + " adapter is not running");
            return;
        }
        Address address = address(ctx, m.group(1));
        int partition;
        long offset;
        try {
            partition = Integer.parseInt(m.group(2));
            offset = Long.parseLong(m.group(3));
        } catch (NumberFormatException e) {
            error(ctx, 400, "partition or offset out of range in " + id);
            return;
        }
        if (address == null || !partitionExists(ctx, address, partition)) {
            return;
        }
        broker.logs().read(address, partition, offset, 1).onComplete(ar -> {
            try {
                if (ar.failed()) {
                    error(ctx, 500, "the store could not read " + id + ": " + ar.cause().getMessage());
                    return;
                }
                if (ar.result().isEmpty() || ar.result().get(0).offset() != offset) {
                    error(ctx, 404, "no message at " + id);
                    return;
                }
                Envelope e = ar.result().get(0).envelope();
                Map<String, Object> shown = adapter.render(e, protocol);
                if (shown == null) {
                    error(ctx, 404, "the " + protocol + " adapter does not show messages");
                    return;
                }
                JsonObject body = new JsonObject().put("id", id).put("origin", column(e))
                        .put("originProtocol", e.origin() == null ? null : e.origin().protocol())
                        .put("as", JsonObject.mapFrom(shown));
                ctx.response().putHeader("content-type", "application/json").end(body.encodePrettily());
            } catch (RuntimeException err) {
                error(ctx, 500, "showing " + id + " as " + protocol + " failed: " + err);
            }
        });
    }

    /**
     * {@code /api/topics/{address}/messages?partition=P&offset=O&max=N}: a page of stored messages, from {@code O} on
     * (default: the newest {@code N}), each with its headers and the start of its payload.
     */
    private void browse(RoutingContext ctx) {
        Address address = address(ctx, ctx.pathParam("param0"));
        if (address == null) {
            return;
        }
        int partition;
        int max;
        Long offset;
        try {
            partition = Integer.parseInt(param(ctx, "partition", "0"));
            max = Math.min(200, Math.max(1, Integer.parseInt(param(ctx, "max", "20"))));
            String o = ctx.request().getParam("offset");
            offset = o == null || o.isBlank() ? null : Long.parseLong(o);
        } catch (NumberFormatException e) {
            error(ctx, 400, "partition, offset and max are whole numbers");
            return;
        }
        if (!partitionExists(ctx, address, partition)) {
            return;
        }
        Logs logs = broker.logs();
        long start = logs.startOffset(address, partition);
        long end = logs.endOffset(address, partition);
        long from = Math.max(start, offset == null ? end - max : offset);
        logs.read(address, partition, from, max).onComplete(ar -> {
            if (ar.failed()) {
                error(ctx, 500, "the store could not read " + address + "@" + partition + ": " + ar.cause().getMessage());
                return;
            }
            JsonArray messages = new JsonArray();
            for (Logs.Entry entry : ar.result()) {
                messages.add(summary(entry));
            }
            ctx.response().putHeader("content-type", "application/json").end(new JsonObject().put("address", address.name())
                    .put("partition", partition).put("startOffset", start).put("endOffset", end).put("messages", messages)
                    .encodePrettily());
        });
    }

    private static JsonObject summary(Logs.Entry entry) {
        Envelope e = entry.envelope();
        JsonObject headers = new JsonObject();
        e.headers().forEach(h -> headers.put(h.name(), h.isText() ? h.stringValue()
                : "base64:" + java.util.Base64.getEncoder().encodeToString(bytes(h.bytesValue()))));
        byte[] payload = e.payloadBytes();
        String preview;
        java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
        try {
            String text = utf8.decode(java.nio.ByteBuffer.wrap(payload, 0, Math.min(payload.length, 512))).toString();
            preview = text.length() > 200 ? text.substring(0, 200) : text;
        } catch (java.nio.charset.CharacterCodingException notText) {
            preview = "base64:" + java.util.Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(payload,
                    Math.min(payload.length, 96)));
        }
        String key = e.hasKey() ? new String(bytes(e.key()), StandardCharsets.UTF_8) : null;
        return new JsonObject().put("offset", entry.offset()).put("timestamp", e.createdAt()).put("key", key)
                .put("size", e.payloadSize()).put("contentType", e.contentType())
                .put("origin", column(e)).put("originProtocol", e.origin() == null ? null : e.origin().protocol())
                .put("headers", headers)
                .put("preview", preview);
    }

    /**
     * The translation table's column of the protocol a message came in with (null for the broker's own, such as
     * dead letters' copies): MQTT's is mqtt5, since the envelope does not keep which version the publisher spoke.
     */
    private static String column(Envelope e) {
        String p = e.origin() == null ? null : e.origin().protocol();
        if (p == null) {
            return null;
        }
        String column = switch (p) {
            case "mqtt" -> "mqtt5";
            case "openmessaging" -> "rocketmq";
            default -> p;
        };
        return SHOWN_PROTOCOLS.contains(column) ? column : null;
    }

    private static byte[] bytes(java.nio.ByteBuffer b) {
        java.nio.ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    // ---- actions ----------------------------------------------------------------------------------

    /**
     * {@code POST /api/bridges/{name}/pause} and {@code .../resume}: a paused bridge closes its connection and keeps
     * its cursor (its lag grows); resumed, it connects again.
     */
    private void controlBridge(RoutingContext ctx) {
        String name = ctx.pathParam("param0");
        String action = ctx.pathParam("param1");
        if (!action.equals("pause") && !action.equals("resume")) {
            error(ctx, 404, "a bridge's actions are pause and resume, not " + action);
            return;
        }
        Future<Void> done = bridges.control(name, action.equals("pause"));
        if (done == null) {
            error(ctx, 404, "no bridge named " + name);
            return;
        }
        answer(ctx, done.map(v -> bridges.status(name)));
    }

    /** {@code POST /api/subscriptions/{name}/purge | pause | resume}. */
    private void subscriptionAction(RoutingContext ctx) {
        String name = ctx.pathParam("param0");
        String action = ctx.pathParam("param1");
        io.omnibus.core.spi.Subscription s = broker.subscription(name);
        if (s == null) {
            error(ctx, 404, "no subscription named " + name);
            return;
        }
        if (internal(ctx, s.filter().filter())) {
            return;
        }
        if (action.equals("purge")) {
            answer(ctx, broker.purge(name).map(n -> new JsonObject().put("name", name).put("purged", n)));
        } else {
            answer(ctx, broker.pause(name, action.equals("pause")).map(found -> {
                for (SubscriptionView v : broker.subscriptionViews()) {
                    if (v.name().equals(name)) {
                        return subscription(v);
                    }
                }
                return new JsonObject().put("name", name);
            }));
        }
    }

    /** {@code DELETE /api/subscriptions/{name}}: its consumers stay attached and get nothing more. */
    private void deleteSubscription(RoutingContext ctx) {
        String name = ctx.pathParam("param0");
        io.omnibus.core.spi.Subscription s = broker.subscription(name);
        if (s == null) {
            error(ctx, 404, "no subscription named " + name);
            return;
        }
        if (internal(ctx, s.filter().filter())) {
            return;
        }
        answer(ctx, broker.unsubscribe(name).map(v -> new JsonObject().put("deleted", name)));
    }

    /**
     * The broker's own addresses ({@code $tx/...}: prepared transactions in doubt) are not for operators to delete or
     * move: answers 409 and returns true for them.
     */
    private static boolean internal(RoutingContext ctx, String name) {
        if (name.startsWith("$tx/")) {
            error(ctx, 409, name + " is the gateway's own (prepared transactions): resolve them instead "
                    + "(docs/openmessaging.md#transactions, XA recover)");
            return true;
        }
        return false;
    }

    /** {@code DELETE /api/topics/{address}}: the address and its log. */
    private void deleteTopic(RoutingContext ctx) {
        Address address = address(ctx, ctx.pathParam("param0"));
        if (address == null || internal(ctx, address.name())) {
            return;
        }
        answer(ctx, broker.deleteAddress(address).compose(existed -> existed
                ? Future.succeededFuture(new JsonObject().put("deleted", address.name()))
                : Future.failedFuture(new NotFound("no address " + address.name()))));
    }

    /** {@code POST /api/topics/{dead-letter address}/redrive}: dead letters back to the addresses they came from. */
    private void redrive(RoutingContext ctx) {
        Address address = address(ctx, ctx.pathParam("param0"));
        if (address == null || internal(ctx, address.name()) || !partitionExists(ctx, address, 0)) {
            return;
        }
        answer(ctx, broker.redrive(address).map(r -> new JsonObject().put("address", address.name()).put("moved", r[0])
                .put("kept", r[1])));
    }

    /** {@code POST /api/connections/{id}/disconnect}. */
    private void disconnect(RoutingContext ctx) {
        String id = ctx.pathParam("param0");
        ConnectionRegistry.Live l = connections.find(id);
        if (l == null) {
            error(ctx, 404, "no connection " + id);
            return;
        }
        l.control().disconnect();
        json(ctx, new JsonObject().put("disconnected", id).put("protocol", l.info().protocol()));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static final class NotFound extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotFound(String message) {
            super(message, null, false, false);
        }
    }

    private static void answer(RoutingContext ctx, Future<JsonObject> result) {
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

    private static String param(RoutingContext ctx, String name, String dflt) {
        String v = ctx.request().getParam(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    private Address address(RoutingContext ctx, String name) {
        try {
            return Address.of(name);
        } catch (InvalidAddressException e) {
            error(ctx, 400, e.getMessage());
            return null;
        }
    }

    private boolean partitionExists(RoutingContext ctx, Address address, int partition) {
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
        String text = body instanceof JsonArray a ? a.encodePrettily() : ((JsonObject) body).encodePrettily();
        ctx.response().putHeader("content-type", "application/json").end(text);
    }
}
