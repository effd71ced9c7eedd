package io.omnibus.core.spi;

import io.vertx.core.Future;

import java.util.Collection;

/**
 * Where adapters register their client connections, for {@code /api/connections}, the operator's disconnect and the
 * per-protocol connection gauge. Register when the connection is established, and say it closed when the channel
 * closes (not only on a polite disconnect).
 */
public interface Connections {
    /** Registers an open connection: it is counted and listed until {@link #closed}. */
    void opened(Connection connection);

    /** Removes the connection from the registry; idempotent. */
    void closed(Connection connection);

    Collection<ConnectionInfo> all();

    /**
     * A registered connection. The registry keeps the connection itself, nothing else: what is shown is made when
     * someone asks ({@link #info}), so an idle connection pays no memory for it.
     */
    interface Connection {
        /** The protocol's name, the same for the connection's whole life (the gauge's tag). */
        String protocol();

        /**
         * What is shown about the connection now (the client id and user once authentication gave them). Called from
         * any thread: it reads what the connection publishes for it (volatile fields or final ones).
         */
        ConnectionInfo info();

        /**
         * Closes the connection, with the protocol's own goodbye where it has one (MQTT 5 DISCONNECT 0x98, ...). Runs
         * the work on the connection's own context, so it may be called from anywhere.
         */
        void disconnect();

        /**
         * Messages in flight on the connection: delivered to the client and not yet acknowledged by it, plus what
         * it sent that is not yet acknowledged to it (requests not yet answered, for Kafka and RocketMQ). Counted on
         * the connection's own context, so it may be called from anywhere.
         */
        Future<Integer> inFlight();
    }
}
