package io.omnibus.kafka;

import io.omnibus.core.harness.TestGateway;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A gateway with the Kafka adapter on an ephemeral port, and real kafka-clients against it, closed after each test. */
abstract class KafkaTestBase {
    protected TestGateway gw;
    private final List<AutoCloseable> clients = new ArrayList<>();

    TestGateway start(Map<String, Object> kafka) {
        return start(kafka, null);
    }

    /** A gateway on the file store in {@code dataDir} (the memory store when null). */
    TestGateway start(Map<String, Object> kafka, java.nio.file.Path dataDir) {
        Map<String, Object> cfg = new HashMap<>(kafka);
        cfg.putIfAbsent("group-initial-rebalance-delay", "100ms");
        TestGateway.Builder b = TestGateway.builder().adapter(new KafkaAdapterFactory(), cfg);
        gw = (dataDir == null ? b : b.dataDir(dataDir)).start();
        return gw;
    }

    String bootstrap() {
        return "127.0.0.1:" + gw.port("kafka");
    }

    Properties common() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        p.put("client.id", "test-" + clients.size());
        return p;
    }

    KafkaProducer<String, String> producer(Map<String, Object> extra) {
        Properties p = common();
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.putAll(extra);
        KafkaProducer<String, String> producer = new KafkaProducer<>(p);
        clients.add(producer);
        return producer;
    }

    KafkaConsumer<String, String> consumer(String group, Map<String, Object> extra) {
        Properties p = common();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.putAll(extra);
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p);
        clients.add(consumer);
        return consumer;
    }

    Admin admin() {
        Properties p = common();
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        Admin admin = Admin.create(p);
        clients.add(admin);
        return admin;
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : clients) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closed by the test already
            }
        }
        if (gw != null) {
            gw.close();
        }
    }

    static List<ConsumerRecord<String, String>> pollUntil(KafkaConsumer<String, String> c, int count) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                got.add(r);
            }
            return got.size() >= count;
        });
        return got;
    }

}
