package io.omnibus.server.bridge;

import io.micrometer.core.instrument.MeterRegistry;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.TranslationLosses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/** The configured bridges (docs/bridges.md): started after the adapters, stopped before them. */
public final class Bridges {
    private final Map<String, Bridge> bridges = new LinkedHashMap<>();

    /**
     * @param lag the messages waiting in a subscription (backlog and unacknowledged), by subscription name
     */
    public Bridges(List<BridgeConfig> configs, Vertx vertx, Broker broker, MeterRegistry meters,
                   ToLongFunction<String> lag) {
        TranslationLosses losses = new TranslationLosses(meters);
        for (BridgeConfig c : configs) {
            String subscription = Bridge.subscriptionName(c.name());
            bridges.put(c.name(), new Bridge(c, vertx, broker, meters, losses, () -> lag.applyAsLong(subscription)));
        }
    }

    public Future<Void> start() {
        List<Future<Void>> started = new ArrayList<>();
        bridges.values().forEach(b -> started.add(b.start()));
        return Future.all(started).mapEmpty();
    }

    public Future<Void> stop() {
        List<Future<Void>> stopped = new ArrayList<>();
        bridges.values().forEach(b -> stopped.add(b.stop()));
        return Future.join(stopped).mapEmpty();
    }

    /** Each bridge's state, lag and counts, for {@code /api/bridges}. */
    public JsonArray status() {
        JsonArray out = new JsonArray();
        bridges.values().forEach(b -> out.add(b.status()));
        return out;
    }

    /** One line per bridge for {@code /health}: state and last error. */
    public JsonObject health() {
        JsonObject out = new JsonObject();
        for (Bridge b : bridges.values()) {
            JsonObject s = b.status();
            out.put(b.name(), new JsonObject().put("status", s.getString("state")).put("lastError", s.getString("lastError")));
        }
        return out;
    }

    /** Pauses ({@code pause}) or resumes a bridge; null when there is no such bridge. */
    public Future<Void> control(String name, boolean pause) {
        Bridge b = bridges.get(name);
        if (b == null) {
            return null;
        }
        return pause ? b.pause() : b.resume();
    }

    public JsonObject status(String name) {
        Bridge b = bridges.get(name);
        return b == null ? null : b.status();
    }
}
