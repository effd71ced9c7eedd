package io.omnibus.core.spi;

import io.vertx.core.Future;

import java.util.Collection;

/**
 * Where adapters register their client connections, for {@code /api/connections}, the operator's disconnect and the
 * per-protocol connection gauge. Register when the connection is established, and say it closed when the channel
 * closes (not only on a polite disconnect).
 */
public interface Connections {
    /**
     * Registers an open connection: it is counted, and listed until {@link #closed} (unless its adapter lists it,
     * {@link Connection#listedByAdapter}).
     */
    void opened(Connection connection);

    /**
     * Removes the connection from the registry; idempotent, but for a connection its adapter lists, which must be said
     * closed once.
     */
    void closed(Connection connection);

    /**
     * What an adapter that keeps its connections in a map of its own anyway (MQTT's, by client id) lists of them: a
     * live view, read from any thread. The registry keeps nothing per connection for those whose
     * {@link Connection#listedByAdapter} is true (a set's node and its slot: about 40 bytes per idle connection).
     * Returns what ends the listing (the adapter's stop).
     */
    Runnable listing(java.util.function.Supplier<? extends Collection<? extends Connection>> connections);

    Collection<ConnectionInfo> all();

    /**
     * A registered connection. The registry keeps the connection itself (or its adapter's listing does), nothing else:
     * what is shown is made when someone asks ({@link #info}), so an idle connection pays no memory for it.
     */
    interface Connection {
        /** The protocol's name, the same for the connection's whole life (the gauge's tag). */
        String protocol();

        /** Listed through its adapter's {@link #listing}, not kept by the registry (counted all the same). */
        default boolean listedByAdapter() {
            return false;
        }

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
