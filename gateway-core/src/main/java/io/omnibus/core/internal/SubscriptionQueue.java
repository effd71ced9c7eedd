package io.omnibus.core.internal;

import io.omnibus.core.config.DeliveryPolicy;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.ConsumerSpec;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.TopicFilter;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One subscription: a cursor on the partition logs its filter matches ({@link LogCursors}), the consumers
 * sharing its messages ({@link ConsumerRing}), what waits in memory ({@link WaitingMessages}) and what each consumer
 * has not settled yet ({@link InFlightDeliveries}). All state is confined to its {@link #mailbox}; every entry point
 * hands its work there. This class takes messages in and settles them; handing them out under the dispatch policy is
 * {@link DispatchPass}'s, what becomes of a failed or undeliverable message {@link SubscriptionFailures}', pulls and
 * drains {@link ConsumerRequests}', the counters, gauges and {@code overflow: block} {@link SubscriptionStats}'.
 *
 * <p>The backlog is the log. At most {@code read-ahead} messages wait in memory, and only while consumers
 * are attached; the rest stay in the log and are read back as consumers settle. Durable messages are never
 * dropped for a slow or absent consumer; {@code max-pending} and its {@code overflow} bound non-durable ones.
 * Acknowledgements move the cursors, which the store journals for a durable subscription.
 */
final class SubscriptionQueue implements Subscription {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SubscriptionQueue.class);
    final String name;
    final TopicFilter filter;
    final boolean durable;
    /** Where its work runs: one broker context at a time, the one beside its consumers when it can ({@link #attach}). */
    final Mailbox mailbox;
    final DeliveryPolicy policy;
    /** The selector and no-local publisher it was made with (null: none), and what they select (null: all). */
    final String selector;
    final String noLocal;
    private final java.util.function.Predicate<Envelope> selects;
    final DefaultBroker broker;
    final BrokerMetrics metrics;

    /** What was taken into memory and waits to be handed out. */
    final WaitingMessages waiting;
    final ConsumerRing consumers = new ConsumerRing();
    final LogCursors cursors;
    /** Non-durable messages waiting (in memory or in the log): what {@code max-pending} bounds. */
    private final VolatileWaiting volatileWaiting;
    final KeyOwners keys = new KeyOwners();
    /** What consumers hold and have not settled. */
    final InFlightDeliveries inFlight;
    /** Counters, gauges, and the publishers {@code overflow: block} holds. */
    final SubscriptionStats stats;
    /** Redeliveries, dead letters, expiry, overflow drops. */
    final SubscriptionFailures failures;
    /** Pulls and credit drains. */
    final ConsumerRequests requests;
    /** The dispatch pass: hands out what waits under the dispatch policy. */
    final DispatchPass pass;
    private long nextSeq;
    private boolean deleted;
    /** Paused by an operator: nothing is handed out (pushed or pulled) until resumed; read by the admin API. */
    private volatile boolean paused;

    SubscriptionQueue(DefaultBroker broker, String name, TopicFilter filter, boolean durable, Context ctx,
                      DeliveryPolicy policy, String selector, String noLocal,
                      java.util.function.Predicate<Envelope> selects) {
        this.broker = broker;
        this.selector = selector;
        this.noLocal = noLocal;
        this.selects = selects;
        this.metrics = broker.metrics();
        this.name = name;
        this.filter = filter;
        this.durable = durable;
        this.mailbox = new Mailbox("subscription " + name, broker.vertx(), ctx);
        this.policy = policy;
        this.cursors = new LogCursors(name, durable, broker.store(), mailbox);
        this.volatileWaiting = new VolatileWaiting(policy, cursors);
        this.paused = durable && broker.store().state(OperatorActions.PAUSED, name) != null;
        this.waiting = new WaitingMessages(mailbox, this::dispatch);
        this.stats = new SubscriptionStats(this);
        this.failures = new SubscriptionFailures(this, stats);
        this.requests = new ConsumerRequests(this);
        this.pass = new DispatchPass(this);
        this.inFlight = new InFlightDeliveries(mailbox, policy.ackTimeout(), keys, late -> {
            late.forEach(p -> failures.failed(p, true, "ack timeout"));
            dispatch();
        });
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public TopicFilter filter() {
        return filter;
    }

    @Override
    public DispatchPolicy policy() {
        return policy.dispatch();
    }

    SubscriptionView view() {
        return stats.view();
    }

    // ---- operators' actions (in the mailbox) ----------------------------------------------------------------

    /**
     * Acknowledges, unread, every message waiting: in memory, in the log, and stored but still on its way here.
     * Deliveries in flight stay with their consumers (settled as usual). Returns how many were waiting.
     */
    long purge() {
        if (deleted) {
            return 0;
        }
        long before = waitingCount() + cursors.lag();
        for (Pending p : waiting.takeAll()) {
            leftWaiting(p);
            failures.keyWaitingDone(p);
        }
        volatileWaiting.clear(); // what is in flight left it when handed out; the rest is acknowledged now
        cursors.purge(inFlight.offsets());
        stats.updateNow();
        return before;
    }

    /** Stops (true) or resumes handing out messages; consumers stay attached, messages keep arriving. */
    void pause(boolean pause) {
        paused = pause;
        if (!pause) {
            dispatch();
        }
    }

    boolean paused() {
        return paused;
    }

    long backlog() {
        return stats.backlog;
    }

    boolean isDeleted() {
        return deleted;
    }

    int inFlightCount() {
        return inFlight.size();
    }

    // ---- entry points from other contexts -------------------------------------------------------

    /**
     * Routes stored messages of one partition here, in offset order (called by the partition's context, each message
     * counted in by {@link SubscriptionStats#routedHere} first).
     */
    void offer(List<StoredMessage> run) {
        mailbox.run(() -> {
            // counted in the load until the backlog that includes them is published, in the same atomic step
            stats.blocked.arrived(run.size());
            for (StoredMessage m : run) {
                arrive(m);
            }
            dispatch();
            stats.update();
        });
    }

    /**
     * The cursor states acknowledging the deliveries {@code tags} would leave, without acknowledging them: a
     * transaction's commit writes them with its messages. Empty for a subscription that is not durable.
     */
    Future<List<io.omnibus.core.store.CursorChange>> prospectiveAcks(List<Long> tags) {
        Context caller = Vertx.currentContext();
        Promise<List<io.omnibus.core.store.CursorChange>> promise = Promise.promise();
        mailbox.run(() -> {
            Map<TopicPartition, List<Long>> offsets = new LinkedHashMap<>();
            for (long tag : tags) {
                InFlightDeliveries.InFlight f = inFlight.get(tag);
                if (f != null && durable) {
                    offsets.computeIfAbsent(f.pending().msg.partition(), k -> new ArrayList<>()).add(f.pending().msg.offset());
                }
            }
            List<io.omnibus.core.store.CursorChange> out = new ArrayList<>(offsets.size());
            offsets.forEach((tp, list) -> {
                CursorState state = cursors.prospective(tp, list);
                if (state != null) {
                    out.add(new io.omnibus.core.store.CursorChange(name, tp, state));
                }
            });
            promise.complete(out);
        });
        return Contexts.on(caller, promise.future());
    }

    /** Restores a cursor read back from the store, before any message is offered. */
    void restoreCursor(TopicPartition tp, CursorState state) {
        mailbox.check("subscription " + name);
        cursors.restore(tp, state);
    }

    /** After a restart: a partition the subscription matches and has no cursor for began after it; all of it is its. */
    void discoverPartition(TopicPartition tp, long from) {
        mailbox.check("subscription " + name);
        cursors.discover(tp, from);
    }

    /** The log of {@code tp} grew by appends another node made: read what this subscription has not seen. */
    void logGrew(TopicPartition tp, long from) {
        mailbox.check("subscription " + name);
        cursors.grew(tp, from);
        dispatch();
    }

    /** Recovery is done with this subscription: its backlog (the log past its cursors) is shown from now on. */
    void recovered() {
        mailbox.check("subscription " + name);
        stats.update();
    }

    /**
     * Sets the cursor of a partition to a group's committed position (Kafka, RocketMQ): everything before
     * {@code next} acknowledged, the rest lag. Such subscriptions have no consumers; their readers use the logs.
     */
    @Override
    public void commit(Address address, int partition, long next) {
        TopicPartition tp = new TopicPartition(address, partition);
        mailbox.run(() -> {
            if (!deleted) {
                cursors.seek(tp, next);
                stats.update();
            }
        });
    }

    @Override
    public Future<Consumer> attach(ConsumerSpec spec) {
        Context caller = Vertx.currentContext();
        Promise<Consumer> promise = Promise.promise();
        mailbox.run(() -> {
            if (deleted) {
                promise.fail(new io.omnibus.core.spi.BrokerException(io.omnibus.core.spi.BrokerException.Reason.NOT_FOUND,
                        "subscription '" + name + "' was deleted"));
                return;
            }
            if (spec.selects() != null && (policy.dispatch() == DispatchPolicy.KEY_ORDERED
                    || policy.dispatch() == DispatchPolicy.PULL)) {
                // those dispatch policies hand messages out without asking consumers: a selector would be ignored
                promise.fail(new io.omnibus.core.spi.BrokerException(
                        io.omnibus.core.spi.BrokerException.Reason.INVALID_SELECTOR, "subscription '" + name + "' is "
                        + policy.dispatch().configName() + ": its consumers cannot have selectors of their own"));
                return;
            }
            ConsumerState c = new ConsumerState(this, spec, caller);
            consumers.add(c);
            stats.consumerCount = consumers.size();
            placeBesideConsumers();
            waiting.unpark(c);
            c.credit = spec.initialCredit();
            // the handle reaches the caller before the first delivery does (both are queued on its context)
            promise.complete(c);
            dispatch();
        });
        return Contexts.on(caller, promise.future());
    }

    /**
     * Moves the subscription's work to a broker context on the event loop of its consumers when they all run on one
     * loop and it is not this one (as a rule the one consumer of an MQTT subscription or a JMS queue receiver,
     * attached later from another connection, or to a subscription restored at a start): the subscription then serves
     * them without waking another thread for each delivery and each acknowledgement. Called as consumers come and go.
     */
    private void placeBesideConsumers() {
        Context home = consumers.oneLoop();
        if (home == null || Mailbox.sameLoop(home, mailbox.target())) {
            return;
        }
        Context next = broker.shards().near(home, name);
        if (!Mailbox.sameLoop(next, home)) {
            return; // no shard on that loop (broker.shards below the number of event loops): stays where it is
        }
        LOG.debug("subscription {} moves to the event loop of its consumers", name);
        mailbox.moveTo(next);
        // the ack-timeout sweep was set on the loop it left: set it again from the new one
        mailbox.execute(inFlight::rearmTimer);
    }

    /** Drops everything; consumers stay attached but receive nothing more. */
    void delete() {
        mailbox.run(() -> {
            deleted = true;
            cursors.clear();
            volatileWaiting.clear();
            waiting.clear();
            inFlight.clear();
            inFlight.cancelTimer();
            keys.clear();
            for (ConsumerState c : consumers.all()) {
                c.unacked = 0;
            }
            requests.clear();
            requests.settleDrains();
            stats.update();
        });
    }

    // ---- the queue itself (in the mailbox) -------------------------------------------------------------

    /** A message routed here as it was stored: taken into memory when there is room, else left in the log. */
    private void arrive(StoredMessage m) {
        if (deleted) {
            return;
        }
        if (!m.envelope().durable() && !cursors.isAcked(m.partition(), m.offset())
                && !volatileWaiting.add(m, failures::dropped)) { // deliverable() skips an older one dropped for it
            cursors.admit(m, false);
            failures.dropped(m.partition(), m.offset());
            return;
        }
        if (cursors.admit(m, hasReadRoom())) {
            take(m);
        }
    }

    /** No longer waiting: handed out or settled. */
    void leftWaiting(Pending p) {
        if (p.countedVolatile) {
            p.countedVolatile = false;
            volatileWaiting.remove(p.msg.partition(), p.msg.offset());
        }
    }

    /** A message taken into memory (routed, or read back from the log) and not acknowledged. */
    private void take(StoredMessage m) {
        Envelope env = m.envelope();
        if (selects != null && !selects.test(env)) {
            // not selected: consumed as far as this subscription goes, never delivered
            if (!env.durable()) {
                volatileWaiting.remove(m.partition(), m.offset());
            }
            cursors.ack(m.partition(), m.offset());
            return;
        }
        ByteBuffer key = policy.dispatch() == DispatchPolicy.KEY_ORDERED ? env.key() : null;
        Pending p = new Pending(m, nextSeq++, key);
        p.countedVolatile = !env.durable();
        // the clock is read only for a message with an expiry or a delivery time: most have neither
        long now = env.expiresAt() == 0 && env.deliverAt() == 0 ? 0 : System.currentTimeMillis();
        if (env.isExpired(now)) {
            failures.expire(p);
            return;
        }
        if (env.deliverAt() > now) {
            failures.schedule(p, env.deliverAt());
        } else {
            waiting.addFresh(p);
        }
    }

    /**
     * Whether more messages may be taken into memory: only for attached consumers, up to read-ahead messages ready
     * to go, and up to max-pending held for later (deliver-at).
     */
    private boolean hasReadRoom() {
        return !deleted && (!consumers.isEmpty() || requests.pullsWaiting())
                && waiting.ready() < policy.readAhead()
                && waiting.scheduledCount() < policy.maxPending();
    }

    /**
     * Reads back from the log what waits there, once half the read-ahead is free: batches, not a read per
     * settlement.
     */
    void fill() {
        int room = policy.readAhead() - waiting.ready();
        if (room >= Math.max(1, policy.readAhead() / 2) && hasReadRoom() && cursors.canRead()) {
            cursors.read(room, batch -> batch.forEach(this::take), this::dispatch);
        }
    }

    int waitingCount() {
        return waiting.count();
    }

    /** Hands out what can be handed out ({@link DispatchPass#dispatch}). */
    void dispatch() {
        pass.dispatch();
    }

    // ---- settlement (in the mailbox) ------------------------------------------------------------------

    void ack(ConsumerState c, long tag) {
        InFlightDeliveries.InFlight f = inFlight.remove(tag);
        if (f == null) {
            return; // settled already (ack timeout, consumer closed, cumulative ack)
        }
        settled(f.pending());
        stats.acked++;
        dispatch();
    }

    void ackUpTo(TopicPartition tp, long offset) {
        if (deleted || !cursors.knows(tp)) {
            return;
        }
        stats.acked += inFlight.removeUpTo(tp, offset);
        cursors.ackUpTo(tp, offset);
        dispatch();
    }

    /** A failed attempt: the message comes back after backoff, or is dead-lettered past the maximum. */
    void nack(long tag, boolean notHere) {
        InFlightDeliveries.InFlight f = inFlight.remove(tag);
        if (f != null) {
            if (notHere) {
                SubscriptionFailures.notHere(f);
            }
            failures.failed(f.pending(), true, "nack");
            dispatch();
        }
    }

    /**
     * Given back unchanged: no attempt is counted. {@code notHere}: and not to be offered to that consumer again
     * (under round-robin and fair dispatch; key-ordered and pull subscriptions give it back as it is).
     */
    void release(long tag, boolean notHere) {
        InFlightDeliveries.InFlight f = inFlight.remove(tag);
        if (f != null) {
            if (notHere) {
                SubscriptionFailures.notHere(f);
            }
            failures.giveBack(f.pending(), 0);
            dispatch();
        }
    }

    void reject(long tag, String reason) {
        InFlightDeliveries.InFlight f = inFlight.remove(tag);
        if (f != null) {
            failures.deadLetter(f.pending(), "rejected" + (reason == null || reason.isEmpty() ? "" : ": " + reason));
            dispatch();
        }
    }

    void credit(ConsumerState c, int n) {
        c.credit = (int) Math.min(Integer.MAX_VALUE, (long) c.credit + n);
        waiting.unpark(c);
        dispatch();
    }

    void drain(ConsumerState c, Promise<Integer> promise) {
        requests.drain(c, promise);
        pass.dispatchOrNote(); // settles the drain at its end
    }

    void pull(ConsumerState c, int max, Duration wait, Promise<List<Delivery>> promise) {
        requests.pull(c, max, wait, promise);
    }

    void detach(ConsumerState c) {
        if (!consumers.remove(c)) {
            return;
        }
        stats.consumerCount = consumers.size();
        placeBesideConsumers(); // the ones left may all be on one other loop
        requests.detached(c);
        List<Pending> lost = inFlight.removeAll(c);
        c.unacked = 0;
        keys.forget(c);
        for (Pending p : lost) {
            failures.failed(p, false, "consumer lost");
        }
        dispatch();
    }

    /** The message is done with in this subscription: move its cursor. */
    void settled(Pending p) {
        leftWaiting(p);
        cursors.ack(p.msg.partition(), p.msg.offset());
    }
}
