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
    /** One object per connection: the set's key, the registration handed back and what is shown (a few words each). */
    private final java.util.Set<Entry> live = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<String, AtomicInteger> perProtocol = new ConcurrentHashMap<>();

    /** A registered connection: what is shown, and what an operator may do with it. */
    public record Live(ConnectionInfo info, Control control) {
    }

    private final class Entry implements Registration {
        private volatile ConnectionInfo info;
        private final Control control;
        private final AtomicInteger count;

        Entry(ConnectionInfo info, Control control, AtomicInteger count) {
            this.info = info;
            this.control = control;
            this.count = count;
        }

        @Override
        public void update(ConnectionInfo updated) {
            if (live.contains(this)) {
                info = updated;
            }
        }

        @Override
        public void close() {
            if (live.remove(this)) {
                count.decrementAndGet();
            }
        }

        Live snapshot() {
            return new Live(info, control);
        }
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
        AtomicInteger count = counter(info.protocol());
        Entry e = new Entry(info, control, count);
        live.add(e);
        count.incrementAndGet();
        return e;
    }

    @Override
    public Collection<ConnectionInfo> all() {
        return live.stream().map(e -> e.info).toList();
    }

    /** Every connection with its controls. */
    public List<Live> connections() {
        return live.stream().map(Entry::snapshot).toList();
    }

    /** The connection of that id, or null. */
    public Live find(String connectionId) {
        for (Entry e : live) {
            if (e.info.connectionId().equals(connectionId)) {
                return e.snapshot();
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
