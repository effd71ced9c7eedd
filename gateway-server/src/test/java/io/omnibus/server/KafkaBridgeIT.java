package io.omnibus.server;

import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.eclipse.paho.mqttv5.client.IMqttMessageListener;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
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
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka with the other protocols through the shipped configuration, with clients we did not write: an MQTT
 * (Paho v5) publish read by a kafka-clients consumer, a kafka-clients record received by an MQTT subscriber and
 * by a Qpid JMS consumer, key and headers mapped as the design's envelope table and docs/kafka.md say.
 */
@Timeout(120)
class KafkaBridgeIT {
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

    private Properties kafka() {
        Properties p = new Properties();
        p.put("bootstrap.servers", "127.0.0.1:" + gateway.port("kafka"));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return p;
    }

    private MqttClient mqtt(String id) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + gateway.port("mqtt"), id, new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        c.connect(o);
        closing.add(() -> {
            c.disconnect();
            c.close();
        });
        return c;
    }

    @Test
    void anMqttPublishIsReadByAKafkaConsumerUnderTheKafkaNameOfItsTopic() throws Exception {
        start();
        MqttClient device = mqtt("dev-9");
        MqttMessage reading = new MqttMessage("21.5".getBytes(StandardCharsets.UTF_8));
        reading.setQos(1);
        MqttProperties props = new MqttProperties();
        props.setUserProperties(List.of(new UserProperty("unit", "C")));
        props.setContentType("text/plain");
        props.setCorrelationData(new byte[]{1, 2, 3});
        reading.setProperties(props);
        device.publish("sensors/kitchen/temp", reading); // returns on PUBACK: stored

        Properties p = kafka();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "analytics");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p);
        closing.add(consumer);
        consumer.subscribe(List.of("sensors.kitchen.temp")); // '/' is '.' in Kafka names
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            return !got.isEmpty();
        });
        ConsumerRecord<String, String> r = got.get(0);
        assertThat(r.value()).isEqualTo("21.5");
        assertThat(r.key()).isNull(); // MQTT has no key
        assertThat(header(r, "unit")).isEqualTo("C");
        assertThat(header(r, "content-type")).isEqualTo("text/plain");
        assertThat(r.headers().lastHeader("correlation-id").value()).containsExactly(1, 2, 3);
    }

    private static String header(ConsumerRecord<String, String> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void aKafkaRecordReachesAnMqttSubscriberAndAJmsConsumerWithItsKeyAndHeaders() throws Exception {
        start();
        MqttClient sub = mqtt("dashboard");
        BlockingQueue<MqttMessage> mqttGot = new ArrayBlockingQueue<>(10);
        sub.subscribe(new MqttSubscription[]{new MqttSubscription("plant/+/alarms", 1)},
                new IMqttMessageListener[]{(t, m) -> mqttGot.add(m)});

        Connection jms = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.port("amqp")).createConnection();
        closing.add(jms);
        jms.start();
        Session session = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer service = session.createConsumer(session.createTopic("plant/line-4/alarms"));
        await().until(() -> gateway.broker().subscriptionViews().stream().filter(v -> !v.name().startsWith("$")).count() == 2);

        KafkaProducer<String, String> producer = new KafkaProducer<>(kafka());
        closing.add(producer);
        ProducerRecord<String, String> alarm = new ProducerRecord<>("plant.line-4.alarms", "press-7", "overheat");
        alarm.headers().add("severity", "high".getBytes(StandardCharsets.UTF_8));
        alarm.headers().add("blob", new byte[]{(byte) 0xc3, 0x28}); // not UTF-8
        producer.send(alarm).get(20, TimeUnit.SECONDS);

        MqttMessage m = mqttGot.poll(20, TimeUnit.SECONDS);
        assertThat(m).isNotNull();
        assertThat(new String(m.getPayload(), StandardCharsets.UTF_8)).isEqualTo("overheat");
        assertThat(m.getProperties().getUserProperties()).contains(new UserProperty("severity", "high"));
        // a header that is not UTF-8 cannot be an MQTT user property
        assertThat(m.getProperties().getUserProperties()).extracting(UserProperty::getKey).doesNotContain("blob");

        Message j = service.receive(20_000);
        assertThat(j).isNotNull();
        assertThat(j.getStringProperty("JMSXGroupID")).isEqualTo("press-7"); // key -> group-id
        assertThat(j.getStringProperty("severity")).isEqualTo("high");
        String body = j instanceof TextMessage t ? t.getText()
                : new String(j.getBody(byte[].class), StandardCharsets.UTF_8);
        assertThat(body).isEqualTo("overheat");
    }
}
