package io.omnibus.core.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.omnibus.core.spi.Envelope;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The broker's meters. Tags have bounded values only: {@code protocol} (one per adapter) and
 * {@code reason}; never an address, subscription or client (per-subscription lag is a top-N gauge of its own).
 */
public final class BrokerMetrics {
    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, Counter[]> perProtocol = new ConcurrentHashMap<>();
    final Counter redeliveries;
    final Counter deadLettered;
    final Counter deadLetterDiscarded;
    final Counter expired;
    final Counter overflowDropped;
    final Counter overflowBlocked;
    private final io.micrometer.core.instrument.Timer delivery;
    private final ConcurrentHashMap<String, io.micrometer.core.instrument.Timer> publish = new ConcurrentHashMap<>();

    public BrokerMetrics(MeterRegistry registry) {
        this.registry = registry;
        redeliveries = Counter.builder("omnibus.redeliveries")
                .description("Deliveries made again after a nack, an ack timeout or a lost consumer").register(registry);
        deadLettered = Counter.builder("omnibus.dead.letters").tag("outcome", "routed")
                .description("Dead letters: routed to a dead-letter address, or discarded").register(registry);
        deadLetterDiscarded = Counter.builder("omnibus.dead.letters").tag("outcome", "discarded")
                .description("Dead letters: routed to a dead-letter address, or discarded").register(registry);
        expired = Counter.builder("omnibus.expired")
                .description("Messages dropped because their expiry time passed before delivery").register(registry);
        overflowDropped = Counter.builder("omnibus.subscription.overflow")
                .description("Messages dropped because a subscription's backlog was at max-pending").register(registry);
        overflowBlocked = Counter.builder("omnibus.subscription.blocked")
                .description("Publishes whose acknowledgement waited for a subscription at max-pending (overflow: block)")
                .register(registry);
        delivery = io.micrometer.core.instrument.Timer.builder("omnibus.delivery.latency")
                .description("From a message stored to its first delivery to a consumer (its wait in a backlog included)")
                .publishPercentileHistogram().minimumExpectedValue(java.time.Duration.ofMillis(1))
                .maximumExpectedValue(java.time.Duration.ofHours(1)).register(registry);
    }

    /** A publish of {@code protocol} was stored {@code nanos} after it reached the broker. */
    void stored(String protocol, long nanos) {
        publishTimer(protocol).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private io.micrometer.core.instrument.Timer publishTimer(String protocol) {
        io.micrometer.core.instrument.Timer t = publish.get(protocol);
        return t != null ? t : publish.computeIfAbsent(protocol, p -> io.micrometer.core.instrument.Timer
                .builder("omnibus.publish.latency").tag("protocol", p)
                .description("From a publish reaching the broker to the store acknowledging it (durable under the fsync "
                        + "policy): how long producers wait for their acknowledgement")
                .publishPercentileHistogram().minimumExpectedValue(java.time.Duration.ofMillis(1))
                .maximumExpectedValue(java.time.Duration.ofSeconds(30)).register(registry));
    }

    /**
     * A first delivery, at {@code now}, of a message the store appended at {@code storedAt} (epoch millis; 0: unknown,
     * not counted).
     */
    void delivered(long storedAt, long now) {
        if (storedAt > 0) {
            delivery.record(Math.max(0, now - storedAt), java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Registers a protocol's in/out meters before its first message, so they show 0 rather than nothing. */
    public void declareProtocol(String protocol) {
        counters(protocol);
        publishTimer(protocol);
    }

    void messageIn(String protocol, Envelope e) {
        Counter[] c = counters(protocol);
        c[0].increment();
        c[1].increment(e.payloadSize());
    }

    void messageOut(String protocol, Envelope e) {
        Counter[] c = counters(protocol);
        c[2].increment();
        c[3].increment(e.payloadSize());
    }

    private Counter[] counters(String protocol) {
        Counter[] c = perProtocol.get(protocol);
        if (c == null) {
            c = perProtocol.computeIfAbsent(protocol, p -> new Counter[] {
                Counter.builder("omnibus.messages.in").tag("protocol", p).description("Messages published").register(registry),
                Counter.builder("omnibus.payload.in").tag("protocol", p).baseUnit("bytes").description("Payload bytes published").register(registry),
                Counter.builder("omnibus.messages.out").tag("protocol", p).description("Messages delivered").register(registry),
                Counter.builder("omnibus.payload.out").tag("protocol", p).baseUnit("bytes").description("Payload bytes delivered").register(registry)});
        }
        return c;
    }
}
