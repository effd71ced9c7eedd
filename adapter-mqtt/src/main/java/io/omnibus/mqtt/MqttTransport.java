package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttMessage;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.net.SocketAddress;

/**
 * How MQTT packets reach a connection: decoded messages in, messages out, and the flow-control
 * handles. netty-codec-mqtt runs in a plain Netty channel's pipeline, behind the WebSocket handshake and frames on
 * a WebSocket port ({@link MqttWebSocket}). Everything happens on the connection's context.
 */
interface MqttTransport {
    /** What a transport tells its connection, on the connection's context: one object, no handler per event kind. */
    interface Events extends Handler<Object> {
        /** The socket closed. */
        void closed();

        /** The socket takes writes again. */
        void drained();

        /** The packets of one read were handed over ({@link #handle} each): what waited for more of them goes on. */
        void handledRead();
    }

    void start(Events events);

    /** The protocol level CONNECT asked for: MQTT 5's packets carry reason codes and properties. */
    void version5(boolean v5);

    /** Writes a message; the future completes when it was written (for closing after it). */
    Future<Void> write(MqttMessage message);

    /**
     * Writes a message nobody waits for: most of them (deliveries, acknowledgements), with nothing made per message.
     * A run of them may leave in one buffer: they are on their way once the run's flush comes.
     */
    void send(MqttMessage message);

    boolean writeQueueFull();

    void pause();

    void resume();

    void close();

    SocketAddress remoteAddress();

    /** The identity a verified client certificate gives (TLS listeners with client certificates), or null. */
    String peerIdentity();

    /**
     * Called by the keep-alive sweep of the connection's event loop, twice a second: what an idle connection can do
     * without until it reads again is let go. Nothing by default.
     */
    default void swept() {
    }
}
