package io.omnibus.core.spi.bridge;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.vertx.core.Future;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One bridge's connection to a remote broker. The bridge calls {@link #connect} once, then {@link #send} (outbound)
 * or {@link #receive} (inbound), then {@link #close}; after a failure it closes this remote and makes a new one. The
 * futures may complete on any thread.
 */
public interface Remote {
    /**
     * The translation table's column messages take on the remote ({@code amqp}, {@code mqtt3}, {@code mqtt5},
     * {@code kafka}), for the loss counters.
     */
    String protocol();

    /** The remote's name for an address, through its protocol's name mapping: the address's own by default (MQTT, AMQP). */
    default String remoteName(Address address) {
        return address.name();
    }

    /** The address a remote name stands for: the name itself by default. */
    default Address localAddress(String remoteName) {
        return Address.of(remoteName);
    }

    /**
     * Connects. {@code lost} hears, once, that an established connection failed or was closed by the remote (not
     * after {@link #close}).
     */
    Future<Void> connect(Consumer<Throwable> lost);

    /**
     * Sends one message to {@code remoteName}. Completes when the remote confirmed it as the settings say (AMQP
     * accepted, MQTT PUBACK / PUBCOMP, Kafka acks); fails with {@link RemoteRefusedException} when the remote refused
     * this message, with anything else when the connection failed. Called at most {@link RemoteSpec#inFlight} times
     * without completion.
     */
    Future<Void> send(String remoteName, Envelope envelope);

    /**
     * Takes messages from {@code source} (an AMQP address, an MQTT topic filter, Kafka topics) and hands each to
     * {@code store}, whose future completes when the gateway stored it (under the address of the remote name it came
     * from, or, when that name is no address here, {@link RemoteSpec#arrival}'s dead-letter address with
     * {@link RemoteSpec#deadLettered}'s reason; the bridge sets the local one). The remote is acknowledged (AMQP accepted, MQTT PUBACK, a Kafka
     * commit) only then, and at most {@link RemoteSpec#inFlight} messages are handed over and not yet stored. When
     * {@code store} fails, the remote is to send the message again. Completes when receiving started.
     */
    Future<Void> receive(String source, Function<Envelope, Future<Void>> store);

    /** Closes the connection; what is in flight fails. */
    Future<Void> close();

    /** Runs {@code task} on {@code context}: now when the caller is on it (the bridge calls from there), else queued. */
    static void on(io.vertx.core.Context context, Runnable task) {
        if (io.vertx.core.Vertx.currentContext() == context) {
            task.run();
        } else {
            context.runOnContext(v -> task.run());
        }
    }
}
