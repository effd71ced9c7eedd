package io.omnibus.core.store;

import java.util.Map;

/**
 * The node that serves clients for a store shared by several nodes (the active one), as the store knows it: its id,
 * a host that reaches it, and its listeners' ports, named {@code <protocol>.<status name>} ({@code mqtt.port},
 * {@code amqp.tls-port}).
 */
public record ServingNode(String nodeId, String host, Map<String, Integer> ports) {
    public ServingNode {
        ports = Map.copyOf(ports);
    }
}
