package io.omnibus.core.internal;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.omnibus.core.config.BrokerConfig;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.ConsumerSpec;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.PublishResult;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.store.MemoryMessageStore;
import io.omnibus.core.store.MessageStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A broker on a fresh Vert.x, with a meter registry to read, for tests. */
final class TestBroker implements AutoCloseable {
    final Vertx vertx = Vertx.vertx();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final MessageStore store;
    final DefaultBroker broker;

    TestBroker(Map<String, Object> config) {
        this(config, new MemoryMessageStore(100_000, 64L << 20));
    }

    TestBroker(Map<String, Object> config, MessageStore store) {
        this.store = store;
        this.broker = await(DefaultBroker.start(vertx, store, BrokerConfig.read(new ConfigSection("", config)),
                new BrokerMetrics(meters)));
    }

    /** The broker's contexts. */
    List<Context> shards() {
        return broker.shards().all();
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("future did not complete: " + e, e);
        }
    }

    PublishResult publish(Envelope e) {
        return await(broker.publish(e));
    }

    PublishResult publish(String address, String payload) {
        return publish(Envelope.builder(address).payload(payload).build());
    }

    Subscription subscribe(String name, String filter) {
        return await(broker.subscribe(SubscriptionSpec.of(name, filter)));
    }

    SubscriptionView view(String name) {
        return broker.subscriptionViews().stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
    }

    double counter(String name, String... tags) {
        var c = meters.find(name).tags(tags).counter();
        if (c != null) {
            return c.count();
        }
        var fc = meters.find(name).tags(tags).functionCounter();
        return fc == null ? 0 : fc.count();
    }

    /** A consumer that records what it receives, on a context of its own. */
    final class Recorder {
        final Context context = vertx.getOrCreateContext();
        final List<Delivery> received = new CopyOnWriteArrayList<>();
        final List<Long> receivedAt = new CopyOnWriteArrayList<>();
        volatile io.omnibus.core.spi.Consumer consumer;
        volatile java.util.function.BiConsumer<Recorder, Delivery> onDelivery = (r, d) -> r.consumer.ack(d);

        Recorder attach(Subscription sub, int credit) {
            return attach(sub, credit, false);
        }

        Recorder attach(Subscription sub, int credit, boolean autoAck) {
            ConsumerSpec spec = new ConsumerSpec(new Origin("test", "client", "conn"), d -> {
                receivedAt.add(System.currentTimeMillis());
                received.add(d);
                onDelivery.accept(this, d);
            }, credit, autoAck);
            await(runOn(() -> sub.attach(spec).onSuccess(c -> consumer = c)));
            return this;
        }

        Recorder manual() {
            onDelivery = (r, d) -> { };
            return this;
        }

        List<String> payloads() {
            return received.stream().map(d -> d.envelope().payloadAsString()).toList();
        }

        <T> Future<T> runOn(java.util.function.Supplier<Future<T>> action) {
            io.vertx.core.Promise<T> p = io.vertx.core.Promise.promise();
            context.runOnContext(v -> action.get().onComplete(p));
            return p.future();
        }
    }

    Recorder recorder() {
        return new Recorder();
    }

    @Override
    public void close() {
        await(broker.close());
        await(vertx.close());
    }

    static SubscriptionSpec spec(String name, String filter) {
        return SubscriptionSpec.of(name, filter);
    }
}
