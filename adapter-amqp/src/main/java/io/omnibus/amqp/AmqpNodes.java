package io.omnibus.amqp;

import io.omnibus.core.spi.Authorizer;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.spi.TopicFilter;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The nodes (addresses) one AMQP connection uses: the temporary nodes it made (dynamic termini, deleted with it), the
 * queues it made sure of, and what its user may do with an address. On the connection's context.
 */
final class AmqpNodes {
    static final String TEMP_PREFIX = "$tmp/amqp/";

    private final Broker broker;
    private final Authorizer rules;
    /** What this connection's temporary nodes start with. */
    private final String ownPrefix;
    /** Who the client authenticated as (null: anonymous), as the connection knows it now. */
    private final Supplier<String> user;
    private int made;
    private final List<String> temporary = new ArrayList<>();
    /** Queue subscriptions known to exist, so an anonymous sender does not ask again per message. */
    private final Map<String, Future<Subscription>> queues = new HashMap<>();

    AmqpNodes(Broker broker, Authorizer rules, String connectionId, Supplier<String> user) {
        this.broker = broker;
        this.rules = rules;
        this.ownPrefix = TEMP_PREFIX + connectionId + "/";
        this.user = user;
    }

    /** A new temporary node's address, owned by this connection. */
    String newTemporaryAddress() {
        String a = ownPrefix + (++made);
        temporary.add(a);
        return a;
    }

    /** A temporary node deleted before the connection closed. */
    void forget(String temporaryNode) {
        temporary.remove(temporaryNode);
    }

    /** The temporary nodes left, to delete with the connection. */
    List<String> temporaryNodes() {
        return List.copyOf(temporary);
    }

    /** Whether the access rules let this client send to {@code address} (its own temporary nodes always). */
    boolean mayPublish(String address) {
        return own(address) || allowed(Authorizer.Action.PUBLISH, address);
    }

    /** Whether the access rules let this client receive from {@code filter} (its own temporary nodes always). */
    boolean maySubscribe(String filter) {
        return own(filter) || allowed(Authorizer.Action.SUBSCRIBE, filter);
    }

    /**
     * Whether a client may read from {@code filter}: '$' addresses belong to the gateway, so of them only dead
     * letters ({@code $dlq/...}) and this connection's own temporary nodes (no wildcards) may be read.
     */
    boolean mayRead(String filter) {
        return !filter.startsWith("$") || filter.startsWith("$dlq/") || own(filter);
    }

    private boolean own(String name) {
        return name.startsWith(ownPrefix) && name.indexOf('+') < 0 && name.indexOf('#') < 0;
    }

    private boolean allowed(Authorizer.Action action, String resource) {
        // %c is not offered: an AMQP container id is whatever the client says
        return !rules.enforced() || rules.allows(user.get(), null, action, resource);
    }

    /**
     * Makes sure the queue of {@code address} exists: the durable shared subscription named after it, which keeps
     * messages for receivers that have not attached yet. Temporary queues are not durable.
     */
    Future<Subscription> declareQueue(String filter) {
        if (queues.size() > 10_000) {
            queues.clear(); // a cache only: an anonymous sender to ever new addresses must not grow it without end
        }
        Future<Subscription> known = queues.get(filter);
        if (known != null && !known.failed()) {
            return known;
        }
        boolean temporaryNode = filter.startsWith(TEMP_PREFIX);
        Future<Subscription> f = broker.subscribe(new SubscriptionSpec(filter, TopicFilter.of(filter), !temporaryNode, null));
        queues.put(filter, f);
        return f;
    }
}
