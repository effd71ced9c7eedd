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

    /** Who may connect: the same users for every protocol. */
    Authenticator authenticator();

    /** What a client may do: the same rules for every protocol. */
    default Authorizer authorizer() {
        return Authorizer.ALLOW_ALL;
    }

    /** The plain context the gateway (and a test harness) hands to adapters. */
    static AdapterContext of(Vertx vertx, Broker broker, Connections connections, MeterRegistry meters,
                             Authenticator authenticator) {
        record Plain(Vertx vertx, Broker broker, Connections connections, MeterRegistry meters,
                     Authenticator authenticator) implements AdapterContext {
        }
        return new Plain(vertx, broker, connections, meters, authenticator);
    }

    /** The plain context with access rules. */
    static AdapterContext of(Vertx vertx, Broker broker, Connections connections, MeterRegistry meters,
                             Authenticator authenticator, Authorizer authorizer) {
        record Plain(Vertx vertx, Broker broker, Connections connections, MeterRegistry meters,
                     Authenticator authenticator, Authorizer authorizer) implements AdapterContext {
        }
        return new Plain(vertx, broker, connections, meters, authenticator, authorizer);
    }
}
