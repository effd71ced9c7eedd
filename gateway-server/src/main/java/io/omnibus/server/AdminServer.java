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
    private HttpServer server;

    AdminServer(Vertx vertx, GatewayConfig.AdminConfig config, PrometheusMeterRegistry prometheus, DefaultBroker broker,
                ConnectionRegistry connections, Supplier<JsonObject> health) {
        this.vertx = vertx;
        this.config = config;
        this.prometheus = prometheus;
        this.broker = broker;
        this.connections = connections;
        this.health = health;
    }

    Future<Integer> start() {
        Router router = Router.router(vertx);
        router.get("/health").handler(this::health);
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                .end(prometheus.scrape()));
        router.get("/api/topics").handler(ctx -> json(ctx, topics()));
        router.get("/api/subscriptions").handler(ctx -> json(ctx, subscriptions()));
        router.get("/api/connections").handler(ctx -> json(ctx, connections()));
        HttpServer http = vertx.createHttpServer().requestHandler(router);
        return http.listen(config.port(), config.host()).map(s -> {
            server = s; // only a listening server is closed on stop
            return s.actualPort();
        });
    }

    Future<Void> stop() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    private void health(RoutingContext ctx) {
        JsonObject body = health.get();
        ctx.response().setStatusCode("UP".equals(body.getString("status")) ? 200 : 503)
                .putHeader("content-type", "application/json").end(body.encodePrettily());
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
                    .put("deadLettered", s.deadLettered()).put("expired", s.expired()).put("dropped", s.dropped()));
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
