package io.omnibus.amqp;

import io.omnibus.core.spi.Transaction;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transaction.Coordinator;
import org.apache.qpid.proton.amqp.transaction.Declare;
import org.apache.qpid.proton.amqp.transaction.Declared;
import org.apache.qpid.proton.amqp.transaction.Discharge;
import org.apache.qpid.proton.amqp.transaction.TxnCapability;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.amqp.transport.ReceiverSettleMode;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.message.Message;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The transaction coordinator [AMQP 4.2]: a link whose target is {@code coordinator}, on which the client sends
 * {@code declare} (answered {@code declared} with a new txn-id) and {@code discharge} (commit, or rollback with
 * {@code fail}; answered {@code accepted}, or {@code rejected} with {@code amqp:transaction:rollback} when the commit
 * failed and {@code amqp:transaction:unknown-id} for an id it does not know). Local transactions only: a declare
 * with a global id is rejected with {@code amqp:not-implemented}. The transactions are the core's
 * ({@link Transaction}); they belong to the connection (any of its sessions may use them) and those this link
 * declared are rolled back when it goes.
 */
final class CoordinatorLink {
    static final Symbol UNKNOWN_ID = Symbol.valueOf("amqp:transaction:unknown-id");
    static final Symbol ROLLBACK = Symbol.valueOf("amqp:transaction:rollback");
    private static final int CREDIT = 100;

    private final AmqpConnection conn;
    private final Receiver receiver;
    /** The transactions this link declared and that are not discharged yet. */
    private final Set<Binary> declared = new LinkedHashSet<>();
    private boolean gone;

    CoordinatorLink(AmqpConnection conn, Receiver receiver) {
        this.conn = conn;
        this.receiver = receiver;
    }

    void attach() {
        Coordinator remote = (Coordinator) receiver.getRemoteTarget();
        Coordinator local = new Coordinator();
        local.setCapabilities(TxnCapability.LOCAL_TXN, TxnCapability.MULTI_TXNS_PER_SSN, TxnCapability.MULTI_SSNS_PER_TXN);
        if (remote.getCapabilities() != null && Termini.has(remote.getCapabilities(), TxnCapability.DISTRIBUTED_TXN)
                && !Termini.has(remote.getCapabilities(), TxnCapability.LOCAL_TXN)) {
            conn.events.refuse(receiver, "amqp:not-implemented", "only local transactions are supported");
            return;
        }
        receiver.setTarget(local);
        receiver.setSource(receiver.getRemoteSource());
        receiver.setSenderSettleMode(receiver.getRemoteSenderSettleMode());
        receiver.setReceiverSettleMode(ReceiverSettleMode.FIRST);
        receiver.open();
        receiver.flow(CREDIT);
    }

    void onTransfer(Delivery d) {
        if (gone || d != receiver.current() || d.isPartial()) {
            return;
        }
        byte[] bytes = new byte[d.available()];
        receiver.recv(bytes, 0, bytes.length);
        receiver.advance();
        Object body;
        try {
            Message m = Message.Factory.create();
            m.decode(bytes, 0, bytes.length);
            body = m.getBody() instanceof AmqpValue v ? v.getValue() : null;
        } catch (RuntimeException e) {
            answer(d, rejected("amqp:decode-error", "the control message could not be decoded: " + e.getMessage()));
            return;
        }
        if (body instanceof Declare declare) {
            declare(d, declare);
        } else if (body instanceof Discharge discharge) {
            discharge(d, discharge);
        } else {
            answer(d, rejected("amqp:not-implemented", "a coordinator takes declare and discharge only"));
        }
    }

    private void declare(Delivery d, Declare declare) {
        if (declare.getGlobalId() != null) {
            answer(d, rejected("amqp:not-implemented", "distributed transactions are not supported"));
            return;
        }
        int max = conn.server.config.maxTransactions();
        if (conn.transactions.count() >= max) {
            answer(d, rejected("amqp:resource-limit-exceeded", "amqp.max-transactions (" + max
                    + ") transactions are open on this connection"));
            return;
        }
        Binary id = conn.transactions.declare();
        declared.add(id);
        Declared outcome = new Declared();
        outcome.setTxnId(id);
        answer(d, outcome);
    }

    private void discharge(Delivery d, Discharge discharge) {
        Binary id = discharge.getTxnId();
        Transaction tx = id == null ? null : conn.transactions.discharge(id);
        if (tx == null) {
            answer(d, rejected(UNKNOWN_ID.toString(), "no transaction "
                    + (id == null ? "(none given)" : new String(id.getArray(), id.getArrayOffset(), id.getLength(),
                    StandardCharsets.UTF_8)) + " is open on this connection"));
            return;
        }
        declared.remove(id);
        boolean fail = Boolean.TRUE.equals(discharge.getFail());
        (fail ? tx.rollback() : tx.commit()).onComplete(ar -> {
            if (ar.succeeded()) {
                answer(d, Accepted.getInstance());
            } else {
                AmqpServer.LOG.info("amqp {} ({}): a transaction's commit failed; rolled back: {}", conn.id,
                        conn.containerId, ar.cause().getMessage());
                answer(d, rejected(ROLLBACK.toString(), "the commit failed and the transaction was rolled back: "
                        + ar.cause().getMessage()));
            }
            conn.pump();
        });
    }

    private void answer(Delivery d, org.apache.qpid.proton.amqp.transport.DeliveryState outcome) {
        if (!d.isSettled()) {
            d.disposition(outcome);
            d.settle();
        }
        if (!gone) {
            receiver.flow(1);
        }
    }

    private static Rejected rejected(String condition, String description) {
        Rejected r = new Rejected();
        r.setError(new ErrorCondition(Symbol.valueOf(condition), description));
        return r;
    }

    /** The link went: the transactions it declared and did not discharge are rolled back [AMQP 4.3]. */
    void detached() {
        if (gone) {
            return;
        }
        gone = true;
        for (Binary id : declared) {
            Transaction tx = conn.transactions.discharge(id);
            if (tx != null) {
                tx.rollback();
            }
        }
        declared.clear();
    }
}
