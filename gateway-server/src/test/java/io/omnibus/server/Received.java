package io.omnibus.server;

import jakarta.jms.BytesMessage;
import jakarta.jms.JMSException;
import jakarta.jms.MessageConsumer;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttMessage;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Subscribers that keep each payload received, as text, for the durability tests' lost-and-duplicates counts. */
final class Received {
    private Received() {
    }

    /** A Paho (MQTT 3.1.1) callback adding every message's payload to {@code sink}. */
    static MqttCallback mqtt(List<String> sink) {
        return new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                sink.add(new String(message.getPayload(), StandardCharsets.UTF_8));
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        };
    }

    /** Adds the body of every bytes message {@code consumer} gets (MQTT payloads arrive as those) to {@code sink}. */
    static void jms(MessageConsumer consumer, List<String> sink) throws JMSException {
        consumer.setMessageListener(m -> {
            try {
                byte[] body = new byte[(int) ((BytesMessage) m).getBodyLength()];
                ((BytesMessage) m).readBytes(body);
                sink.add(new String(body, StandardCharsets.UTF_8));
            } catch (JMSException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
