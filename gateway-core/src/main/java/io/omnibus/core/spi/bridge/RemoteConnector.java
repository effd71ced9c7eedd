package io.omnibus.core.spi.bridge;

import io.omnibus.core.spi.ConfigException;

import java.util.List;
import java.util.Set;

/**
 * A protocol's client side, for bridges: list the class in
 * {@code META-INF/services/io.omnibus.core.spi.bridge.RemoteConnector}.
 */
public interface RemoteConnector {
    /** The URL schemes it reaches ({@code amqp}, {@code amqps}; {@code mqtt}, {@code mqtts}, {@code ws}, {@code wss}; {@code kafka}). */
    List<String> schemes();

    /** The keys of a bridge's {@code remote} section it reads besides those of {@link RemoteSpec}. */
    Set<String> keys();

    /**
     * Makes a bridge's remote, not connected yet.
     *
     * @throws ConfigException naming the key when the settings are wrong
     */
    Remote create(io.vertx.core.Vertx vertx, RemoteSpec spec);

    /**
     * Checks the settings as {@link #create} would, without making anything (the gateway checks the whole
     * configuration before it starts).
     *
     * @throws ConfigException naming the key when the settings are wrong
     */
    void check(RemoteSpec spec);
}
