package io.omnibus.server;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.omnibus.core.config.StaticUsers;
import io.omnibus.core.spi.Authorizer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin port while the gateway is still recovering: alive, not ready, the API not yet answering. */
class AdminServerTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void beforeRecoveryItIsLiveButNotReadyAndTheApiSays503() throws Exception {
        AtomicBoolean ready = new AtomicBoolean();
        AtomicBoolean up = new AtomicBoolean();
        AdminServer server = new AdminServer(vertx, new GatewayConfig.AdminConfig("127.0.0.1", 0, null, Map.of(), 0),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                () -> new JsonObject().put("status", up.get() ? "UP" : "DOWN"), ready::get,
                StaticUsers.read(List.of()), Authorizer.ALLOW_ALL, () -> null);
        int port = server.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        AdminHttp admin = new AdminHttp(port);

        assertThat(admin.send("GET", "/health/live").statusCode()).isEqualTo(200);
        var notReady = admin.send("GET", "/health/ready");
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(new JsonObject(notReady.body()).getString("status")).isEqualTo("STARTING");
        var api = admin.send("GET", "/api/topics");
        assertThat(api.statusCode()).isEqualTo(503);
        assertThat(api.body()).contains("recovering");

        // recovered, but a part is down: still not ready
        ready.set(true);
        assertThat(admin.send("GET", "/health/ready").statusCode()).isEqualTo(503);
        up.set(true);
        assertThat(admin.send("GET", "/health/ready").statusCode()).isEqualTo(200);
        // the console's files are served, whatever the state of the API
        var console = admin.send("GET", "/console/");
        assertThat(console.statusCode()).isEqualTo(200);
        assertThat(console.body()).contains("console.js");
        server.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void metricsAreRenderedOffTheEventLoop() throws Exception {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        java.util.List<String> readOn = new java.util.concurrent.CopyOnWriteArrayList<>();
        io.micrometer.core.instrument.Gauge.builder("omnibus.test.reads", readOn, r -> {
            r.add(Thread.currentThread().getName() + (io.vertx.core.Context.isOnEventLoopThread() ? " (event loop)" : ""));
            return r.size();
        }).register(prometheus);
        AdminServer server = new AdminServer(vertx, new GatewayConfig.AdminConfig("127.0.0.1", 0, null, Map.of(), 0),
                prometheus, () -> new JsonObject().put("status", "UP"), () -> true, StaticUsers.read(List.of()),
                Authorizer.ALLOW_ALL, () -> null);
        int port = server.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        var metrics = new AdminHttp(port).send("GET", "/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(metrics.body()).contains("omnibus_test_reads ");
        assertThat(readOn).isNotEmpty().noneMatch(t -> t.endsWith("(event loop)"));
        server.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
