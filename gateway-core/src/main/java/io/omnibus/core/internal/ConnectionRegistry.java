package io.omnibus.core.internal;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.Connections;
import io.omnibus.core.spi.Connections.Connection;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The live client connections of every adapter, and the {@code omnibus.connections} gauge per protocol. */
public final class ConnectionRegistry implements Connections {
    private final MeterRegistry meters;
    /** The connections themselves (the registry makes nothing per connection but the set's node). */
    private final java.util.Set<Connection> live = ConcurrentHashMap.newKeySet();
    /** The adapters' own listings ({@link #listing}), for the connections they list. */
    private final List<java.util.function.Supplier<? extends Collection<? extends Connection>>> listings =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ConcurrentHashMap<String, AtomicInteger> perProtocol = new ConcurrentHashMap<>();

    /** A registered connection: what is shown, and what an operator may do with it. */
    public record Live(ConnectionInfo info, Connection control) {
    }

    public ConnectionRegistry(MeterRegistry meters) {
        this.meters = meters;
    }

    /** Registers the gauge of a protocol before its first connection, so it shows 0 rather than nothing. */
    public void declareProtocol(String protocol) {
        counter(protocol);
    }

    @Override
    public void opened(Connection connection) {
        if (connection.listedByAdapter() || live.add(connection)) {
            counter(connection.protocol()).incrementAndGet();
        }
    }

    @Override
    public void closed(Connection connection) {
        if (connection.listedByAdapter() || live.remove(connection)) {
            counter(connection.protocol()).decrementAndGet();
        }
    }

    @Override
    public Runnable listing(java.util.function.Supplier<? extends Collection<? extends Connection>> connections) {
        listings.add(connections);
        return () -> listings.remove(connections);
    }

    /** The connections this registry keeps and those the adapters list. */
    private java.util.stream.Stream<Connection> listed() {
        return java.util.stream.Stream.concat(live.stream(),
                listings.stream().flatMap(l -> l.get().stream().map(Connection.class::cast)));
    }

    @Override
    public Collection<ConnectionInfo> all() {
        return listed().map(Connection::info).toList();
    }

    /** Every connection with its controls. */
    public List<Live> connections() {
        return listed().map(c -> new Live(c.info(), c)).toList();
    }

    /** The connection of that id, or null. */
    public Live find(String connectionId) {
        return listed().map(c -> new Live(c.info(), c)).filter(l -> l.info().connectionId().equals(connectionId))
                .findFirst().orElse(null);
    }

    /** Open connections per protocol. */
    public java.util.Map<String, Integer> counts() {
        java.util.Map<String, Integer> out = new java.util.TreeMap<>();
        perProtocol.forEach((p, n) -> out.put(p, n.get()));
        return out;
    }

    private AtomicInteger counter(String protocol) {
        return perProtocol.computeIfAbsent(protocol, p -> {
            AtomicInteger n = new AtomicInteger();
            Gauge.builder("omnibus.connections", n, AtomicInteger::get).tag("protocol", p)
                    .description("Open client connections").register(meters);
            return n;
        });
    }
}
