package io.omnibus.amqp;

import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.Transaction;
import org.apache.qpid.proton.amqp.Binary;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The transactions declared on one connection (through its coordinator link) and not yet discharged, by txn-id: any
 * of the connection's links may send or settle under them. Confined to the connection's context.
 */
final class AmqpTransactions {
    private final Broker broker;
    private final Map<Binary, Transaction> open = new LinkedHashMap<>();
    private long ids;

    AmqpTransactions(Broker broker) {
        this.broker = broker;
    }

    /** A new transaction of the core, under a txn-id unique on this connection. */
    Binary declare() {
        Binary id = new Binary(("tx-" + (++ids)).getBytes(StandardCharsets.UTF_8));
        open.put(id, broker.begin());
        return id;
    }

    /** The open transaction of that id, or null. */
    Transaction get(Binary id) {
        return id == null ? null : open.get(id);
    }

    /** Takes the transaction of that id out of the open ones (to commit or roll it back); null if unknown. */
    Transaction discharge(Binary id) {
        return open.remove(id);
    }

    int count() {
        return open.size();
    }

    /** The connection closed: what its open transactions acknowledged comes back as a failed attempt. */
    void rollBackAll() {
        List.copyOf(open.values()).forEach(Transaction::rollback);
        open.clear();
    }
}
