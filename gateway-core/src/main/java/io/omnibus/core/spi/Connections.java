package io.omnibus.core.spi;

import java.util.Collection;

/**
 * Where adapters register their client connections, for {@code /api/connections} and the
 * per-protocol connection gauge. Register when the connection is established, and close the
 * registration when the channel closes (not only on a polite disconnect).
 */
public interface Connections {
    Registration register(ConnectionInfo info);

    Collection<ConnectionInfo> all();

    /** Removes the connection from the registry; idempotent. */
    interface Registration extends AutoCloseable {
        /** Replaces the shown details (after authentication gives a client id or user). */
        void update(ConnectionInfo info);

        @Override
        void close();
    }
}
