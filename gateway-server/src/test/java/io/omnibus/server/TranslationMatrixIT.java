package io.omnibus.server;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.NameMapping;
import io.omnibus.core.spi.TranslationTable;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.Destination;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageExt;
import org.eclipse.paho.mqttv5.client.IMqttMessageListener;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The translation matrix with real clients: for each of the 16 (from, to) pairs of MQTT 5 (Paho), AMQP (Qpid JMS),
 * Kafka (kafka-clients) and RocketMQ (rocketmq-client), a reference message carrying every field its client can
 * express is published on an address with {@code .}, {@code /}, a space and unicode in it, received by the other
 * client (its topic or address name written by its protocol's rule), and checked field by field against docs/translation.md's table ({@link TranslationTable}): a field the
 * table keeps or converts arrives with the value sent, a field it loses does not arrive.
 *
 * <p>Two fields the JMS API cannot reach are not checked on the AMQP side: a content type (JMS can neither set nor
 * read AMQP's {@code content-type}), and the address a message was published to (JMS gives the consumer's own
 * destination).
 */
@Timeout(300)
class TranslationMatrixIT {
    private static final NameMapping KAFKA_NAMES = new NameMapping("Kafka", '.', "-", 249);
    private static final NameMapping ROCKET_NAMES = new NameMapping("RocketMQ", '|', "-", 127);
    private static final String[] PROTOCOLS = {"mqtt5", "amqp", "kafka", "rocketmq"};
    /** The fields a client shows; each side reports those it can set (sent) or see (received). */
    private static final List<String> CHECKED = List.of("address", "message-id", "key", "payload", "payload-utf8",
            "headers", "content-type", "correlation", "reply-to", "created-at", "priority");

    @TempDir
    static Path dir;
    static Gateway gateway;
    static Connection jms;
    static final List<AutoCloseable> closing = new ArrayList<>();

    static {
        System.setProperty("rocketmq.client.logUseSlf4j", "true");
        System.setProperty("rocketmq.client.rebalance.waitInterval", "1000");
    }

    @BeforeAll
    static void start() throws Exception {
        gateway = ShippedGateway.start(dir.resolve("data"));
        jms = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.port("amqp")).createConnection();
        jms.start();
    }

    @AfterAll
    static void stop() throws Exception {
        closing.add(jms);
        ShippedGateway.stop(gateway, closing);
    }

    static Stream<Arguments> pairs() {
        List<Arguments> out = new ArrayList<>();
        for (String from : PROTOCOLS) {
            for (String to : PROTOCOLS) {
                out.add(Arguments.of(from, to));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void aReferenceMessageArrivesAsTheTableSays(String from, String to) throws Exception {
        // a level separator, dots, a space, unicode, a percent sign and an underscore escape lookalike in one name
        Address address = Address.of("matrix/" + from + "." + to + "/room 4/température/100%/a_x41");
        Receiver receiver = receiver(to, address);
        Map<String, Object> sent = send(from, address);
        Map<String, Object> got = receiver.next();
        assertThat(got).as("a message reached the %s consumer", to).isNotNull();
        TranslationTable table = TranslationTable.get();
        for (String field : CHECKED) {
            if (!sent.containsKey(field) || !got.containsKey(field)) {
                continue; // the sending client cannot set it, or the receiving client cannot see it (no key at all)
            }
            TranslationTable.Field f = table.field(field);
            String result = TranslationTable.result(f.cell(from), f.cell(to));
            switch (result) {
                case "kept", "converted", "kept when text, else lost" -> assertThat(got.get(field))
                        .as("%s from %s to %s is %s (docs/translation.md)", field, from, to, result).isEqualTo(sent.get(field));
                case "lost" -> assertThat(got.get(field)).as("%s from %s to %s is lost", field, from, to).isNull();
                default -> {
                    // n/a: the sender's protocol has no such field
                }
            }
        }
    }

    // ---- senders: the reference message of each protocol, and what it carries by the table's field names ----------

    private static Map<String, Object> reference() {
        Map<String, Object> sent = new LinkedHashMap<>();
        sent.put("payload", "{\"temp\": 21.5, \"unit\": \"°C\"}");
        sent.put("headers", Map.of("site", "plant 4", "firmware", "2.1.7"));
        return sent;
    }

    private static Map<String, Object> send(String from, Address address) throws Exception {
        Map<String, Object> sent = reference();
        sent.put("address", address.name());
        String payload = (String) sent.get("payload");
        switch (from) {
            case "mqtt5" -> {
                MqttClient c = mqtt();
                MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
                m.setQos(1);
                MqttProperties p = new MqttProperties();
                p.setPayloadFormat(true);
                p.setContentType("application/json");
                p.setCorrelationData("corr-1".getBytes(StandardCharsets.UTF_8));
                p.setResponseTopic("replies/x");
                p.setUserProperties(List.of(new UserProperty("site", "plant 4"), new UserProperty("firmware", "2.1.7")));
                m.setProperties(p);
                c.publish(address.name(), m);
                sent.put("payload-utf8", true);
                sent.put("content-type", "application/json");
                sent.put("correlation", "corr-1");
                sent.put("reply-to", "replies/x");
            }
            case "amqp" -> {
                Session s = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer producer = s.createProducer(s.createTopic(address.name()));
                TextMessage m = s.createTextMessage(payload);
                m.setStringProperty("site", "plant 4");
                m.setStringProperty("firmware", "2.1.7");
                m.setStringProperty("JMSXGroupID", "key-1");
                m.setJMSCorrelationID("corr-1");
                m.setJMSReplyTo(s.createTopic("replies/x"));
                producer.send(m, jakarta.jms.DeliveryMode.PERSISTENT, 7, 0);
                sent.put("message-id", stripId(m.getJMSMessageID()));
                sent.put("created-at", m.getJMSTimestamp());
                sent.put("priority", 7);
                sent.put("key", "key-1");
                sent.put("payload-utf8", true);
                sent.put("correlation", "corr-1");
                sent.put("reply-to", "replies/x");
                s.close();
            }
            case "kafka" -> {
                Properties p = new Properties();
                p.put("bootstrap.servers", "127.0.0.1:" + gateway.port("kafka"));
                p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
                p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(KAFKA_NAMES.toProtocol(address), null,
                            1_700_000_000_000L, "key-1".getBytes(StandardCharsets.UTF_8), payload.getBytes(StandardCharsets.UTF_8));
                    r.headers().add("site", "plant 4".getBytes(StandardCharsets.UTF_8));
                    r.headers().add("firmware", "2.1.7".getBytes(StandardCharsets.UTF_8));
                    r.headers().add("content-type", "application/json".getBytes(StandardCharsets.UTF_8));
                    r.headers().add("correlation-id", "corr-1".getBytes(StandardCharsets.UTF_8));
                    r.headers().add("reply-to", "replies/x".getBytes(StandardCharsets.UTF_8));
                    producer.send(r).get(30, TimeUnit.SECONDS);
                }
                sent.put("key", "key-1");
                sent.put("content-type", "application/json");
                sent.put("correlation", "corr-1");
                sent.put("reply-to", "replies/x");
                sent.put("created-at", 1_700_000_000_000L);
            }
            default -> {
                DefaultMQProducer producer = new DefaultMQProducer("matrix-" + UUID.randomUUID().toString().substring(0, 8));
                producer.setNamesrvAddr("127.0.0.1:" + gateway.port("openmessaging"));
                producer.setInstanceName(UUID.randomUUID().toString());
                producer.start();
                try {
                    org.apache.rocketmq.common.message.Message m = new org.apache.rocketmq.common.message.Message(
                            ROCKET_NAMES.toProtocol(address), "reading", "key-1", payload.getBytes(StandardCharsets.UTF_8));
                    m.putUserProperty("site", "plant 4");
                    m.putUserProperty("firmware", "2.1.7");
                    m.putUserProperty("content-type", "application/json");
                    m.putUserProperty("reply-to", "replies/x");
                    MessageAccessor.putProperty(m, "CORRELATION_ID", "corr-1");
                    sent.put("message-id", producer.send(m).getMsgId());
                } finally {
                    producer.shutdown();
                }
                sent.put("key", "key-1");
                sent.put("content-type", "application/json");
                sent.put("correlation", "corr-1");
                sent.put("reply-to", "replies/x");
            }
        }
        return sent;
    }

    // ---- receivers: what arrived, by the table's field names (each protocol's converted places read back) --------

    /** A consumer ready before the message is sent. */
    interface Receiver {
        Map<String, Object> next() throws Exception;
    }

    private static Receiver receiver(String to, Address address) throws Exception {
        BlockingQueue<Map<String, Object>> got = new ArrayBlockingQueue<>(10);
        switch (to) {
            case "mqtt5" -> {
                MqttClient c = mqtt();
                c.subscribe(new MqttSubscription[] {new MqttSubscription(address.name(), 1)},
                        new IMqttMessageListener[] {(t, m) -> got.add(fromMqtt(t, m))});
            }
            case "amqp" -> {
                Session s = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageConsumer consumer = s.createConsumer(s.createTopic(address.name()));
                consumer.setMessageListener(m -> got.add(fromJms(m)));
                closing.add(s::close);
            }
            case "kafka" -> {
                Properties p = new Properties();
                p.put("bootstrap.servers", "127.0.0.1:" + gateway.port("kafka"));
                p.put(ConsumerConfig.GROUP_ID_CONFIG, "matrix-" + UUID.randomUUID());
                p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
                p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
                p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
                KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
                consumer.subscribe(List.of(KAFKA_NAMES.toProtocol(address)));
                return () -> {
                    long deadline = System.currentTimeMillis() + 60_000;
                    try {
                        while (System.currentTimeMillis() < deadline) {
                            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                                return fromKafka(r);
                            }
                        }
                        return null;
                    } finally {
                        consumer.close();
                    }
                };
            }
            default -> {
                DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("matrix-" + UUID.randomUUID().toString().substring(0, 8));
                consumer.setNamesrvAddr("127.0.0.1:" + gateway.port("openmessaging"));
                consumer.setInstanceName(UUID.randomUUID().toString());
                consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
                consumer.subscribe(ROCKET_NAMES.toProtocol(address), "*");
                consumer.setMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                    msgs.forEach(m -> got.add(fromRocket(m)));
                    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                });
                consumer.start();
                closing.add(consumer::shutdown);
            }
        }
        return () -> got.poll(60, TimeUnit.SECONDS);
    }

    private static MqttClient mqtt() throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + gateway.port("mqtt"), "matrix-" + UUID.randomUUID(),
                new MemoryPersistence());
        c.connect(new MqttConnectionOptions());
        closing.add(() -> {
            c.disconnect();
            c.close();
        });
        return c;
    }

    private static Map<String, Object> fromMqtt(String topic, MqttMessage m) {
        Map<String, Object> f = new LinkedHashMap<>();
        MqttProperties p = m.getProperties();
        f.put("address", topic);
        f.put("payload", new String(m.getPayload(), StandardCharsets.UTF_8));
        f.put("payload-utf8", p.getPayloadFormat() ? Boolean.TRUE : null);
        Map<String, String> headers = new LinkedHashMap<>();
        p.getUserProperties().forEach(u -> headers.put(u.getKey(), u.getValue()));
        f.put("headers", userHeaders(headers));
        f.put("content-type", p.getContentType());
        f.put("correlation", p.getCorrelationData() == null ? null : new String(p.getCorrelationData(), StandardCharsets.UTF_8));
        f.put("reply-to", p.getResponseTopic());
        return f;
    }

    private static Map<String, Object> fromJms(Message m) {
        try {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("message-id", m.getJMSMessageID() == null ? null : stripId(m.getJMSMessageID()));
            f.put("key", m.getStringProperty("JMSXGroupID"));
            if (m instanceof TextMessage t) {
                f.put("payload", t.getText());
                f.put("payload-utf8", true);
            } else {
                f.put("payload-utf8", null);
                BytesMessage b = (BytesMessage) m;
                byte[] bytes = new byte[(int) b.getBodyLength()];
                b.readBytes(bytes);
                f.put("payload", new String(bytes, StandardCharsets.UTF_8));
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (Object name : java.util.Collections.list(m.getPropertyNames())) {
                String n = (String) name;
                if (!n.startsWith("JMS")) {
                    headers.put(n, String.valueOf(m.getObjectProperty(n)));
                }
            }
            f.put("headers", userHeaders(headers));
            f.put("correlation", m.getJMSCorrelationID());
            f.put("created-at", m.getJMSTimestamp() == 0 ? null : m.getJMSTimestamp());
            f.put("priority", m.getJMSPriority());
            Destination replyTo = m.getJMSReplyTo();
            f.put("reply-to", replyTo == null ? null : replyTo instanceof Topic t ? t.getTopicName()
                    : ((jakarta.jms.Queue) replyTo).getQueueName());
            return f;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> fromKafka(ConsumerRecord<byte[], byte[]> r) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("address", KAFKA_NAMES.toAddress(r.topic()).name());
        f.put("key", r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8));
        f.put("payload", new String(r.value(), StandardCharsets.UTF_8));
        f.put("created-at", r.timestamp());
        Map<String, String> headers = new LinkedHashMap<>();
        for (org.apache.kafka.common.header.Header h : r.headers()) {
            headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
        }
        f.put("content-type", headers.remove("content-type"));
        f.put("correlation", headers.remove("correlation-id"));
        f.put("reply-to", headers.remove("reply-to"));
        f.put("headers", userHeaders(headers));
        return f;
    }

    private static Map<String, Object> fromRocket(MessageExt m) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("address", ROCKET_NAMES.toAddress(m.getTopic()).name());
        f.put("message-id", stripId(m.getMsgId()));
        f.put("key", m.getKeys());
        f.put("payload", new String(m.getBody(), StandardCharsets.UTF_8));
        f.put("created-at", m.getBornTimestamp());
        Map<String, String> headers = new LinkedHashMap<>();
        m.getProperties().forEach(headers::put);
        f.put("content-type", headers.remove("content-type"));
        f.put("reply-to", headers.remove("reply-to"));
        f.put("correlation", headers.remove("CORRELATION_ID"));
        headers.keySet().removeIf(k -> k.matches("[A-Z_]+")); // RocketMQ's own system properties
        f.put("headers", userHeaders(headers));
        return f;
    }

    /** The user's headers: without the protocols' own properties and the gateway's namespaced bookkeeping. */
    private static Map<String, String> userHeaders(Map<String, String> all) {
        Map<String, String> out = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            boolean system = k.startsWith("mqtt.") || k.startsWith("amqp.") || k.startsWith("kafka.")
                    || k.startsWith("rocketmq.") || k.startsWith("x-opt-");
            if (!system) {
                out.put(k, v);
            }
        });
        return out.isEmpty() ? null : out;
    }

    /** A message id without JMS's decoration ({@code ID:}, and Qpid JMS's {@code AMQP_NO_PREFIX:} for ids without it). */
    private static String stripId(String id) {
        String s = id.startsWith("ID:") ? id.substring(3) : id;
        return s.startsWith("AMQP_NO_PREFIX:") ? s.substring("AMQP_NO_PREFIX:".length()) : s;
    }
}
