package io.omnibus.server;

import io.omnibus.oms.OmsUrl;
import io.openmessaging.api.Action;
import io.openmessaging.api.Consumer;
import io.openmessaging.api.Message;
import io.openmessaging.api.MessagingAccessPoint;
import io.openmessaging.api.PullConsumer;
import io.openmessaging.api.TopicPartition;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * OpenMessaging applications (the omnibus driver) with the other protocols on the shipped configuration: an MQTT
 * publish consumed by an OMS push consumer, a Kafka record read by an OMS pull consumer, and the order-processing
 * sample of docs/ (OMS producer, AMQP service, Kafka analytics) run as its users run it.
 */
@Timeout(120)
class OmsBridgeIT {
    @TempDir
    Path dir;
    private Gateway gateway;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        ShippedGateway.stop(gateway, closing);
    }

    private MessagingAccessPoint oms() {
        return OmsUrl.accessPoint("oms:omnibus://127.0.0.1:" + gateway.port("openmessaging"));
    }

    private static Properties group(String group) {
        Properties p = new Properties();
        p.setProperty("GROUP_ID", group);
        p.setProperty("omnibus.consumeFrom", "first");
        return p;
    }

    @Test
    void anMqttPublishReachesAnOmsPushConsumer() throws Exception {
        gateway = ShippedGateway.start(dir.resolve("data"));
        List<Message> got = new CopyOnWriteArrayList<>();
        Consumer consumer = oms().createConsumer(group("dashboards"));
        consumer.subscribe("sensors|hall", "*", (m, ctx) -> {
            got.add(m);
            return Action.CommitMessage;
        });
        consumer.start();
        closing.add(consumer::shutdown);

        MqttClient device = ShippedGateway.mqtt(gateway, "dev-oms", closing);
        MqttMessage reading = new MqttMessage("19.0".getBytes(StandardCharsets.UTF_8));
        reading.setQos(1);
        MqttProperties props = new MqttProperties();
        props.setUserProperties(List.of(new UserProperty("unit", "C")));
        reading.setProperties(props);
        device.publish("sensors/hall", reading);

        await().atMost(Duration.ofSeconds(60)).until(() -> !got.isEmpty());
        assertThat(new String(got.get(0).getBody(), StandardCharsets.UTF_8)).isEqualTo("19.0");
        assertThat(got.get(0).getTopic()).isEqualTo("sensors|hall");
        assertThat(got.get(0).getUserProperties("unit")).isEqualTo("C");
    }

    @Test
    void aKafkaRecordIsReadByAnOmsPullConsumerWithItsKey() throws Exception {
        gateway = ShippedGateway.start(dir.resolve("data"));
        Properties p = new Properties();
        p.put("bootstrap.servers", "127.0.0.1:" + gateway.port("kafka"));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        KafkaProducer<String, String> producer = new KafkaProducer<>(p);
        closing.add(producer);
        ProducerRecord<String, String> record = new ProducerRecord<>("billing.invoices", "inv-7", "due");
        record.headers().add("currency", "EUR".getBytes(StandardCharsets.UTF_8));
        producer.send(record).get(20, TimeUnit.SECONDS);

        PullConsumer consumer = oms().createPullConsumer(group("auditors"));
        consumer.start();
        closing.add(consumer::shutdown);
        consumer.subscribe("billing|invoices", "*");
        List<Message> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            got.addAll(consumer.poll(500));
            return !got.isEmpty();
        });
        Message m = got.get(0);
        assertThat(new String(m.getBody(), StandardCharsets.UTF_8)).isEqualTo("due");
        assertThat(m.getKey()).isEqualTo("inv-7");
        assertThat(m.getUserProperties("currency")).isEqualTo("EUR");
        consumer.commitSync();
        assertThat(consumer.committed(new TopicPartition("billing|invoices", "0"))).isEqualTo(1L);
    }

    @Test
    void theOrderProcessingSampleRunsThroughOmsAmqpAndKafka() throws Exception {
        gateway = ShippedGateway.start(dir.resolve("data"));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        boolean ok = sample.OrderProcessing.run("127.0.0.1:" + gateway.port("openmessaging"),
                "127.0.0.1:" + gateway.port("amqp"), "127.0.0.1:" + gateway.port("kafka"), 12,
                new PrintStream(printed, true, StandardCharsets.UTF_8));
        String out = printed.toString(StandardCharsets.UTF_8);
        assertThat(ok).as(out).isTrue();
        assertThat(out).contains("summary: 12 of 12 orders fulfilled over AMQP, 12 analysed over Kafka, revenue 780")
                .contains("analytics: order-12 -> {\"order\":12");
    }
}
