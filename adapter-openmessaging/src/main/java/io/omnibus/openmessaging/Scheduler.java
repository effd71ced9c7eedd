package io.omnibus.openmessaging;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.ConsumerSpec;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.DeliveryHandler;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.spi.TopicFilter;
import io.vertx.core.Future;

/**
 * Delayed messages (delay levels, deliver times, retries' backoff). RocketMQ consumers read queues by offset, so
 * a delayed message must not be in its queue before it is due: it is stored in the gateway's own log
 * {@code $rocketmq/schedule} with its due time and destination, and a durable core subscription on that log (the
 * core holds each message until its deliver-at time) hands it back when due; it is then appended to its queue, and
 * only then acknowledged. A crash in between delivers it twice rather than never.
 */
final class Scheduler {
    static final Address ADDRESS = Address.of("$rocketmq/schedule");
    static final String SUBSCRIPTION = "$rocketmq-schedule";
    /** Headers the gateway keeps on held messages, removed when they are released. */
    static final String INTERNAL = "rocketmq.internal.";
    static final String TARGET = INTERNAL + "target";
    static final String TARGET_QUEUE = INTERNAL + "queue";
    static final String[] INTERNAL_HEADERS = {TARGET, TARGET_QUEUE, INTERNAL + "group", INTERNAL + "half-offset",
        INTERNAL + "checks"};
    /** Held messages released at once per service (more wait in the subscription). */
    static final int CREDIT = 256;

    private final OpenMessagingServer server;
    private final Broker broker;
    private final Logs logs;
    private Consumer consumer;

    Scheduler(OpenMessagingServer server) {
        this.server = server;
        this.broker = server.ctx.broker();
        this.logs = broker.logs();
    }

    /** On the services' context. */
    Future<Void> start() {
        return holder(broker, ADDRESS, SUBSCRIPTION, this::due).map(c -> {
            consumer = c;
            return null;
        });
    }

    /** Makes the log and its durable subscription, and attaches the service consuming it (on the caller's context). */
    static Future<Consumer> holder(Broker broker, Address address, String subscription, DeliveryHandler handler) {
        return broker.logs().partitions(address, 1, true)
                .compose(n -> broker.subscribe(new SubscriptionSpec(subscription, TopicFilter.of(address.name()), true,
                        DispatchPolicy.ROUND_ROBIN)))
                .compose(s -> s.attach(ConsumerSpec.push(new Origin("openmessaging", subscription, "-"), CREDIT, handler)));
    }

    Future<Void> stop() {
        return consumer == null ? Future.succeededFuture() : consumer.close();
    }

    /** Holds {@code env} (addressed to its destination) until {@code at}, then appends it to {@code queue}. */
    Future<Producing.Stored> schedule(Envelope env, int queue, long at) {
        Envelope held = withoutInternal(env.toBuilder()).address(ADDRESS).deliverAt(at).header(TARGET, env.address().name())
                .header(TARGET_QUEUE, Integer.toString(queue)).build();
        return logs.append(held, 0).map(r -> new Producing.Stored(ADDRESS, 0, r.offset()));
    }

    private void due(Delivery d) {
        Envelope e = d.envelope();
        Address address;
        try {
            address = Address.of(e.header(TARGET));
        } catch (RuntimeException bad) { // none, or not an address: nothing the gateway wrote
            consumer.reject(d, "a held message without a valid destination");
            consumer.credit(1);
            return;
        }
        String target = address.name();
        int queue = Translation.number(e.header(TARGET_QUEUE));
        logs.partitions(address, 0, true)
                .compose(n -> logs.append(release(e, address), Math.min(queue, n - 1)))
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        consumer.ack(d);
                    } else {
                        OpenMessagingServer.LOG.warn("openmessaging: a delayed message for {} could not be stored; "
                                + "it is tried again", target, ar.cause());
                        consumer.nack(d);
                    }
                    consumer.credit(1);
                });
    }

    /** A held message as it goes to its queue: its destination's address, due now, without the gateway's headers. */
    static Envelope release(Envelope e, Address address) {
        return withoutInternal(e.toBuilder()).address(address).deliverAt(0).build();
    }

    /** Removes the gateway's bookkeeping headers (before writing its own: a message never brings them in). */
    static Envelope.Builder withoutInternal(Envelope.Builder b) {
        for (String h : INTERNAL_HEADERS) {
            b.removeHeaders(h);
        }
        return b;
    }
}
