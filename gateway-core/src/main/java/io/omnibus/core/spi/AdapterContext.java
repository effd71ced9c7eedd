package io.omnibus.core.spi;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/** What the gateway gives an adapter. */
public interface AdapterContext {
    Vertx vertx();

    Broker broker();

    Connections connections();

    /** For protocol-specific meters; tags must have bounded values (no per-topic or per-client tags). */
    MeterRegistry meters();
}
