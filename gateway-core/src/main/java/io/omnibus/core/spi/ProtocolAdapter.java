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
}
