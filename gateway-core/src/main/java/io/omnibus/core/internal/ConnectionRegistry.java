package io.omnibus.core.internal;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.Connections;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The live client connections of every adapter, and the {@code omnibus.connections} gauge per protocol. */
public final class ConnectionRegistry implements Connections {
    private final MeterRegistry meters;
    private final ConcurrentHashMap<Object, Live> live = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> perProtocol = new ConcurrentHashMap<>();

    /** A registered connection: what is shown, and what an operator may do with it. */
    public record Live(ConnectionInfo info, Control control) {
    }

    public ConnectionRegistry(MeterRegistry meters) {
        this.meters = meters;
    }

    /** Registers the gauge of a protocol before its first connection, so it shows 0 rather than nothing. */
    public void declareProtocol(String protocol) {
        counter(protocol);
    }

    @Override
    public Registration register(ConnectionInfo info, Control control) {
        Object key = new Object();
        live.put(key, new Live(info, control));
        AtomicInteger count = counter(info.protocol());
        count.incrementAndGet();
        return new Registration() {
            @Override
            public void update(ConnectionInfo updated) {
                live.computeIfPresent(key, (k, old) -> new Live(updated, old.control()));
            }

            @Override
            public void close() {
                if (live.remove(key) != null) {
                    count.decrementAndGet();
                }
            }
        };
    }

    @Override
    public Collection<ConnectionInfo> all() {
        return live.values().stream().map(Live::info).toList();
    }

    /** Every connection with its controls. */
    public List<Live> connections() {
        return List.copyOf(live.values());
    }

    /** The connection of that id, or null. */
    public Live find(String connectionId) {
        for (Live l : live.values()) {
            if (l.info().connectionId().equals(connectionId)) {
                return l;
            }
        }
        return null;
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
