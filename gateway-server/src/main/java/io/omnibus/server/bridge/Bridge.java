package io.omnibus.server.bridge;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.ConsumerSpec;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.spi.TopicFilter;
import io.omnibus.core.spi.TranslationLosses;
import io.omnibus.core.spi.bridge.Remote;
import io.omnibus.core.spi.bridge.RemoteRefusedException;
import io.omnibus.core.spi.bridge.RemoteSpec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongSupplier;

/**
 * One bridge (docs/bridges.md), confined to a context of its own.
 *
 * <p>Out: a durable subscription {@code $bridge/NAME} on the local filter, a cursor like any other. Once the remote
 * is connected a consumer is attached with {@code in-flight} credit; each delivery is sent, acknowledged (and so
 * leaves the cursor) only when the remote confirmed it, dead-lettered with the remote's reason when the remote
 * refused it. Any other failure ends the connection: the consumer is closed (what it held goes back to the cursor, in
 * order), the remote is closed, and a new one is made after a backoff. So while the remote is away messages wait in
 * the log as the bridge's lag, and after a crash what was in flight is sent again (duplicates, at most
 * {@code in-flight}).
 *
 * <p>In: the remote hands each message over, the bridge publishes it locally, and the remote is acknowledged when the
 * store confirmed.
 */
final class Bridge {
    private static final Logger LOG = LoggerFactory.getLogger(Bridge.class);

    enum State { STARTING, CONNECTING, CONNECTED, BACKING_OFF, PAUSED, STOPPED }

    private final BridgeConfig config;
    private final Vertx vertx;
    private final Broker broker;
    private final Context context;
    private final TranslationLosses losses;
    private final LongSupplier lag;
    private final Origin origin;
    private final Counter forwarded;
    private final Counter deadLettered;
    private final Counter reconnects;
    // confined to context; volatile where the admin API reads them
    private volatile State state = State.STARTING;
    private volatile String lastError;
    /** Outbound: deliveries sent and not yet confirmed, by tag, in the order they went. */
    private final java.util.LinkedHashMap<Long, Delivery> outstanding = new java.util.LinkedHashMap<>();
    /** Outbound: outstanding's size; inbound: messages handed over and not yet stored (remote threads count them). */
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private Subscription subscription;
    private Remote remote;
    private Consumer consumer;
    private int generation;
    private int creditOwed;
    private long backoffMs;
    private long timer = -1;

    Bridge(BridgeConfig config, Vertx vertx, Broker broker, MeterRegistry meters, TranslationLosses losses,
           LongSupplier lag) {
        this.config = config;
        this.vertx = vertx;
        this.broker = broker;
        this.context = ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();
        this.losses = losses;
        this.lag = lag;
        this.origin = new Origin("bridge", config.name(), "bridge/" + config.name());
        String direction = config.outbound() ? "out" : "in";
        this.forwarded = Counter.builder("omnibus.bridge.forwarded").tag("bridge", config.name()).tag("direction", direction)
                .description("Messages a bridge forwarded: confirmed by the remote (out) or stored here (in)").register(meters);
        this.deadLettered = Counter.builder("omnibus.bridge.failed").tag("bridge", config.name()).tag("direction", direction)
                .description("Messages the remote refused, dead-lettered").register(meters);
        this.reconnects = Counter.builder("omnibus.bridge.reconnects").tag("bridge", config.name()).tag("direction", direction)
                .description("Times a bridge lost or could not make its connection").register(meters);
        Gauge.builder("omnibus.bridge.connected", this, b -> b.state == State.CONNECTED ? 1 : 0)
                .tag("bridge", config.name()).tag("direction", direction)
                .description("1 while a bridge is connected to its remote").register(meters);
        if (config.outbound()) {
            Gauge.builder("omnibus.bridge.lag", this, b -> b.lag.getAsLong()).tag("bridge", config.name())
                    .description("Messages waiting in the log for an outbound bridge, in flight included").register(meters);
        }
    }

    String name() {
        return config.name();
    }

    static String subscriptionName(String bridge) {
        return "$bridge/" + bridge;
    }

    Future<Void> start() {
        Promise<Void> started = Promise.promise();
        context.runOnContext(v -> {
            if (!config.outbound()) {
                connect();
                started.complete();
                return;
            }
            broker.subscribe(new SubscriptionSpec(subscriptionName(config.name()), TopicFilter.of(config.local()), true,
                    DispatchPolicy.ROUND_ROBIN)).onComplete(ar -> {
                if (ar.failed()) {
                    started.fail(ar.cause());
                    return;
                }
                subscription = ar.result();
                connect();
                started.complete();
            });
        });
        return started.future();
    }

    private void connect() {
        if (state == State.PAUSED || state == State.STOPPED) {
            return;
        }
        timer = -1;
        state = State.CONNECTING;
        int gen = ++generation;
        Remote r;
        try {
            r = config.connector().create(vertx, config.remote());
        } catch (RuntimeException e) {
            failed(gen, e);
            return;
        }
        remote = r;
        r.connect(t -> context.runOnContext(x -> failed(gen, t))).compose(v -> {
            Promise<Void> ready = Promise.promise();
            context.runOnContext(x -> {
                if (gen != generation) {
                    ready.fail("superseded");
                    return;
                }
                if (config.outbound()) {
                    subscription.attach(new ConsumerSpec(origin, d -> onDelivery(gen, d), config.remote().inFlight(), false))
                            .onComplete(ar -> {
                                if (ar.failed()) {
                                    ready.fail(ar.cause());
                                } else if (gen != generation) {
                                    ar.result().close();
                                    ready.fail("superseded");
                                } else {
                                    consumer = ar.result();
                                    ready.complete();
                                }
                            });
                } else {
                    r.receive(config.remoteAddress(), this::storeIn).onComplete(ready);
                }
            });
            return ready.future();
        }).onComplete(ar -> context.runOnContext(x -> {
            if (gen != generation) {
                return;
            }
            if (ar.failed()) {
                failed(gen, ar.cause());
                return;
            }
            state = State.CONNECTED;
            backoffMs = 0;
            lastError = null;
            LOG.info("bridge {}: connected to {}", config.name(), config.remote().url());
        }));
    }

    // ---- out ---------------------------------------------------------------------------------------------------

    private void onDelivery(int gen, Delivery d) {
        if (gen != generation || consumer == null) {
            return; // handed over as the consumer closed: it is back in the cursor
        }
        Envelope e = d.envelope();
        String target;
        try {
            target = target(e.address());
        } catch (RuntimeException refused) {
            consumer.reject(d, refused.getMessage());
            deadLettered.increment();
            giveCredit();
            return;
        }
        outstanding.put(d.tag(), d);
        inFlight.set(outstanding.size());
        losses.delivered(e, remote.protocol());
        remote.send(target, e).onComplete(ar -> Remote.on(context, () -> {
            if (gen != generation) {
                return; // the connection ended: the message was given back to the cursor and goes again
            }
            outstanding.remove(d.tag());
            inFlight.set(outstanding.size());
            if (ar.succeeded()) {
                consumer.ack(d);
                forwarded.increment();
                giveCredit();
            } else if (ar.cause() instanceof RemoteRefusedException refused) {
                consumer.reject(d, "remote " + config.remote().url() + " refused it: " + refused.getMessage());
                deadLettered.increment();
                lastError = "refused " + e.address().name() + ": " + refused.getMessage();
                giveCredit();
            } else {
                failed(gen, ar.cause());
            }
        }));
    }

    /**
     * One more message may go: credit goes back to the subscription in batches of an eighth of {@code in-flight}
     * (one call to its context, not one per message), and at once when nothing is left in flight.
     */
    private void giveCredit() {
        creditOwed++;
        if (creditOwed >= Math.max(1, config.remote().inFlight() / 8) || outstanding.isEmpty()) {
            consumer.credit(creditOwed);
            creditOwed = 0;
        }
    }


    /** The remote name of an address, through the {@code remote.address} template. */
    private String target(Address address) {
        String template = config.remoteAddress();
        return template.contains("{address}") ? template.replace("{address}", remote.remoteName(address)) : template;
    }

    // ---- in ----------------------------------------------------------------------------------------------------

    /** Called on the remote's thread: publishes here, completes when stored. */
    private Future<Void> storeIn(Envelope e) {
        Envelope here = arrived(e);
        inFlight.incrementAndGet();
        // a retained message (an MQTT remote's RETAIN, AMQP's x-opt-retain) is retained here too, as a device's is
        Future<?> stored = here.retain() ? broker.retain(here).compose(v -> broker.publish(here)) : broker.publish(here);
        return stored.map(r -> {
            forwarded.increment();
            return (Void) null;
        }).onComplete(ar -> inFlight.decrementAndGet());
    }

    /**
     * The message under its local address ({@code local}'s template); one whose name is no valid address here goes
     * to {@code $dlq/bridge/NAME} with the reason, so that the remote does not send it again forever.
     */
    private Envelope arrived(Envelope e) {
        Address dlq = config.remote().deadLetterAddress();
        if (e.address().equals(dlq)) {
            deadLettered.increment();
            return e;
        }
        String local = config.local().replace("{address}", e.address().name());
        try {
            return local.equals(e.address().name()) ? e : e.toBuilder().address(Address.of(local)).build();
        } catch (RuntimeException invalid) {
            deadLettered.increment();
            return e.toBuilder().address(dlq).header(RemoteSpec.DEAD_LETTER_REASON, "bridge " + config.name()
                    + ": the local address '" + local + "' is not valid: " + invalid.getMessage()).build();
        }
    }

    // ---- connection life -----------------------------------------------------------------------------------------

    private void failed(int gen, Throwable t) {
        if (gen != generation || state == State.PAUSED || state == State.STOPPED) {
            return;
        }
        lastError = describe(t);
        LOG.warn("bridge {}: {} ({}); again in {} ms", config.name(), state == State.CONNECTED ? "connection lost"
                : "cannot connect", lastError, Math.max(backoffMs, config.backoffInitial().toMillis()));
        teardown();
        reconnects.increment();
        state = State.BACKING_OFF;
        backoffMs = backoffMs == 0 ? config.backoffInitial().toMillis() : Math.min(backoffMs * 2, config.backoffMax().toMillis());
        timer = vertx.setTimer(backoffMs, id -> context.runOnContext(x -> connect()));
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /**
     * Ends the current connection; later callbacks are ignored. What was sent and not confirmed is released first:
     * back to the cursor with its delivery count unchanged (an outage of the remote is not a failed delivery, and
     * must not dead-letter a message however often it happens); then the consumer is closed.
     */
    private Future<Void> teardown() {
        generation++;
        if (consumer != null) {
            outstanding.values().forEach(consumer::release);
        }
        outstanding.clear();
        if (config.outbound()) {
            inFlight.set(0);
        }
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
        Consumer c = consumer;
        consumer = null;
        creditOwed = 0;
        Remote r = remote;
        remote = null;
        Future<Void> closed = c == null ? Future.succeededFuture() : c.close().otherwiseEmpty();
        return closed.compose(v -> r == null ? Future.succeededFuture() : r.close().otherwiseEmpty());
    }

    Future<Void> pause() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            if (state == State.STOPPED) {
                done.complete();
                return;
            }
            state = State.PAUSED;
            teardown().onComplete(x -> done.complete());
        });
        return done.future();
    }

    Future<Void> resume() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            if (state == State.PAUSED) {
                state = State.STARTING;
                backoffMs = 0;
                connect();
            }
            done.complete();
        });
        return done.future();
    }

    Future<Void> stop() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            state = State.STOPPED;
            teardown().onComplete(x -> done.complete());
        });
        return done.future();
    }

    JsonObject status() {
        JsonObject j = new JsonObject().put("name", config.name()).put("direction", config.outbound() ? "out" : "in")
                .put("local", config.local()).put("remote", config.remote().url().toString())
                .put("remoteAddress", config.remoteAddress()).put("state", state.name())
                .put("lastError", lastError).put("inFlight", inFlight.get())
                .put("forwarded", (long) forwarded.count()).put("failed", (long) deadLettered.count())
                .put("reconnects", (long) reconnects.count());
        if (config.outbound()) {
            j.put("lag", lag.getAsLong());
        }
        return j;
    }
}
