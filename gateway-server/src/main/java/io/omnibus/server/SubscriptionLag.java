package io.omnibus.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.omnibus.core.internal.DefaultBroker;
import io.omnibus.core.internal.SubscriptionView;
import io.vertx.core.Vertx;

import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * {@code omnibus.subscription.lag{subscription}}: the backlog (waiting plus delivered and unacknowledged) of the
 * {@code admin.subscription-lag-top} subscriptions that have the most, chosen again every 10 seconds on a worker
 * thread (a bounded heap over every subscription: no event loop waits for it). Bounded: a gateway with a million
 * MQTT sessions exports N series, not a million; a subscription that leaves the top N leaves the scrape.
 */
final class SubscriptionLag {
    static final long REFRESH_MILLIS = 10_000;

    private SubscriptionLag() {
    }

    static void register(MeterRegistry meters, DefaultBroker broker, int top, Vertx vertx) {
        if (top <= 0) {
            return;
        }
        MultiGauge gauge = MultiGauge.builder("omnibus.subscription.lag")
                .description("Backlog of the subscriptions with the most (admin.subscription-lag-top of them): messages "
                        + "waiting plus delivered and unacknowledged")
                .register(meters);
        Runnable refresh = () -> {
            Comparator<SubscriptionView> byLag = Comparator.comparingLong(SubscriptionLag::lag);
            PriorityQueue<SubscriptionView> most = new PriorityQueue<>(top + 1, byLag);
            broker.forEachSubscriptionView(v -> {
                if (most.size() < top || lag(v) > lag(most.peek())) {
                    most.add(v);
                    if (most.size() > top) {
                        most.poll();
                    }
                }
            });
            gauge.register(most.stream().map(v -> MultiGauge.Row.of(Tags.of("subscription", v.name()), lag(v))).toList(),
                    true);
        };
        Runnable onWorker = () -> vertx.executeBlocking(() -> {
            refresh.run();
            return null;
        }, false);
        onWorker.run();
        vertx.setPeriodic(REFRESH_MILLIS, id -> onWorker.run());
    }

    private static long lag(SubscriptionView v) {
        return v.backlog() + v.unacknowledged();
    }
}
