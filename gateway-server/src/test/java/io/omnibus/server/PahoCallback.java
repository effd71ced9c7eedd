package io.omnibus.server;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.util.function.BiConsumer;
import java.util.function.Consumer;

/** Eclipse Paho's MQTT 5 callback doing nothing unless told: tests override what they watch. */
interface PahoCallback extends MqttCallback {
    /** Calls {@code handler} with each message's topic and payload. */
    static PahoCallback onMessage(BiConsumer<String, MqttMessage> handler) {
        return new PahoCallback() {
            @Override
            public void messageArrived(String topic, MqttMessage message) {
                handler.accept(topic, message);
            }
        };
    }

    /** Calls {@code handler} with the server's DISCONNECT (or the connection's loss). */
    static PahoCallback onDisconnect(Consumer<MqttDisconnectResponse> handler) {
        return new PahoCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                handler.accept(response);
            }
        };
    }

    @Override
    default void disconnected(MqttDisconnectResponse response) {
    }

    @Override
    default void mqttErrorOccurred(MqttException exception) {
    }

    @Override
    default void messageArrived(String topic, MqttMessage message) throws Exception {
    }

    @Override
    default void deliveryComplete(IMqttToken token) {
    }

    @Override
    default void connectComplete(boolean reconnect, String serverURI) {
    }

    @Override
    default void authPacketArrived(int reasonCode, MqttProperties properties) {
    }
}
