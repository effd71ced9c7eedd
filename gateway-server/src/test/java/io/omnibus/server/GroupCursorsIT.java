package io.omnibus.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka and RocketMQ consumer groups are cursors of the core: their committed positions show in
 * {@code /api/subscriptions} with their lag, survive a restart, and the group resumes there. Real clients:
 * kafka-clients and rocketmq-client.
 */
@Timeout(180)
class GroupCursorsIT {
    static {
        System.setProperty("rocketmq.client.logUseSlf4j", "true");
        System.setProperty("rocketmq.client.rebalance.waitInterval", "1000");
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    private Gateway gateway;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        ShippedGateway.stop(gateway, closing);
    }

    private JsonObject subscription(String name) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort()
                + "/api/subscriptions")).build(), HttpResponse.BodyHandlers.ofString()).body();
        for (Object o : new JsonArray(body)) {
            if (((JsonObject) o).getString("name").equals(name)) {
                return (JsonObject) o;
            }
        }
        return null;
    }

    private long backlog(String name) throws Exception {
        JsonObject s = subscription(name);
        return s == null ? -1 : s.getLong("backlog");
    }

    private KafkaConsumer<String, String> kafkaConsumer(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + gateway.port("kafka"));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    @Test
    void aKafkaGroupsCommittedOffsetIsACursorWithItsLagAndResumesThereAfterARestart() throws Exception {
        gateway = ShippedGateway.start(dir.resolve("data"));
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + gateway.port("kafka"));
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("ledger", 0, null, "r" + i)).get();
            }
        }
        try (KafkaConsumer<String, String> consumer = kafkaConsumer("billing")) {
            consumer.subscribe(List.of("ledger"));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
                return got.size() >= 10;
            });
            consumer.commitSync(Map.of(new TopicPartition("ledger", 0), new OffsetAndMetadata(4)));
        }
        String cursor = "kafka-group:billing@ledger";
        await().until(() -> backlog(cursor) == 6);
        assertThat(subscription(cursor).getBoolean("durable")).isTrue();

        ShippedGateway.stop(gateway, closing);
        gateway = ShippedGateway.start(dir.resolve("data"));
        await().until(() -> backlog(cursor) == 6); // the cursor came back from the store
        try (KafkaConsumer<String, String> consumer = kafkaConsumer("billing")) {
            consumer.subscribe(List.of("ledger"));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
                return got.size() >= 6;
            });
            assertThat(got.get(0).offset()).isEqualTo(4);
            assertThat(got).extracting(ConsumerRecord::value).containsExactly("r4", "r5", "r6", "r7", "r8", "r9");
            consumer.commitSync();
        }
        await().until(() -> backlog(cursor) == 0);
    }

    @Test
    void aRocketMqGroupStartedBeforeTheFirstSendsMissesNoneAndItsLagShows() throws Exception {
        gateway = ShippedGateway.start(dir.resolve("data"));
        String nameServer = "127.0.0.1:" + gateway.port("openmessaging");
        Set<String> got = ConcurrentHashMap.newKeySet();
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("early");
        consumer.setNamesrvAddr(nameServer);
        consumer.setInstanceName(UUID.randomUUID().toString());
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET); // the default of most applications
        consumer.setPersistConsumerOffsetInterval(500);
        consumer.subscribe("fresh", "*");
        consumer.setMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            msgs.forEach(m -> got.add(new String(m.getBody(), StandardCharsets.UTF_8)));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();

        DefaultMQProducer producer = new DefaultMQProducer("shop");
        producer.setNamesrvAddr(nameServer);
        producer.setInstanceName(UUID.randomUUID().toString());
        producer.start();
        closing.add(producer::shutdown);
        for (int i = 0; i < 200; i++) {
            assertThat(producer.send(new Message("fresh", ("o" + i).getBytes(StandardCharsets.UTF_8))).getSendStatus())
                    .isEqualTo(SendStatus.SEND_OK);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> got.size() == 200);
        String cursor = "rocketmq-group:early@fresh";
        await().atMost(Duration.ofSeconds(30)).until(() -> backlog(cursor) == 0); // offsets committed
        consumer.shutdown();

        for (int i = 0; i < 7; i++) {
            producer.send(new Message("fresh", ("late" + i).getBytes(StandardCharsets.UTF_8)));
        }
        await().until(() -> backlog(cursor) == 7); // the group is away: what it has not consumed is its lag
    }
}
