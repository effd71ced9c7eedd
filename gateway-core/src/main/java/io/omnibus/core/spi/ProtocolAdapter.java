package io.omnibus.core.spi;

import io.vertx.core.Future;

import java.util.Map;

/** A running protocol server. The gateway calls {@code start} once, then {@code stop} once. */
public interface ProtocolAdapter {
    /** Binds and starts accepting; fails (e.g. with the bind error) when it cannot. */
    Future<Void> start();

    /** Stops accepting, finishes in-flight work and closes connections. */
    Future<Void> stop();

    /** Facts for {@code /health} and the startup line, e.g. {@code port}. */
    default Map<String, Object> status() {
        return Map.of();
    }

    /**
     * A stored message as this protocol would deliver it, for {@code /api/messages/.../as/PROTOCOL}: the
     * protocol's own names for what it carries (topic, key, properties, headers, body kind), through the same
     * translation as a delivery. {@code variant} is the protocol's version when it has several (MQTT: {@code mqtt3},
     * {@code mqtt5}). Null when the adapter does not show messages.
     */
    default Map<String, Object> render(Envelope envelope, String variant) {
        return null;
    }
}
