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

    /**
     * The IP addresses of the other gateway nodes that pass their clients' connections on to this one starting with
     * a PROXY protocol header that names the client (the standbys of a shared store), as they are now; every
     * adapter's listeners honour their headers as from a source of the {@code proxy-protocol} key. Null (the
     * default) when no node does.
     */
    default java.util.function.Supplier<java.util.Collection<String>> proxyingNodes() {
        return null;
    }

    /** The plain context the gateway (and a test harness) hands to adapters. */
    static AdapterContext of(Vertx vertx, Broker broker, Connections connections, MeterRegistry meters,
                             Authenticator authenticator) {
        return of(vertx, broker, connections, meters, authenticator, Authorizer.ALLOW_ALL, null);
    }

    /** The plain context with access rules. */
    static AdapterContext of(Vertx vertx, Broker broker, Connections connections, MeterRegistry meters,
                             Authenticator authenticator, Authorizer authorizer) {
        return of(vertx, broker, connections, meters, authenticator, authorizer, null);
    }

    /** The plain context with access rules, and the nodes whose PROXY headers every listener honours (or null). */
    static AdapterContext of(Vertx vertx, Broker broker, Connections connections, MeterRegistry meters,
                             Authenticator authenticator, Authorizer authorizer,
                             java.util.function.Supplier<java.util.Collection<String>> proxyingNodes) {
        record Plain(Vertx vertx, Broker broker, Connections connections, MeterRegistry meters,
                     Authenticator authenticator, Authorizer authorizer,
                     java.util.function.Supplier<java.util.Collection<String>> proxyingNodes)
                implements AdapterContext {
        }
        return new Plain(vertx, broker, connections, meters, authenticator, authorizer, proxyingNodes);
    }
}
