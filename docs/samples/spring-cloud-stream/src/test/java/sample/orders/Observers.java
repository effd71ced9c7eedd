package sample.orders;

import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.apache.qpid.jms.message.JmsMessage;
import org.apache.qpid.jms.provider.amqp.message.AmqpJmsMessageFacade;
import org.eclipse.paho.mqttv5.client.IMqttMessageListener;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The orders as the other protocols see them: a Qpid JMS consumer of the queue {@code orders} (AMQP 1.0) and a Paho
 * MQTT 5 subscriber of the topic {@code orders}.
 */
final class Observers implements AutoCloseable {
    /** One order as a JMS consumer got it. */
    record JmsOrder(String body, String contentType, String groupId, Map<String, Object> properties) {
    }

    /** One order as an MQTT subscriber got it. */
    record MqttOrder(String body, String contentType, Map<String, String> userProperties) {
    }

    final List<JmsOrder> jms = new CopyOnWriteArrayList<>();
    final List<MqttOrder> mqtt = new CopyOnWriteArrayList<>();
    private final Connection connection;
    private final MqttClient subscriber;

    Observers(Gateway gateway) throws Exception {
        connection = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.amqp).createConnection();
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = session.createConsumer(session.createQueue("orders"));
        consumer.setMessageListener(m -> {
            try {
                Map<String, Object> props = new HashMap<>();
                for (var names = m.getPropertyNames(); names.hasMoreElements(); ) {
                    String name = (String) names.nextElement();
                    props.put(name, m.getObjectProperty(name));
                }
                // JMS has no content type: Qpid JMS keeps the AMQP property in its message facade
                Object contentType = ((AmqpJmsMessageFacade) ((JmsMessage) m).getFacade()).getContentType();
                jms.add(new JmsOrder(m instanceof TextMessage t ? t.getText()
                        : new String(m.getBody(byte[].class), StandardCharsets.UTF_8),
                        contentType == null ? null : contentType.toString(), m.getStringProperty("JMSXGroupID"), props));
            } catch (JMSException e) {
                throw new IllegalStateException(e);
            }
        });
        connection.start();

        subscriber = new MqttClient("tcp://127.0.0.1:" + gateway.mqtt, "orders-dashboard", new MemoryPersistence());
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        subscriber.connect(options);
        // Paho v5's subscribe(String, int, listener) overload recurses into itself: the array form
        subscriber.subscribe(new MqttSubscription[] {new MqttSubscription("orders", 1)},
                new IMqttMessageListener[] {(topic, m) -> {
                    Map<String, String> user = new HashMap<>();
                    for (UserProperty p : m.getProperties().getUserProperties()) {
                        user.put(p.getKey(), p.getValue());
                    }
                    mqtt.add(new MqttOrder(new String(m.getPayload(), StandardCharsets.UTF_8),
                            m.getProperties().getContentType(), user));
                }});
    }

    /** An order from an MQTT 5 client: JSON with its content type, as a device or a dashboard would send it. */
    void publishOverMqtt(String json) throws Exception {
        org.eclipse.paho.mqttv5.common.MqttMessage m = new org.eclipse.paho.mqttv5.common.MqttMessage(
                json.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        org.eclipse.paho.mqttv5.common.packet.MqttProperties props = new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
        props.setContentType("application/json");
        props.setPayloadFormat(true);
        m.setProperties(props);
        subscriber.publish("orders", m);
    }

    @Override
    public void close() throws JMSException, org.eclipse.paho.mqttv5.common.MqttException {
        if (subscriber.isConnected()) {
            subscriber.disconnectForcibly(0, 1000);
        }
        subscriber.close();
        connection.close();
    }
}
