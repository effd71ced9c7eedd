package io.omnibus.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Supplier;

/**
 * The admin port: {@code /health}, {@code /health/live}, {@code /health/ready}, {@code /metrics} (Prometheus text),
 * the web console ({@code /console/}) and the JSON admin API ({@link AdminApi}), over HTTP and/or HTTPS. Listens
 * from the start, before the store is recovered: liveness and readiness answer during a long recovery, the API
 * answers 503 until the gateway is ready.
 */
final class AdminServer {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AdminServer.class);

    private final Vertx vertx;
    private final GatewayConfig.AdminConfig config;
    private final PrometheusMeterRegistry prometheus;
    private final Supplier<JsonObject> health;
    private final java.util.function.BooleanSupplier ready;
    private final io.omnibus.core.config.StaticUsers users;
    private final io.omnibus.core.spi.Authorizer rules;
    private final Router router;
    /** The largest request body the API takes (413 beyond). */
    static final int API_BODY_LIMIT = 64 * 1024;
    /** A standby passes /api requests on to the serving node's admin API. */
    private final AdminForwarding forwarding;
    private volatile boolean apiReady;
    private HttpServer server;
    private HttpServer secureServer;
    private volatile io.omnibus.core.transport.Tls tls;

    AdminServer(Vertx vertx, GatewayConfig.AdminConfig config, PrometheusMeterRegistry prometheus, Supplier<JsonObject> health,
                java.util.function.BooleanSupplier ready, io.omnibus.core.config.StaticUsers users,
                io.omnibus.core.spi.Authorizer rules, Supplier<io.omnibus.core.store.ServingNode> serving) {
        this.users = users;
        this.rules = rules;
        this.vertx = vertx;
        this.config = config;
        this.prometheus = prometheus;
        this.health = health;
        this.ready = ready;
        this.router = Router.router(vertx);
        this.forwarding = new AdminForwarding(vertx, serving, users.plainWithoutTls(), () -> tls);
    }

    /** Starts the listeners; completes with the plain port, or the HTTPS one when there is no plain one. */
    Future<Integer> start() {
        router.route().handler(this::loopbackGuard);
        router.route().handler(ctx -> {
            // no page of another site frames the console (clickjacking)
            ctx.response().putHeader("X-Frame-Options", "DENY").putHeader("Content-Security-Policy", "frame-ancestors 'none'");
            ctx.next();
        });
        router.get("/").handler(ctx -> ctx.redirect("/console/"));
        // the console's own files: static, no authentication (they hold no data; the API they call checks)
        router.get("/console/*").handler(io.vertx.ext.web.handler.StaticHandler.create("console")
                .setCachingEnabled(false).setDirectoryListing(false).setIndexPage("index.html"));
        // the body read whole before the (asynchronous) password check: a standby passes it on after that check, when
        // the request has ended; admin requests are small
        router.route("/api/*").handler(io.vertx.ext.web.handler.BodyHandler.create(false).setBodyLimit(API_BODY_LIMIT));
        router.route("/api/*").handler(this::sameSite);
        router.route("/api/*").handler(this::authorize);
        router.route("/api/*").handler(ctx -> {
            if (apiReady) {
                ctx.next();
            } else {
                JsonObject store = health.get().getJsonObject("store", new JsonObject());
                if ("standby".equals(store.getString("role"))) { // a Kafka store's standby: the active node answers
                    if (forwarding.forward(ctx)) {
                        return;
                    }
                    AdminApi.error(ctx, 503, "this node is a standby; the active node is "
                            + (store.getString("active-node", "").isEmpty() ? "not known yet" : store.getString("active-node"))
                            + " (docs/cluster.md)");
                } else {
                    AdminApi.error(ctx, 503, "the gateway is starting (recovering its store); try again shortly");
                }
            }
        });
        router.get("/health").handler(this::health);
        router.get("/health/live").handler(ctx -> ctx.response().putHeader("content-type", "application/json")
                .end(new JsonObject().put("status", "UP").encode()));
        router.get("/health/ready").handler(this::readiness);
        // rendered on a worker: a scrape (about 600 samples, 3-7 ms warm, 150 ms the first time) would hold up the
        // clients of the event loop the admin port runs on
        router.get("/metrics").handler(ctx -> AdminApi.offLoop(ctx, "text/plain; version=0.0.4; charset=utf-8",
                prometheus::scrape));
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

    /** The gateway recovered and started: the API's routes answer from now on. */
    void ready(AdminApi api) {
        api.routes(router, this::permitted);
        apiReady = true;
    }

    /** The plain HTTP port, or -1. */
    int plainPort() {
        return server == null ? -1 : server.actualPort();
    }

    /** The HTTPS port, or -1. */
    int tlsPort() {
        return secureServer == null ? -1 : secureServer.actualPort();
    }

    Future<Void> stop() {
        forwarding.close();
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
                long delay = "no credentials".equals(ar.cause().getMessage()) ? 0 : users.loginFailed(from, "admin");
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

    /**
     * A browser must not be made to use the API for another site. Actions (anything but GET) from a browser must come
     * from the API's own origin ({@code Origin}, {@code Sec-Fetch-Site}): a page elsewhere cannot post a purge to
     * localhost, nor ride on credentials the browser remembers. And a request from this machine must name the
     * gateway by address or as localhost ({@code Host}): a page whose own name an attacker points at 127.0.0.1 (DNS
     * rebinding) is refused, so it can neither read nor act. Scripts (curl) send neither header and pass.
     */
    private void sameSite(RoutingContext ctx) {
        String host = authority(ctx);
        if (host != null && local(ctx) && !addressOrLocalhost(host)) {
            error(ctx, 403, "from this machine the admin API answers requests for an address or localhost, not '" + host
                    + "'");
            return;
        }
        io.vertx.core.http.HttpMethod m = ctx.request().method();
        if (m != io.vertx.core.http.HttpMethod.GET && m != io.vertx.core.http.HttpMethod.HEAD) {
            String site = ctx.request().getHeader("Sec-Fetch-Site");
            String origin = ctx.request().getHeader("Origin");
            boolean crossSite = site != null && !site.equals("same-origin") && !site.equals("none");
            boolean otherOrigin = origin != null && (host == null || !origin.replaceFirst("^https?://", "").equals(host));
            if (crossSite || otherOrigin) {
                error(ctx, 403, "actions are taken for the gateway's own console or for scripts, not for another site ("
                        + (origin == null ? site : origin) + ")");
                return;
            }
        }
        ctx.next();
    }

    /** The host (and port) the request names: HTTP/1.1's Host, HTTP/2's :authority; null when it names none. */
    private static String authority(RoutingContext ctx) {
        io.vertx.core.net.HostAndPort a = ctx.request().authority();
        if (a == null) {
            return null;
        }
        String h = a.host().contains(":") && !a.host().startsWith("[") ? "[" + a.host() + "]" : a.host();
        return a.port() > 0 ? h + ":" + a.port() : h;
    }

    /** An IP address (IPv4, or IPv6 in brackets) or localhost, with or without a port. */
    static boolean addressOrLocalhost(String host) {
        String h = host.startsWith("[") ? host.substring(1, Math.max(1, host.indexOf(']')))
                : host.contains(":") ? host.substring(0, host.lastIndexOf(':')) : host;
        return h.equalsIgnoreCase("localhost") || h.matches("\\d{1,3}(\\.\\d{1,3}){3}") || host.startsWith("[");
    }

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

    /**
     * Runs what the first requests would run cold (the scrape, the health document's JSON), once, on a worker: class
     * loading and interpreted code took 0.2-0.4 s on this port's first requests, on an event loop that serves clients.
     * Called once the gateway is ready, so that it does not compete with the start.
     */
    void warm() {
        vertx.executeBlocking(() -> {
            prometheus.scrape();
            return health.get().encodePrettily();
        }, false).onFailure(e -> LOG.debug("admin: warming up failed: {}", e.toString()));
    }

    private void health(RoutingContext ctx) {
        JsonObject body = health.get();
        ctx.response().setStatusCode("UP".equals(body.getString("status")) ? 200 : 503)
                .putHeader("content-type", "application/json").end(body.encodePrettily());
    }

    /** 200 once the store is recovered and every adapter and bridge started, and while all are up; 503 before and after. */
    private void readiness(RoutingContext ctx) {
        JsonObject body = health.get();
        boolean up = ready.getAsBoolean() && "UP".equals(body.getString("status"));
        body.put("status", up ? "UP" : ready.getAsBoolean() ? "DOWN" : "STARTING");
        ctx.response().setStatusCode(up ? 200 : 503).putHeader("content-type", "application/json").end(body.encodePrettily());
    }

    /** Whether the request comes from this machine. */
    private static boolean local(RoutingContext ctx) {
        String host = ctx.request().remoteAddress() == null ? "" : ctx.request().remoteAddress().hostAddress();
        return host.equals("127.0.0.1") || host.equals("0:0:0:0:0:0:0:1") || host.equals("::1");
    }

    private static void error(RoutingContext ctx, int status, String message) {
        AdminApi.error(ctx, status, message);
    }
}
