package io.omnibus.server;

import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One selector language for every protocol: MQTT 5 devices (user properties, text) and a Qpid JMS producer (typed
 * properties) publish to one topic; a Qpid JMS subscriber with a JMS selector and a RocketMQ consumer with the
 * same expression as a SQL92 filter get the same messages, and only those.
 */
@Timeout(120)
class SelectorsAcrossProtocolsIT {
    static {
        System.setProperty("rocketmq.client.logUseSlf4j", "true");
        System.setProperty("rocketmq.client.rebalance.waitInterval", "1000");
    }

    private static final String SELECTOR = "level >= 3 AND site LIKE 'north%'";

    @TempDir
    Path dir;
    private Gateway gateway;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        ShippedGateway.stop(gateway, closing);
    }

    @Test
    void aJmsSelectorAndARocketMqSql92FilterSelectTheSameMessagesOfMqttAndAmqpPublishers() throws Exception {
        gateway = ShippedGateway.start(dir.resolve("data"));
        Connection jms = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.port("amqp")).createConnection();
        closing.add(jms);
        jms.setClientID("dashboard");
        jms.start();
        Session session = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer selected = session.createDurableConsumer(session.createTopic("plant/line1"), "north", SELECTOR,
                false);

        List<String> rocket = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("north-alarms");
        consumer.setNamesrvAddr("127.0.0.1:" + gateway.port("openmessaging"));
        consumer.setInstanceName(UUID.randomUUID().toString());
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe("plant|line1", MessageSelector.bySql(SELECTOR));
        consumer.setMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            msgs.forEach(m -> rocket.add(new String(m.getBody(), StandardCharsets.UTF_8)));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        closing.add(consumer::shutdown);

        MqttClient device = ShippedGateway.mqtt(gateway, "line1-sensor", closing);
        Session producerSession = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer amqp = producerSession.createProducer(producerSession.createTopic("plant/line1"));
        mqtt(device, "mqtt-5-north", "5", "north-1");
        mqtt(device, "mqtt-2-north", "2", "north-1");
        mqtt(device, "mqtt-7-south", "7", "south");
        jms(producerSession, amqp, "jms-4-north", 4, "north-2");
        jms(producerSession, amqp, "jms-1-north", 1, "north-2");
        jms(producerSession, amqp, "jms-9-none", 9, null);
        mqtt(device, "mqtt-3-north-last", "3", "north-9");
        List<String> expected = List.of("mqtt-5-north", "jms-4-north", "mqtt-3-north-last");

        List<String> got = new ArrayList<>();
        for (int i = 0; i < expected.size(); i++) {
            Message m = selected.receive(20_000);
            assertThat(m).as("JMS message " + (i + 1)).isNotNull();
            got.add(((TextMessage) m).getText());
        }
        assertThat(got).containsExactlyElementsOf(expected);
        await().until(() -> gateway.broker().subscriptionViews().stream()
                .filter(v -> v.name().equals("amqp/dashboard/north"))
                .anyMatch(v -> v.backlog() == 0 && v.delivered() == expected.size()));

        await().atMost(Duration.ofSeconds(60)).until(() -> rocket.contains("mqtt-3-north-last"));
        assertThat(rocket).containsExactlyInAnyOrderElementsOf(expected);
    }

    private static void mqtt(MqttClient device, String text, String level, String site) throws Exception {
        MqttMessage m = new MqttMessage(text.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        MqttProperties props = new MqttProperties();
        props.setUserProperties(List.of(new UserProperty("level", level), new UserProperty("site", site)));
        props.setPayloadFormat(true);
        m.setProperties(props);
        device.publish("plant/line1", m);
    }

    private static void jms(Session s, MessageProducer p, String text, int level, String site) throws JMSException {
        Message m = s.createTextMessage(text);
        m.setIntProperty("level", level);
        if (site != null) {
            m.setStringProperty("site", site);
        }
        p.send(m);
    }
}
