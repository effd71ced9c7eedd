package io.omnibus.core.spi;

import io.vertx.core.Future;

import java.util.Collection;

/**
 * Where adapters register their client connections, for {@code /api/connections}, the operator's disconnect and the
 * per-protocol connection gauge. Register when the connection is established, and close the registration when the
 * channel closes (not only on a polite disconnect).
 */
public interface Connections {
    Registration register(ConnectionInfo info, Control control);

    Collection<ConnectionInfo> all();

    /**
     * What an operator may do with a connection. Both run on the connection's own context (the adapter hands the work
     * there), so they may be called from anywhere.
     */
    interface Control {
        /** Closes the connection, with the protocol's own goodbye where it has one (MQTT 5 DISCONNECT 0x98, ...). */
        void disconnect();

        /**
         * Messages in flight on the connection: delivered to the client and not yet acknowledged by it, plus what
         * it sent that is not yet acknowledged to it (requests not yet answered, for Kafka and RocketMQ).
         */
        Future<Integer> inFlight();
    }

    /** Removes the connection from the registry; idempotent. */
    interface Registration extends AutoCloseable {
        /** Replaces the shown details (after authentication gives a client id or user). */
        void update(ConnectionInfo info);

        @Override
        void close();
    }
}
