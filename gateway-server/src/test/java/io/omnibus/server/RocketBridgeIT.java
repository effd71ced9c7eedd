package io.omnibus.server;

import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;
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
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * RocketMQ with the other protocols through the shipped configuration, with clients we did not write: an MQTT
 * (Paho v5) publish consumed by a RocketMQ push consumer, and a RocketMQ message received by a Qpid JMS (AMQP)
 * consumer and a kafka-clients consumer, mapped as docs/openmessaging.md says; and one selector language for the
 * JMS and RocketMQ consumers of MQTT and AMQP publishers.
 */
@Timeout(120)
class RocketBridgeIT {
    static {
        System.setProperty("rocketmq.client.logUseSlf4j", "true");
        System.setProperty("rocketmq.client.rebalance.waitInterval", "1000");
    }

    private static final String SELECTOR = "level >= 3 AND site LIKE 'north%'";

    @TempDir
    Path dir;
    private Gateway gateway;
    private final List<AutoCloseable> closing = new ArrayList<>();

    private void start() throws Exception {
        gateway = ShippedGateway.start(dir.resolve("data"));
    }

    @AfterEach
    void stop() throws Exception {
        ShippedGateway.stop(gateway, closing);
    }

    private String nameServer() {
        return "127.0.0.1:" + gateway.port("openmessaging");
    }

    @Test
    void anMqttPublishIsConsumedByARocketMqConsumerUnderTheRocketMqNameOfItsTopic() throws Exception {
        start();
        List<MessageExt> got = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("dashboards");
        consumer.setNamesrvAddr(nameServer());
        consumer.setInstanceName(UUID.randomUUID().toString());
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe("sensors|kitchen|temp", "*"); // '/' is '|' in RocketMQ names
        consumer.setMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            got.addAll(msgs);
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        closing.add(consumer::shutdown);

        MqttClient device = ShippedGateway.mqtt(gateway, "dev-3", closing);
        MqttMessage reading = new MqttMessage("21.5".getBytes(StandardCharsets.UTF_8));
        reading.setQos(1);
        MqttProperties props = new MqttProperties();
        props.setUserProperties(List.of(new UserProperty("unit", "C")));
        props.setContentType("text/plain");
        reading.setProperties(props);
        device.publish("sensors/kitchen/temp", reading);

        await().atMost(Duration.ofSeconds(60)).until(() -> !got.isEmpty());
        MessageExt m = got.get(0);
        assertThat(new String(m.getBody(), StandardCharsets.UTF_8)).isEqualTo("21.5");
        assertThat(m.getTopic()).isEqualTo("sensors|kitchen|temp");
        assertThat(m.getUserProperty("unit")).isEqualTo("C");
        assertThat(m.getUserProperty("content-type")).isEqualTo("text/plain");
        assertThat(m.getBornTimestamp()).isPositive();
    }

    @Test
    void aRocketMqMessageReachesAnAmqpAndAKafkaConsumerWithItsKeysAndProperties() throws Exception {
        start();
        Connection jms = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.port("amqp")).createConnection();
        closing.add(jms);
        jms.start();
        Session session = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer service = session.createConsumer(session.createTopic("orders/eu"));
        // the adapter's own subscriptions ($rocketmq-...) aside, the JMS consumer's is there
        await().until(() -> gateway.broker().subscriptionViews().stream().filter(v -> !v.name().startsWith("$")).count() == 1);

        DefaultMQProducer producer = new DefaultMQProducer("shop");
        producer.setNamesrvAddr(nameServer());
        producer.setInstanceName(UUID.randomUUID().toString());
        producer.start();
        closing.add(producer::shutdown);
        org.apache.rocketmq.common.message.Message order = new org.apache.rocketmq.common.message.Message("orders|eu",
                "created", "order-17", "{\"total\":42}".getBytes(StandardCharsets.UTF_8));
        order.putUserProperty("channel", "web");
        producer.send(order);

        Message j = service.receive(20_000);
        assertThat(j).isNotNull();
        String body = j instanceof TextMessage t ? t.getText() : new String(j.getBody(byte[].class), StandardCharsets.UTF_8);
        assertThat(body).isEqualTo("{\"total\":42}");
        assertThat(j.getStringProperty("JMSXGroupID")).isEqualTo("order-17"); // keys -> key -> group-id
        assertThat(j.getStringProperty("channel")).isEqualTo("web");
        // the tag travels as the property rocketmq.tags, a name JMS cannot ask for ('.'): seen below through Kafka

        Properties p = new Properties();
        p.put("bootstrap.servers", "127.0.0.1:" + gateway.port("kafka"));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "analytics");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, String> analytics = new KafkaConsumer<>(p);
        closing.add(analytics);
        analytics.subscribe(List.of("orders.eu"));
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            analytics.poll(Duration.ofMillis(200)).forEach(records::add);
            return !records.isEmpty();
        });
        ConsumerRecord<String, String> r = records.get(0);
        assertThat(r.key()).isEqualTo("order-17");
        assertThat(r.value()).isEqualTo("{\"total\":42}");
        assertThat(header(r, "channel")).isEqualTo("web");
        assertThat(header(r, "rocketmq.tags")).isEqualTo("created");
    }

    private static String header(ConsumerRecord<String, String> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /**
     * One selector language for every protocol: MQTT 5 devices (user properties, text) and a Qpid JMS producer (typed
     * properties) publish to one topic; a Qpid JMS subscriber with a JMS selector and a RocketMQ consumer with the
     * same expression as a SQL92 filter get the same messages, and only those.
     */
    @Test
    void aJmsSelectorAndARocketMqSql92FilterSelectTheSameMessagesOfMqttAndAmqpPublishers() throws Exception {
        start();
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
