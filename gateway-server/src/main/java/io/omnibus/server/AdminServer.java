package io.omnibus.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.omnibus.core.internal.ConnectionRegistry;
import io.omnibus.core.internal.DefaultBroker;
import io.omnibus.core.internal.SubscriptionView;
import io.omnibus.core.internal.TopicView;
import io.omnibus.core.spi.ConnectionInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Supplier;

/** {@code /health}, {@code /metrics} (Prometheus text) and the JSON admin API. */
final class AdminServer {
    private final Vertx vertx;
    private final GatewayConfig.AdminConfig config;
    private final PrometheusMeterRegistry prometheus;
    private final DefaultBroker broker;
    private final ConnectionRegistry connections;
    private final Supplier<JsonObject> health;
    private final java.util.function.Function<String, io.omnibus.core.spi.ProtocolAdapter> adapters;
    private final io.omnibus.server.bridge.Bridges bridges;
    private final io.omnibus.core.config.StaticUsers users;
    private final io.omnibus.core.spi.Authorizer rules;
    private HttpServer server;
    private HttpServer secureServer;
    private io.omnibus.core.transport.Tls tls;

    AdminServer(Vertx vertx, GatewayConfig.AdminConfig config, PrometheusMeterRegistry prometheus, DefaultBroker broker,
                ConnectionRegistry connections, Supplier<JsonObject> health,
                java.util.function.Function<String, io.omnibus.core.spi.ProtocolAdapter> adapters,
                io.omnibus.server.bridge.Bridges bridges, io.omnibus.core.config.StaticUsers users,
                io.omnibus.core.spi.Authorizer rules) {
        this.bridges = bridges;
        this.users = users;
        this.rules = rules;
        this.vertx = vertx;
        this.config = config;
        this.prometheus = prometheus;
        this.broker = broker;
        this.connections = connections;
        this.health = health;
        this.adapters = adapters;
    }

    /** Starts the listeners; completes with the plain port, or the HTTPS one when there is no plain one. */
    Future<Integer> start() {
        Router router = Router.router(vertx);
        router.route().handler(this::loopbackGuard);
        router.route("/api/*").handler(this::authorize);
        router.get("/health").handler(this::health);
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                .end(prometheus.scrape()));
        router.get("/api/topics").handler(ctx -> json(ctx, topics()));
        router.get("/api/subscriptions").handler(ctx -> json(ctx, subscriptions()));
        router.get("/api/connections").handler(ctx -> json(ctx, connections()));
        router.get("/api/translation").handler(this::translation);
        router.get("/api/bridges").handler(ctx -> json(ctx, bridges.status()));
        router.post("/api/bridges/:name/:action").handler(this::controlBridge);
        // /api/messages/{address}@{partition}:{offset}/as/{protocol}; the address may hold '/' (or %2F)
        router.getWithRegex("/api/messages/(.+)/as/([a-z0-9]+)").handler(this::messageAs);
        Future<Integer> plain = config.port() < 0 ? Future.succeededFuture(-1)
                : vertx.createHttpServer().requestHandler(router).listen(config.port(), config.host()).map(s -> {
                    server = s; // only a listening server is closed on stop
                    return s.actualPort();
                });
        if (config.tls() == null) {
            return plain;
        }
        // the key material is read from files: on a worker, not on the event loop
        return plain.compose(port -> vertx.executeBlocking(() -> io.omnibus.core.transport.Tls.start(vertx, config.tls(),
                "admin.tls"), false).compose(loaded -> {
            tls = loaded;
            return vertx.createHttpServer(tls.applyTo(new io.vertx.core.http.HttpServerOptions())).requestHandler(router)
                    .listen(config.tls().port(), config.host()).map(s -> {
                        secureServer = s;
                        return port >= 0 ? port : s.actualPort();
                    }).onFailure(e -> tls.close());
        }));
    }

    /** The HTTPS port, or -1. */
    int tlsPort() {
        return secureServer == null ? -1 : secureServer.actualPort();
    }

    Future<Void> stop() {
        if (tls != null) {
            tls.close();
        }
        return Future.all(server == null ? Future.succeededFuture() : server.close(),
                secureServer == null ? Future.succeededFuture() : secureServer.close()).mapEmpty();
    }

    /** Under the safe default (no users, anonymous access not switched on) only this machine is answered. */
    private void loopbackGuard(RoutingContext ctx) {
        if (users.loopbackOnly() && !local(ctx)) {
            ctx.request().connection().close();
            return;
        }
        ctx.next();
    }

    /**
     * {@code /api/*} with access rules: the caller authenticates (HTTP Basic with the users list, or a bearer
     * token) and needs {@code admin: read} to read and {@code admin: operate} for anything else; 401 and 403
     * otherwise. Without access rules, the API is open (and what shows or changes data, to this machine only).
     */
    private void authorize(RoutingContext ctx) {
        if (!rules.enforced()) {
            ctx.next();
            return;
        }
        String header = ctx.request().getHeader("Authorization");
        if (header != null && !ctx.request().isSSL() && !local(ctx) && !users.plainWithoutTls()) {
            // the credentials crossed the network in clear text already; at least they do not work that way
            error(ctx, 401, "credentials are accepted over HTTPS only (admin.tls), or with allow-plain-without-tls");
            return;
        }
        io.omnibus.core.spi.Authorizer.Action action = ctx.request().method() == io.vertx.core.http.HttpMethod.GET
                ? io.omnibus.core.spi.Authorizer.Action.ADMIN_READ : io.omnibus.core.spi.Authorizer.Action.ADMIN_OPERATE;
        Future<String> who;
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String user = config.tokens().get(sha256(header.substring(7).trim()));
            who = user == null ? Future.failedFuture("unknown token") : Future.succeededFuture(user);
        } else if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
            String decoded;
            try {
                decoded = new String(java.util.Base64.getDecoder().decode(header.substring(6).trim()),
                        java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                decoded = "";
            }
            int colon = decoded.indexOf(':');
            String name = colon < 0 ? null : decoded.substring(0, colon);
            byte[] password = colon < 0 ? null : decoded.substring(colon + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            who = name == null || !users.hasUsers() ? Future.failedFuture("malformed")
                    : vertx.executeBlocking(() -> users.authenticate(name, password), false)
                    .compose(ok -> ok ? Future.succeededFuture(name) : Future.failedFuture("bad password"));
        } else {
            who = Future.failedFuture("no credentials");
        }
        java.net.InetAddress from = ctx.request().remoteAddress() == null ? null
                : parseAddress(ctx.request().remoteAddress().hostAddress());
        who.onComplete(ar -> {
            if (ar.failed()) {
                // wrong credentials (not none) from one address are answered later and later
                long delay = "no credentials".equals(ar.cause().getMessage()) ? 0 : users.loginFailed(from);
                Runnable unauthorized = () -> {
                    ctx.response().putHeader("WWW-Authenticate", "Basic realm=\"omnibus\", charset=\"UTF-8\"");
                    error(ctx, 401, "the admin API needs a user (HTTP Basic) or a bearer token");
                };
                if (delay > 0) {
                    vertx.setTimer(delay, t -> unauthorized.run());
                } else {
                    unauthorized.run();
                }
                return;
            }
            users.loginSucceeded(from);
            if (!rules.allows(ar.result(), null, action, null)) {
                error(ctx, 403, ar.result() + " may not " + (action == io.omnibus.core.spi.Authorizer.Action.ADMIN_READ
                        ? "read the admin API (admin: read)" : "operate through the admin API (admin: operate)"));
            } else {
                ctx.put(AUTHORIZED, ar.result());
                ctx.next();
            }
        });
    }

    private static final String AUTHORIZED = "omnibus.admin.user";

    private static java.net.InetAddress parseAddress(String literal) {
        try {
            return literal == null ? null : java.net.InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    static String sha256(String token) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Message contents and actions: an authorized caller under access rules; else callers on this machine. */
    private boolean permitted(RoutingContext ctx) {
        return rules.enforced() ? ctx.get(AUTHORIZED) != null : local(ctx);
    }

    private void health(RoutingContext ctx) {
        JsonObject body = health.get();
        ctx.response().setStatusCode("UP".equals(body.getString("status")) ? 200 : 503)
                .putHeader("content-type", "application/json").end(body.encodePrettily());
    }

    /**
     * {@code /api/translation}: the whole table; with {@code from} and {@code to} (mqtt3, mqtt5, amqp, kafka, rocketmq),
     * the field table of that pair: each field, how each side carries it, and whether it is kept, converted or lost.
     */
    private void translation(RoutingContext ctx) {
        io.omnibus.core.spi.TranslationTable table = io.omnibus.core.spi.TranslationTable.get();
        String from = ctx.request().getParam("from");
        String to = ctx.request().getParam("to");
        if (from == null && to == null) {
            JsonArray fields = new JsonArray();
            for (io.omnibus.core.spi.TranslationTable.Field f : table.fields()) {
                JsonObject protocols = new JsonObject();
                f.cells().forEach((p, c) -> protocols.put(p, cell(c)));
                fields.add(new JsonObject().put("field", f.name()).put("meaning", f.meaning()).put("protocols", protocols));
            }
            json(ctx, fields);
            return;
        }
        if (from == null || to == null || !io.omnibus.core.spi.TranslationTable.PROTOCOLS.contains(from)
                || !io.omnibus.core.spi.TranslationTable.PROTOCOLS.contains(to)) {
            error(ctx, 400, "from and to must both be given, each one of " + io.omnibus.core.spi.TranslationTable.PROTOCOLS);
            return;
        }
        JsonArray rows = new JsonArray();
        for (io.omnibus.core.spi.TranslationTable.Outcome o : table.pair(from, to)) {
            rows.add(new JsonObject().put("field", o.field()).put("meaning", o.meaning()).put("from", cell(o.from()))
                    .put("to", cell(o.to())).put("result", o.result()));
        }
        json(ctx, rows);
    }

    private static JsonObject cell(io.omnibus.core.spi.TranslationTable.Cell c) {
        return new JsonObject().put("carry", c.carry().name().toLowerCase(java.util.Locale.ROOT)).put("how", c.how());
    }

    /**
     * {@code /api/messages/{address}@{partition}:{offset}/as/{protocol}}: a stored message as that protocol delivers it.
     * Message contents: answered to requests from this machine only (the admin port has no authentication).
     */
    private void messageAs(RoutingContext ctx) {
        if (!permitted(ctx)) {
            error(ctx, 403, "message contents are shown to requests from the gateway's own machine only");
            return;
        }
        String id = ctx.pathParam("param0"); // already decoded by the router
        String protocol = ctx.pathParam("param1");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.+)@(\\d+):(\\d+)").matcher(id);
        if (!m.matches()) {
            error(ctx, 400, "a message id is ADDRESS@PARTITION:OFFSET, not " + id);
            return;
        }
        if (!io.omnibus.core.spi.TranslationTable.PROTOCOLS.contains(protocol)) {
            error(ctx, 400, "the protocol must be one of " + io.omnibus.core.spi.TranslationTable.PROTOCOLS);
            return;
        }
        io.omnibus.core.spi.ProtocolAdapter adapter = adapters.apply(protocol.startsWith("mqtt") ? "mqtt"
                : protocol.equals("rocketmq") ? "openmessaging" : protocol);
        if (adapter == null) {
            error(ctx, 404, "the " + protocol + " adapter is not running");
            return;
        }
        io.omnibus.core.spi.Address address;
        try {
            address = io.omnibus.core.spi.Address.of(m.group(1));
        } catch (io.omnibus.core.spi.InvalidAddressException e) {
            error(ctx, 400, e.getMessage());
            return;
        }
        int partition;
        long offset;
        try {
            partition = Integer.parseInt(m.group(2));
            offset = Long.parseLong(m.group(3));
        } catch (NumberFormatException e) {
            error(ctx, 400, "partition or offset out of range in " + id);
            return;
        }
        if (partition >= broker.logs().partitionCount(address)) {
            error(ctx, 404, "no partition " + partition + " of " + address);
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
                io.omnibus.core.spi.Envelope e = ar.result().get(0).envelope();
                java.util.Map<String, Object> shown = adapter.render(e, protocol);
                if (shown == null) {
                    error(ctx, 404, "the " + protocol + " adapter does not show messages");
                    return;
                }
                JsonObject body = new JsonObject().put("id", id).put("origin", e.origin() == null ? null : e.origin().protocol())
                        .put("as", JsonObject.mapFrom(shown));
                ctx.response().putHeader("content-type", "application/json").end(body.encodePrettily());
            } catch (RuntimeException err) {
                error(ctx, 500, "showing " + id + " as " + protocol + " failed: " + err);
            }
        });
    }

    /** Whether the request comes from this machine (the admin port has no authentication yet). */
    private static boolean local(RoutingContext ctx) {
        String host = ctx.request().remoteAddress() == null ? "" : ctx.request().remoteAddress().hostAddress();
        return host.equals("127.0.0.1") || host.equals("0:0:0:0:0:0:0:1") || host.equals("::1");
    }

    /**
     * {@code POST /api/bridges/{name}/pause} and {@code .../resume}: a paused bridge closes its connection and keeps
     * its cursor (its lag grows); resumed, it connects again. From this machine only, like message contents.
     */
    private void controlBridge(RoutingContext ctx) {
        if (!permitted(ctx)) {
            error(ctx, 403, "bridges are paused and resumed by requests from the gateway's own machine only");
            return;
        }
        String name = ctx.pathParam("name");
        String action = ctx.pathParam("action");
        if (!action.equals("pause") && !action.equals("resume")) {
            error(ctx, 404, "a bridge's actions are pause and resume, not " + action);
            return;
        }
        Future<Void> done = bridges.control(name, action.equals("pause"));
        if (done == null) {
            error(ctx, 404, "no bridge named " + name);
            return;
        }
        done.onComplete(ar -> {
            if (ar.failed()) {
                error(ctx, 500, String.valueOf(ar.cause().getMessage()));
            } else {
                ctx.response().putHeader("content-type", "application/json").end(bridges.status(name).encodePrettily());
            }
        });
    }

    private static void error(RoutingContext ctx, int status, String message) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
                .end(new JsonObject().put("error", message).encodePrettily());
    }

    private static void json(RoutingContext ctx, JsonArray body) {
        ctx.response().putHeader("content-type", "application/json").end(body.encodePrettily());
    }

    private JsonArray topics() {
        JsonArray out = new JsonArray();
        for (TopicView t : broker.topicViews()) {
            out.add(new JsonObject().put("name", t.name()).put("partitions", t.partitions()).put("queue", t.queue())
                    .put("messages", t.messages()).put("bytes", t.bytes())
                    .put("startOffset", t.startOffset()).put("endOffset", t.endOffset()));
        }
        return out;
    }

    private JsonArray subscriptions() {
        JsonArray out = new JsonArray();
        for (SubscriptionView s : broker.subscriptionViews()) {
            out.add(new JsonObject().put("name", s.name()).put("filter", s.filter()).put("dispatch", s.dispatch())
                    .put("durable", s.durable()).put("consumers", s.consumers()).put("backlog", s.backlog())
                    .put("unacknowledged", s.unacknowledged()).put("delivered", s.delivered())
                    .put("acknowledged", s.acknowledged()).put("redelivered", s.redelivered())
                    .put("deadLettered", s.deadLettered()).put("expired", s.expired()).put("dropped", s.dropped())
                    .put("lostToRetention", s.lostToRetention()));
        }
        return out;
    }

    private JsonArray connections() {
        JsonArray out = new JsonArray();
        for (ConnectionInfo c : connections.all()) {
            out.add(new JsonObject().put("protocol", c.protocol()).put("connectionId", c.connectionId())
                    .put("clientId", c.clientId()).put("remoteAddress", c.remoteAddress()).put("user", c.user())
                    .put("connectedAt", c.connectedAt()));
        }
        return out;
    }
}
