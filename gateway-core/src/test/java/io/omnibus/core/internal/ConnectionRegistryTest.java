package io.omnibus.core.internal;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.Connections;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionRegistryTest {
    /** A connection as an adapter registers it; {@code ownList}: listed by its adapter, not kept by the registry. */
    private record Conn(String protocol, String id, boolean ownList) implements Connections.Connection {
        @Override
        public boolean listedByAdapter() {
            return ownList;
        }

        @Override
        public ConnectionInfo info() {
            return new ConnectionInfo(protocol, id, null, "127.0.0.1:1", null, 0);
        }

        @Override
        public void disconnect() {
        }

        @Override
        public Future<Integer> inFlight() {
            return Future.succeededFuture(0);
        }
    }

    /**
     * Connections an adapter lists itself are counted, found and shown through its listing and nothing else: one
     * not (or no longer) in the adapter's map is not shown, and the listing goes with the adapter's stop.
     */
    @Test
    void connectionsAnAdapterListsAreCountedAndShownThroughItsListingOnly() {
        ConnectionRegistry registry = new ConnectionRegistry(new SimpleMeterRegistry());
        Map<String, Conn> adapterMap = new ConcurrentHashMap<>();
        Runnable unlist = registry.listing(adapterMap::values);
        Conn kept = new Conn("amqp", "amqp-1", false);
        Conn listed = new Conn("mqtt", "mqtt-1", true);
        Conn beforeConnect = new Conn("mqtt", "mqtt-2", true);
        registry.opened(kept);
        registry.opened(listed);
        registry.opened(beforeConnect);
        adapterMap.put("client-1", listed);

        assertThat(registry.counts()).isEqualTo(Map.of("amqp", 1, "mqtt", 2));
        assertThat(registry.all()).extracting(ConnectionInfo::connectionId).containsExactlyInAnyOrder("amqp-1", "mqtt-1");
        assertThat(registry.find("mqtt-1").control()).isSameAs(listed);
        assertThat(registry.find("mqtt-2")).as("not in the adapter's map").isNull();

        adapterMap.remove("client-1");
        registry.closed(listed);
        registry.closed(beforeConnect);
        registry.closed(kept);
        registry.closed(kept); // idempotent for the connections the registry keeps
        assertThat(registry.counts()).isEqualTo(Map.of("amqp", 0, "mqtt", 0));
        assertThat(registry.all()).isEmpty();

        adapterMap.put("client-3", new Conn("mqtt", "mqtt-3", true));
        assertThat(registry.connections()).hasSize(1);
        unlist.run();
        assertThat(registry.connections()).as("after the adapter's stop").isEmpty();
        assertThat(List.copyOf(registry.all())).isEmpty();
    }
}
