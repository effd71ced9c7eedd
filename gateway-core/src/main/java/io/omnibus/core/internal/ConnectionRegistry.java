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
    private final ConcurrentHashMap<Object, ConnectionInfo> live = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> perProtocol = new ConcurrentHashMap<>();

    public ConnectionRegistry(MeterRegistry meters) {
        this.meters = meters;
    }

    /** Registers the gauge of a protocol before its first connection, so it shows 0 rather than nothing. */
    public void declareProtocol(String protocol) {
        counter(protocol);
    }

    @Override
    public Registration register(ConnectionInfo info) {
        Object key = new Object();
        live.put(key, info);
        AtomicInteger count = counter(info.protocol());
        count.incrementAndGet();
        return new Registration() {
            @Override
            public void update(ConnectionInfo updated) {
                live.replace(key, updated);
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
        return List.copyOf(live.values());
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
