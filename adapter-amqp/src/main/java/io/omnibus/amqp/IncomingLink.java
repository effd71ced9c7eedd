package io.omnibus.amqp;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.PublishResult;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transaction.TransactionalState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.amqp.transport.ReceiverSettleMode;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.message.Message;

/**
 * A link the client sends on (our end is the receiver). Credit is granted as the store accepts: a message
 * is taken, published, and only when the broker has it as durable as it must be is it accepted and its
 * credit given back. At most {@code amqp.link-credit} messages per link are in the gateway's hands.
 */
final class IncomingLink {
    private final AmqpConnection conn;
    private final Receiver receiver;
    private final int credit;
    /** The target address; null on an anonymous link (each message's {@code to} says). */
    private Address address;
    /** Whether the target is a topic (no queue is declared for it). */
    private boolean topic;
    /** The temporary node this link created (dynamic target): it goes when the link does. */
    private String temporaryNode;
    private int outstanding;
    private boolean gone;

    IncomingLink(AmqpConnection conn, Receiver receiver) {
        this.conn = conn;
        this.receiver = receiver;
        this.credit = conn.server.config.linkCredit();
    }

    void attach() {
        org.apache.qpid.proton.amqp.transport.Target remote = receiver.getRemoteTarget();
        if (!(remote instanceof Target target)) {
            conn.events.refuse(receiver, "amqp:invalid-field", "the attach has no target");
            return;
        }
        Target local = Termini.copy(target);
        topic = Termini.isTopic(target.getCapabilities());
        Future<?> ready = Future.succeededFuture();
        if (Boolean.TRUE.equals(target.getDynamic())) {
            temporaryNode = conn.nodes.newTemporaryAddress();
            local.setAddress(temporaryNode);
            address = Address.of(temporaryNode);
            if (!topic) {
                ready = conn.nodes.declareQueue(temporaryNode);
            }
        } else if (target.getAddress() != null) {
            String name = target.getAddress();
            Termini.Refusal refused = Termini.refusedForSending(name);
            if (refused != null) {
                conn.events.refuse(receiver, refused.condition(), refused.description());
                return;
            }
            if (!conn.nodes.mayPublish(name)) {
                conn.events.refuse(receiver, "amqp:unauthorized-access", "not authorized to send to '" + name + "'");
                return;
            }
            address = Address.of(name);
            if (!topic && !name.startsWith(AmqpNodes.TEMP_PREFIX)) {
                ready = conn.nodes.declareQueue(name); // no capability means a queue: it keeps messages for later receivers
            }
        }
        receiver.setTarget(local);
        receiver.setSource(receiver.getRemoteSource());
        receiver.setSenderSettleMode(receiver.getRemoteSenderSettleMode());
        receiver.setReceiverSettleMode(ReceiverSettleMode.FIRST);
        receiver.setMaxMessageSize(UnsignedLong.valueOf(conn.broker.maxMessageSize()));
        ready.onComplete(ar -> {
            if (gone) {
                return;
            }
            if (ar.failed()) {
                conn.events.refuse(receiver, AmqpConnection.condition(ar.cause()), ar.cause().getMessage());
            } else {
                receiver.open();
                receiver.flow(credit);
            }
            conn.pump();
        });
    }

    void onTransfer(Delivery d) {
        if (gone || d != receiver.current()) {
            return; // a disposition on an earlier delivery also raises DELIVERY: only the current transfer is read
        }
        if (d.isAborted()) {
            d.settle();
            topUp();
            return;
        }
        if (d.isPartial()) {
            // the engine keeps a multi-frame transfer until its last frame: bound that by the message size limit
            if (d.available() > (long) conn.broker.maxMessageSize() + 64 * 1024) {
                fail("amqp:link:message-size-exceeded", "message exceeds " + conn.broker.maxMessageSize() + " bytes");
            }
            return;
        }
        int n = d.available();
        byte[] bytes = new byte[n];
        receiver.recv(bytes, 0, n);
        receiver.advance();
        boolean settled = d.remotelySettled();
        if (settled) {
            d.settle(); // at most once: nothing to tell the client
        }
        Message m;
        try {
            m = Sections.decode(bytes, n);
        } catch (RuntimeException e) {
            reject(d, settled, "amqp:decode-error", "the message could not be decoded: " + e.getMessage());
            return;
        }
        Address to = address;
        boolean toTopic = topic;
        if (to == null) { // anonymous relay: the message says where
            String name = m.getAddress();
            if (name == null) {
                reject(d, settled, "amqp:invalid-field", "a message on an anonymous link needs a 'to' address");
                return;
            }
            Termini.Refusal refused = Termini.refusedForSending(name);
            if (refused != null) {
                reject(d, settled, refused.condition(), refused.description());
                return;
            }
            if (!conn.nodes.mayPublish(name)) {
                reject(d, settled, "amqp:unauthorized-access", "not authorized to send to '" + name + "'");
                return;
            }
            to = Address.of(name);
            toTopic = Termini.jmsTopic(m.getMessageAnnotations() == null ? null : m.getMessageAnnotations().getValue());
        }
        Envelope env = AmqpTranslation.toEnvelope(m, to, settled, conn.origin, System.currentTimeMillis());
        Future<?> declared = address != null || toTopic || to.name().startsWith(AmqpNodes.TEMP_PREFIX)
                ? Future.succeededFuture() : conn.nodes.declareQueue(to.name());
        if (!(d.getRemoteState() instanceof TransactionalState) && !env.retain() && declared.succeeded()
                && env.payloadSize() <= conn.broker.maxMessageSize()) {
            outstanding++;
            conn.events.gather(env, new Transfer(d, settled, env.address())); // to the broker with the ones before it
            return;
        }
        conn.events.flushRuns(); // what came before goes first
        if (d.getRemoteState() instanceof TransactionalState ts) {
            stage(d, settled, ts, env, declared);
            return;
        }
        outstanding++;
        declared.compose(x -> publish(env)).onComplete(ar -> {
            new Transfer(d, settled, env.address()).stored(ar);
            conn.pump();
        });
    }

    /** A transfer on its way to the store: accepted, or rejected, once the broker has it or refused it. */
    final class Transfer {
        private final Delivery d;
        private final boolean settled;
        private final Address to;

        Transfer(Delivery d, boolean settled, Address to) {
            this.d = d;
            this.settled = settled;
            this.to = to;
        }

        void stored(AsyncResult<?> ar) {
            outstanding--;
            if (!settled && !d.isSettled()) {
                if (ar.succeeded()) {
                    d.disposition(Accepted.getInstance());
                } else {
                    d.disposition(rejected(AmqpConnection.condition(ar.cause()), ar.cause().getMessage()));
                }
                d.settle();
            } else if (ar.failed()) {
                AmqpServer.LOG.debug("amqp {}: a pre-settled message to {} was lost: {}", conn.id, to,
                        ar.cause().getMessage());
            }
            topUp();
        }
    }

    /**
     * A transactional transfer [AMQP 4.4.1]: the message is staged in its transaction and published at commit; the
     * answer is a transactional-state carrying the outcome.
     */
    private void stage(Delivery d, boolean settled, TransactionalState ts, Envelope env, Future<?> declared) {
        io.omnibus.core.spi.Transaction tx = conn.transactions.get(ts.getTxnId());
        if (tx == null) {
            reject(d, settled, CoordinatorLink.UNKNOWN_ID.toString(), "the transfer names a transaction that is not open "
                    + "on this connection");
            return;
        }
        outstanding++;
        declared.compose(x -> tx.publish(env)).onComplete(ar -> {
            outstanding--;
            if (!settled && !d.isSettled()) {
                TransactionalState outcome = new TransactionalState();
                outcome.setTxnId(ts.getTxnId());
                outcome.setOutcome(ar.succeeded() ? Accepted.getInstance()
                        : rejected(AmqpConnection.condition(ar.cause()), ar.cause().getMessage()));
                d.disposition(outcome);
                d.settle();
            }
            topUp();
            conn.pump();
        });
    }

    private Future<PublishResult> publish(Envelope env) {
        // retained first, so a failure cannot leave a delivered message that is not retained
        return env.retain() ? conn.broker.retain(env).compose(v -> conn.broker.publish(env)) : conn.broker.publish(env);
    }

    private void reject(Delivery d, boolean settled, String condition, String description) {
        AmqpServer.LOG.debug("amqp {} ({}): message rejected: {} {}", conn.id, conn.containerId, condition, description);
        if (!settled) {
            d.disposition(rejected(condition, description));
            d.settle();
        }
        topUp();
    }

    private static Rejected rejected(String condition, String description) {
        Rejected r = new Rejected();
        r.setError(new ErrorCondition(Symbol.valueOf(condition), description));
        return r;
    }

    /** Gives back the credit of messages the store has taken, in batches of at least half the window. */
    private void topUp() {
        if (gone) {
            return;
        }
        int want = credit - receiver.getCredit() - outstanding;
        if (want > 0 && (want >= Math.max(1, credit / 2) || receiver.getCredit() == 0 && outstanding == 0)) {
            receiver.flow(want);
        }
    }

    /** Ends the link with an error; the connection and its other links go on. */
    private void fail(String condition, String description) {
        AmqpServer.LOG.info("amqp {} ({}): closing link '{}': {} {}", conn.id, conn.containerId, receiver.getName(),
                condition, description);
        detached();
        receiver.setContext(null);
        conn.events.linkFailed();
        receiver.setCondition(new ErrorCondition(Symbol.valueOf(condition), description));
        receiver.close();
    }

    Future<Void> detached() {
        if (gone) {
            return Future.succeededFuture();
        }
        gone = true;
        if (temporaryNode != null) { // lifetime policy delete-on-close: the node goes with the link that made it
            conn.nodes.forget(temporaryNode);
            return conn.broker.unsubscribe(temporaryNode);
        }
        return Future.succeededFuture();
    }
}
