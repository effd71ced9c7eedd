package io.omnibus.core.internal;

import io.omnibus.core.spi.ConsumerSpec;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The rules written in {@code io.omnibus.core.spi.package-info}, asserted. */
@Timeout(30)
class BrokerThreadingTest {
    private final TestBroker tb = new TestBroker(Map.of("broker", Map.of("shards", 3)));

    @AfterEach
    void stop() {
        tb.close();
    }

    /** Runs {@code action} on {@code ctx} and records the context its future completes on. */
    private <T> Context completesOn(Context ctx, Supplier<Future<T>> action) {
        Promise<Context> where = Promise.promise();
        ctx.runOnContext(v -> action.get().onComplete(ar -> where.complete(Vertx.currentContext())));
        return await(where.future());
    }

    @Test
    void aSubscriptionRunsOnTheEventLoopOfTheContextThatMadeItWhenAShardDoes() throws Exception {
        List<Context> callers = deployedContexts(8);
        int near = 0;
        for (int i = 0; i < callers.size(); i++) {
            io.vertx.core.internal.ContextInternal caller = (io.vertx.core.internal.ContextInternal) callers.get(i);
            String name = "near-" + i;
            Promise<Subscription> made = Promise.promise();
            String filter = "t/" + i;
            caller.runOnContext(v -> tb.broker.subscribe(SubscriptionSpec.of(name, filter)).onComplete(made));
            SubscriptionQueue q = (SubscriptionQueue) await(made.future());
            boolean aShardThere = tb.shards().stream()
                    .anyMatch(s -> ((io.vertx.core.internal.ContextInternal) s).nettyEventLoop() == caller.nettyEventLoop());
            if (aShardThere) {
                near++;
                assertThat(((io.vertx.core.internal.ContextInternal) q.mailbox.target()).nettyEventLoop()).as(name)
                        .isSameAs(caller.nettyEventLoop());
            }
        }
        assertThat(near).isPositive();
    }

    /** The contexts of {@code n} verticles, spread over the event loops as Vert.x deploys them. */
    private List<Context> deployedContexts(int n) {
        List<Context> callers = new CopyOnWriteArrayList<>();
        await(tb.vertx.deployVerticle(() -> new io.vertx.core.VerticleBase() {
            @Override
            public Future<?> start() {
                callers.add(context);
                return Future.succeededFuture();
            }
        }, new io.vertx.core.DeploymentOptions().setInstances(n)));
        return callers;
    }

    /** Contexts on distinct event loops that each have a shard on their loop. */
    private List<Context> callersOnLoopsWithShards() {
        List<Context> callers = deployedContexts(8);
        List<Context> out = new java.util.ArrayList<>();
        for (Context c : callers) {
            boolean shardThere = tb.shards().stream().anyMatch(s -> Mailbox.sameLoop(s, c));
            if (shardThere && out.stream().noneMatch(o -> Mailbox.sameLoop(o, c))) {
                out.add(c);
            }
        }
        return out;
    }

    @Test
    void aSubscriptionMovesToTheEventLoopOfItsConsumerWithNothingLostOrReordered() {
        List<Context> callers = callersOnLoopsWithShards();
        assertThat(callers).hasSizeGreaterThanOrEqualTo(2);
        Context maker = callers.get(0);
        Context consumerHome = callers.get(1);
        Promise<Subscription> made = Promise.promise();
        maker.runOnContext(v -> tb.broker.subscribe(SubscriptionSpec.of("moving", "moving/t")).onComplete(made));
        SubscriptionQueue q = (SubscriptionQueue) await(made.future());
        assertThat(Mailbox.sameLoop(q.mailbox.target(), maker)).isTrue();

        int n = 20_000;
        Context producer = tb.vertx.getOrCreateContext();
        java.util.concurrent.atomic.AtomicInteger published = new java.util.concurrent.atomic.AtomicInteger();
        // in runs of 200, one task each: 2,000 before the consumer comes, the rest while its attach (and the move)
        // is queued behind the runs being routed
        Runnable[] run = new Runnable[1];
        run[0] = () -> {
            for (int k = 0; k < 200; k++) {
                tb.broker.publish(Envelope.builder("moving/t").payload(Integer.toString(published.getAndIncrement()))
                        .build());
            }
            if (published.get() < n && published.get() != 2_000) {
                producer.runOnContext(v -> run[0].run());
            }
        };
        producer.runOnContext(v -> run[0].run());
        await().until(() -> published.get() == 2_000);
        // attached while the publishes are routed: runs offered before the move and after it keep their order
        List<Integer> received = new CopyOnWriteArrayList<>();
        io.omnibus.core.spi.Consumer[] consumer = new io.omnibus.core.spi.Consumer[1];
        Promise<io.omnibus.core.spi.Consumer> attached = Promise.promise();
        consumerHome.runOnContext(v -> q.attach(ConsumerSpec.push(new Origin("test", "c", "1"), 100, d -> {
            received.add(Integer.parseInt(d.envelope().payloadAsString()));
            consumer[0].ackAndCredit(d, 1); // a window of 100, as an MQTT subscriber has
        })).onSuccess(c -> consumer[0] = c).onComplete(attached));
        producer.runOnContext(v -> run[0].run());
        await(attached.future());
        assertThat(Mailbox.sameLoop(q.mailbox.target(), consumerHome)).as("the subscription's context").isTrue();

        await().untilAsserted(() -> assertThat(received.size()).as(() -> "received; " + tb.view("moving"))
                .isGreaterThanOrEqualTo(n));
        Promise<Thread> runsOn = Promise.promise();
        q.mailbox.execute(() -> runsOn.complete(Thread.currentThread()));
        Promise<Thread> homeThread = Promise.promise();
        consumerHome.runOnContext(v -> homeThread.complete(Thread.currentThread()));
        assertThat(await(runsOn.future())).isSameAs(await(homeThread.future()));
        // every message once, in the order published (the subscription's first messages were routed before the
        // consumer came: they are read from the log)
        assertThat(received).hasSize(n).isSorted().doesNotHaveDuplicates();
        await().until(() -> tb.view("moving").unacknowledged() == 0);
        assertThat(tb.view("moving").backlog()).isZero();
    }

    @Test
    void aSubscriptionWithConsumersOnSeveralLoopsStaysWhereItIsUntilTheyAreOnOne() {
        List<Context> callers = callersOnLoopsWithShards();
        assertThat(callers).hasSizeGreaterThanOrEqualTo(2);
        Subscription sub = tb.subscribe("shared", "shared/t");
        SubscriptionQueue q = (SubscriptionQueue) sub;
        List<io.omnibus.core.spi.Consumer> attachedOnes = new java.util.ArrayList<>();
        for (Context home : callers.subList(0, 2)) {
            Promise<io.omnibus.core.spi.Consumer> attached = Promise.promise();
            home.runOnContext(v -> sub.attach(ConsumerSpec.push(new Origin("test", "c", "1"), 10, d -> { }))
                    .onComplete(attached));
            attachedOnes.add(await(attached.future()));
        }
        // the first consumer brought it to its loop; the second, elsewhere, leaves it there
        assertThat(Mailbox.sameLoop(q.mailbox.target(), callers.get(0))).isTrue();
        // once the first one is gone, the one left is on one loop: the subscription goes there
        Promise<Void> closed = Promise.promise();
        callers.get(0).runOnContext(v -> attachedOnes.get(0).close().onComplete(closed));
        await(closed.future());
        assertThat(Mailbox.sameLoop(q.mailbox.target(), callers.get(1))).isTrue();
    }

    @Test
    void futuresCompleteOnTheCallersContext() {
        Context adapter = tb.vertx.getOrCreateContext();
        assertThat(completesOn(adapter, () -> tb.broker.subscribe(SubscriptionSpec.of("s", "t/#")))).isSameAs(adapter);
        assertThat(completesOn(adapter, () -> tb.broker.publish(Envelope.builder("t/1").payload("x").build())))
                .isSameAs(adapter);
        Subscription sub = tb.broker.subscription("s");
        assertThat(completesOn(adapter, () -> sub.attach(ConsumerSpec.pullOnly(new Origin("test", "c", "1")))))
                .isSameAs(adapter);
        assertThat(completesOn(adapter, () -> tb.broker.unsubscribe("nope"))).isSameAs(adapter);
        // failures too
        assertThat(completesOn(adapter, () -> tb.broker.subscribe(SubscriptionSpec.of("s", "other")))).isSameAs(adapter);
    }

    @Test
    void deliveriesAndPullsArriveOnTheContextThatAttached() {
        Subscription sub = tb.subscribe("s", "t");
        Context home = tb.vertx.getOrCreateContext();
        List<Context> seen = new CopyOnWriteArrayList<>();
        List<Boolean> onEventLoop = new CopyOnWriteArrayList<>();
        Promise<io.omnibus.core.spi.Consumer> attached = Promise.promise();
        home.runOnContext(v -> sub.attach(ConsumerSpec.push(new Origin("test", "c", "1"), 100, d -> {
            seen.add(Vertx.currentContext());
            onEventLoop.add(Context.isOnEventLoopThread());
        })).onComplete(attached));
        io.omnibus.core.spi.Consumer consumer = await(attached.future());
        for (int i = 0; i < 20; i++) {
            tb.publish("t", "m" + i);
        }
        await().until(() -> seen.size() == 20);
        assertThat(seen).containsOnly(home);
        assertThat(onEventLoop).containsOnly(true);
        // called from a foreign thread, the pull still answers at home
        tb.publish("t", "pulled");
        Promise<Context> pulledOn = Promise.promise();
        home.runOnContext(v -> consumer.pull(1, Duration.ofSeconds(5))
                .onComplete(ar -> pulledOn.complete(Vertx.currentContext())));
        assertThat(await(pulledOn.future())).isSameAs(home);
    }

    @Test
    void confinedStateRefusesForeignThreads() {
        SubscriptionQueue q = (SubscriptionQueue) tb.subscribe("s", "t");
        assertThatThrownBy(() -> q.restoreCursor(new TopicPartition(io.omnibus.core.spi.Address.of("t"), 0),
                new CursorState(0, List.of())))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("confined");
    }

    @Test
    void publishesFromOneContextKeepTheirOrder() {
        TestBroker.Recorder r = tb.recorder().attach(tb.subscribe("s", "ordered"), 10_000);
        Context producer = tb.vertx.getOrCreateContext();
        producer.runOnContext(v -> {
            for (int i = 0; i < 2_000; i++) {
                tb.broker.publish(Envelope.builder("ordered").payload(Integer.toString(i)).build());
            }
        });
        await().until(() -> r.received.size() == 2_000);
        assertThat(r.received).extracting(d -> Integer.parseInt(d.envelope().payloadAsString())).isSorted();
        assertThat(r.received).extracting(io.omnibus.core.spi.Delivery::offset).isSorted();
    }
}
