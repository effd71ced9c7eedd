package io.omnibus.amqp;

import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.ConsumerSpec;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.DeliveryHandler;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.spi.TopicFilter;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Modified;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Released;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.TerminusDurability;
import org.apache.qpid.proton.amqp.messaging.TerminusExpiryPolicy;
import org.apache.qpid.proton.amqp.transaction.TransactionalState;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ReceiverSettleMode;
import org.apache.qpid.proton.amqp.transport.SenderSettleMode;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;

import java.nio.charset.StandardCharsets;

/**
 * A link the client receives on (our end is the sender): one consumer on one core subscription.
 * <ul>
 *   <li>no capability, {@code queue}, {@code temporary-queue}: the address's queue (a durable shared
 *       subscription named after it; temporary queues are not durable);</li>
 *   <li>{@code topic}: a private subscription, named {@code amqp/{container}/{link}} and kept after detach when
 *       the source is durable with expiry policy never (a JMS durable subscription), else deleted with the link;</li>
 *   <li>{@code topic} + {@code shared}: {@code amqp/{container}/shared/{name}}, or {@code amqp/shared/{name}} with
 *       {@code global}; consumers with the same name share it.</li>
 * </ul>
 * Link credit becomes consumer credit; drain drains the consumer; dispositions settle the core delivery.
 */
final class OutgoingLink implements DeliveryHandler {
    /** Broker state namespace: durable AMQP subscriptions, so a client can find one by its link name alone. */
    static final String DURABLE_SUBSCRIPTIONS = "amqp.subscriptions";

    private final AmqpConnection conn;
    private final Sender sender;
    private Consumer consumer;
    private String subscription;
    /** What happens to the subscription when the link goes: kept (queue, durable), deleted, or counted down. */
    private Lifetime lifetime = Lifetime.KEEP;
    private boolean presettled;
    /** A queue receiver's own selector (and no-local), null for none: what it takes of the queue's messages. */
    private java.util.function.Predicate<io.omnibus.core.spi.Envelope> receiverSelector;
    /** Credit handed to the consumer and not used by a delivery yet. */
    private int granted;
    private boolean draining;
    private boolean gone;
    /** The attach is still in progress (subscribe, attach): a detach meanwhile leaves the cleanup to its end. */
    private Future<Void> attaching;
    /** Consumer credit never exceeds this, whatever the client grants: what is pushed and not yet written is bounded. */
    private static final int MAX_GRANTED = 1000;

    private enum Lifetime { KEEP, DELETE_WITH_LINK, DURABLE, VOLATILE_SHARED }

    OutgoingLink(AmqpConnection conn, Sender sender) {
        this.conn = conn;
        this.sender = sender;
    }

    void attach() {
        Source remote = sender.getRemoteSource() instanceof Source s ? s : null;
        Source local;
        SubscriptionSpec spec;
        if (remote == null || remote.getAddress() == null && !Boolean.TRUE.equals(remote.getDynamic())) {
            // no source address: a client looking up its durable subscription by link name (JMS unsubscribe, reattach)
            String name = durableName(sender.getRemoteDesiredCapabilities());
            byte[] record = conn.broker.state(DURABLE_SUBSCRIPTIONS, name);
            if (record == null) {
                conn.events.refuse(sender, "amqp:not-found", "no durable subscription '" + sender.getName() + "' for container '"
                        + conn.containerId + "'");
                conn.pump();
                return;
            }
            JsonObject r = new JsonObject(io.vertx.core.buffer.Buffer.buffer(record));
            if (!conn.nodes.maySubscribe(r.getString("filter"))) {
                conn.events.refuse(sender, "amqp:unauthorized-access", "not authorized to receive from '" + r.getString("filter") + "'");
                conn.pump();
                return;
            }
            local = new Source();
            local.setAddress(r.getString("filter"));
            local.setDurable(TerminusDurability.UNSETTLED_STATE);
            local.setExpiryPolicy(TerminusExpiryPolicy.NEVER);
            local.setCapabilities(r.getBoolean("shared", false) ? new Symbol[]{Termini.TOPIC, Termini.SHARED}
                    : new Symbol[]{Termini.TOPIC});
            subscription = name;
            lifetime = Lifetime.DURABLE;
            String selector = r.getString("selector");
            boolean noLocal = r.getBoolean("no-local", false);
            local.setFilter(Termini.filters(selector, noLocal));
            spec = new SubscriptionSpec(name, TopicFilter.of(r.getString("filter")), true, null)
                    .withSelection(selector, noLocal ? SubscriptionSpec.publisher(conn.origin) : null);
        } else {
            local = Termini.copy(remote);
            Symbol[] caps = remote.getCapabilities();
            boolean topic = Termini.isTopic(caps);
            Termini.Selection selection = Termini.selection(remote.getFilter());
            if (selection.any() && !topic) {
                // a queue receiver's selector is its own: the queue keeps what it does not select for the others
                try {
                    receiverSelector = selection.selector() == null ? null : conn.broker.selector(selection.selector());
                } catch (BrokerException e) {
                    conn.events.refuse(sender, AmqpConnection.condition(e), e.getMessage());
                    conn.pump();
                    return;
                }
                if (selection.noLocal()) {
                    var notOwn = SubscriptionSpec.notFrom(SubscriptionSpec.publisher(conn.origin));
                    receiverSelector = receiverSelector == null ? notOwn : notOwn.and(receiverSelector);
                }
            }
            local.setFilter(selection.accepted().isEmpty() ? null : selection.accepted());
            String filter;
            if (Boolean.TRUE.equals(remote.getDynamic())) {
                filter = conn.nodes.newTemporaryAddress(); // a reply queue (or topic) for this connection
                local.setAddress(filter);
                lifetime = Lifetime.DELETE_WITH_LINK; // delete-on-close: the node goes with this link
            } else {
                filter = remote.getAddress();
                String invalid = Termini.invalidFilter(filter);
                if (invalid != null) {
                    conn.events.refuse(sender, "amqp:invalid-field", invalid);
                    conn.pump();
                    return;
                }
                if (!conn.nodes.mayRead(filter)) {
                    conn.events.refuse(sender, "amqp:unauthorized-access", "'" + filter + "' belongs to the gateway: of the '$' "
                            + "addresses, clients may read $dlq/... and their own connection's temporary nodes");
                    conn.pump();
                    return;
                }
                if (!conn.nodes.maySubscribe(filter)) {
                    conn.events.refuse(sender, "amqp:unauthorized-access", "not authorized to receive from '" + filter + "'");
                    conn.pump();
                    return;
                }
            }
            boolean durableTerminus = remote.getDurable() != null && remote.getDurable() != TerminusDurability.NONE
                    && remote.getExpiryPolicy() == TerminusExpiryPolicy.NEVER;
            if (!topic) {
                subscription = filter; // the queue: shared by every receiver of the address
                spec = new SubscriptionSpec(filter, TopicFilter.of(filter), !filter.startsWith(AmqpNodes.TEMP_PREFIX), null);
            } else if (Termini.has(caps, Termini.SHARED)) {
                subscription = sharedName(Termini.has(caps, Termini.GLOBAL));
                lifetime = durableTerminus ? Lifetime.DURABLE : Lifetime.VOLATILE_SHARED;
                spec = new SubscriptionSpec(subscription, TopicFilter.of(filter), durableTerminus, null);
            } else if (durableTerminus) {
                subscription = "amqp/" + conn.containerId + "/" + sender.getName();
                lifetime = Lifetime.DURABLE;
                spec = new SubscriptionSpec(subscription, TopicFilter.of(filter), true, null);
            } else {
                subscription = "amqp/" + conn.id + "/" + sender.getName(); // private to this link
                lifetime = Lifetime.DELETE_WITH_LINK;
                spec = new SubscriptionSpec(subscription, TopicFilter.of(filter), false, null);
            }
            if (topic) {
                spec = spec.withSelection(selection.selector(),
                        selection.noLocal() ? SubscriptionSpec.publisher(conn.origin) : null);
            }
        }
        presettled = sender.getRemoteSenderSettleMode() == SenderSettleMode.SETTLED;
        sender.setSource(local);
        sender.setTarget(sender.getRemoteTarget());
        sender.setSenderSettleMode(presettled ? SenderSettleMode.SETTLED : SenderSettleMode.UNSETTLED);
        sender.setReceiverSettleMode(ReceiverSettleMode.FIRST);
        if (lifetime == Lifetime.VOLATILE_SHARED) {
            conn.server.volatileShared.merge(subscription, 1, Integer::sum);
        }
        SubscriptionSpec created = spec;
        Future<Subscription> sub = spec.filter().filter().equals(spec.name()) && !Termini.isTopic(local.getCapabilities())
                ? conn.nodes.declareQueue(spec.name()) : conn.broker.subscribe(spec);
        if (lifetime == Lifetime.DURABLE && !Termini.has(local.getCapabilities(), Termini.SHARED)) {
            // a JMS durable subscriber that comes back with another topic or selector replaces its subscription
            sub = sub.recover(err -> err instanceof BrokerException b && b.reason() == BrokerException.Reason.SUBSCRIPTION_CONFLICT
                    ? conn.broker.unsubscribe(created.name()).compose(v -> conn.broker.subscribe(created))
                    : Future.failedFuture(err));
        }
        io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
        attaching = done.future();
        sub.compose(s -> lifetime == Lifetime.DURABLE ? remember(created).map(s) : Future.succeededFuture(s))
                .compose(s -> s.attach(new ConsumerSpec(conn.origin, this, 0, presettled, receiverSelector)))
                .onComplete(ar -> {
                    attaching = null;
                    if (ar.succeeded()) {
                        consumer = ar.result();
                    }
                    if (gone) { // detached meanwhile: the cleanup it left to us
                        cleanup(closedByClient).onComplete(x -> done.complete());
                        return;
                    }
                    done.complete();
                    if (ar.failed()) {
                        if (lifetime == Lifetime.VOLATILE_SHARED) {
                            conn.server.volatileShared.computeIfPresent(subscription, (k, n) -> n <= 1 ? null : n - 1);
                        }
                        conn.events.refuse(sender, AmqpConnection.condition(ar.cause()), ar.cause().getMessage());
                    } else {
                        sender.open();
                        onFlow(); // credit may have come with the attach
                    }
                    conn.pump();
                });
    }

    /** Qpid JMS names a shared subscription's links {@code name}, {@code name|2}, {@code name|volatile1}, {@code name|global}... */
    private String sharedName(boolean global) {
        String base = sender.getName();
        int bar = base.indexOf('|');
        if (bar >= 0) {
            base = base.substring(0, bar);
        }
        return global ? "amqp/shared/" + base : "amqp/" + conn.containerId + "/shared/" + base;
    }

    private String durableName(Symbol[] desired) {
        if (Termini.has(desired, Termini.SHARED)) {
            return sharedName(Termini.has(desired, Termini.GLOBAL));
        }
        return "amqp/" + conn.containerId + "/" + sender.getName();
    }

    private Future<Void> remember(SubscriptionSpec spec) {
        JsonObject record = new JsonObject().put("filter", spec.filter().filter())
                .put("shared", spec.name().contains("/shared/") || spec.name().startsWith("amqp/shared/"));
        if (spec.selector() != null) {
            record.put("selector", spec.selector());
        }
        if (spec.noLocal() != null) {
            record.put("no-local", true);
        }
        return conn.broker.putState(DURABLE_SUBSCRIPTIONS, spec.name(), record.encode().getBytes(StandardCharsets.UTF_8));
    }

    // ---- flow ---------------------------------------------------------------------------------------------

    void onFlow() {
        if (consumer == null || gone) {
            return;
        }
        // credit goes to the consumer in slices of at most MAX_GRANTED, and not while the socket is backed up
        int want = Math.min(sender.getCredit(), MAX_GRANTED) - granted;
        if (want > 0 && conn.writable()) {
            granted += want;
            consumer.credit(want);
        }
        if (sender.getDrain() && !draining) {
            draining = true;
            consumer.drain().onComplete(ar -> {
                draining = false;
                // the consumer dropped what it had; credit granted after the drain began is still there
                granted = Math.max(0, granted - (ar.succeeded() ? ar.result() : granted));
                if (!gone) {
                    sender.drained();
                    conn.pump();
                }
            });
        }
    }

    @Override
    public void onDelivery(Delivery d) {
        granted = Math.max(0, granted - 1);
        if (gone || sender.getCredit() <= 0) {
            if (!presettled && consumer != null) {
                consumer.release(d); // no credit (the client lowered it): back to the queue, no attempt counted
            }
            return;
        }
        Message m = AmqpTranslation.toMessage(d.envelope(), d.deliveryCount(), System.currentTimeMillis());
        conn.server.losses.delivered(d.envelope(), "amqp");
        java.nio.ByteBuffer encoded = AmqpTranslation.encode(m, d.envelope().payloadSize());
        org.apache.qpid.proton.engine.Delivery pd = sender.delivery(tag(d.tag()));
        pd.setContext(d);
        sender.send(encoded.array(), 0, encoded.limit());
        sender.advance();
        if (presettled) {
            pd.settle();
        }
        if (granted < MAX_GRANTED / 2) {
            onFlow(); // the next slice of the client's credit
        }
        conn.pumpSoon();
    }

    private static byte[] tag(long t) {
        byte[] b = new byte[8];
        for (int i = 7; i >= 0; i--) {
            b[i] = (byte) t;
            t >>>= 8;
        }
        return b;
    }

    /** The client's disposition: accepted, rejected, released or modified [AMQP 3.4] settle the core delivery. */
    void onDisposition(org.apache.qpid.proton.engine.Delivery pd) {
        if (!(pd.getContext() instanceof Delivery d) || consumer == null) {
            return;
        }
        DeliveryState state = pd.getRemoteState();
        if (state == null && !pd.remotelySettled()) {
            return; // a transfer still being acknowledged
        }
        pd.setContext(null);
        if (state instanceof TransactionalState ts) {
            // transactional acknowledgement [AMQP 4.4.2]: accepted takes effect when the transaction commits
            io.omnibus.core.spi.Transaction tx = conn.transactions.get(ts.getTxnId());
            if (tx == null) {
                consumer.release(d); // the transaction is not open (any more): the acknowledgement has no effect
            } else if (ts.getOutcome() == null || ts.getOutcome() instanceof Accepted) {
                tx.acknowledge(consumer, d);
            } else {
                settle(d, (DeliveryState) ts.getOutcome()); // other outcomes take effect at once
            }
            pd.settle();
            return;
        }
        settle(d, state);
        pd.settle();
    }

    /** Applies a client's outcome to the core delivery. */
    private void settle(Delivery d, DeliveryState state) {
        if (state == null || state instanceof Accepted) {
            consumer.ack(d);
        } else if (state instanceof Rejected r) {
            consumer.reject(d, r.getError() == null ? "rejected by an AMQP consumer"
                    : r.getError().getCondition() + (r.getError().getDescription() == null ? ""
                    : ": " + r.getError().getDescription()));
        } else if (state instanceof Released) {
            consumer.release(d);
        } else if (state instanceof Modified mod) {
            // delivery-failed counts an attempt (redelivered with backoff, dead-lettered past the maximum);
            // undeliverable-here keeps it from this link's consumer [AMQP 3.4.5] (Qpid JMS sends both for a message
            // past its client-side redelivery limit)
            boolean notHere = Boolean.TRUE.equals(mod.getUndeliverableHere());
            if (Boolean.TRUE.equals(mod.getDeliveryFailed())) {
                if (notHere) {
                    consumer.nackNotHere(d);
                } else {
                    consumer.nack(d);
                }
            } else if (notHere) {
                consumer.releaseNotHere(d);
            } else {
                consumer.release(d);
            }
        } else {
            consumer.release(d); // unknown states: give it back
        }
    }

    private boolean closedByClient;

    /** The link went: detached (subscription kept if durable) or closed by the client (a durable one ends too). */
    Future<Void> detached(boolean closedByClient) {
        if (gone) {
            return Future.succeededFuture();
        }
        gone = true;
        this.closedByClient = closedByClient;
        return attaching != null ? attaching : cleanup(closedByClient);
    }

    private Future<Void> cleanup(boolean closedByClient) {
        Future<Void> closing = consumer == null ? Future.succeededFuture() : consumer.close();
        String name = subscription;
        if (name == null) {
            return closing;
        }
        return switch (lifetime) {
            case KEEP -> closing;
            case DELETE_WITH_LINK -> closing.compose(v -> conn.broker.unsubscribe(name));
            case DURABLE -> closedByClient
                    ? closing.compose(v -> conn.broker.unsubscribe(name))
                            .compose(v -> conn.broker.putState(DURABLE_SUBSCRIPTIONS, name, null))
                    : closing;
            case VOLATILE_SHARED -> {
                Integer left = conn.server.volatileShared.computeIfPresent(name, (k, n) -> n <= 1 ? null : n - 1);
                yield left == null ? closing.compose(v -> conn.broker.unsubscribe(name)) : closing;
            }
        };
    }
}
