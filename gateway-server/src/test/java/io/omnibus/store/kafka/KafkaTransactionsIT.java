package io.omnibus.store.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The active role's transactional producer against a real Apache Kafka broker whose transaction coordinator aborts a
 * transaction that outlived {@code transaction.timeout.ms} (what happens when the cluster goes away in the middle of a
 * commit for longer than that): Kafka then refuses the producer's commit as it would a fenced producer's. A node the
 * nodes' group still counts as the active one renews its producer and goes on writing; one it does not count stops.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KafkaTransactionsIT {
    @TempDir
    static Path dir;
    static io.omnibus.server.TestKafka kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = io.omnibus.server.TestKafka.start(dir, Map.of(
                "transaction.abort.timed.out.transaction.cleanup.interval.ms", "200"));
    }

    @AfterAll
    static void stop() throws Exception {
        kafka.close();
    }

    private static Properties producer(String transactionalId) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrap());
        p.put("transactional.id", transactionalId);
        p.put("transaction.timeout.ms", "1000");
        p.put("max.block.ms", "10000");
        return p;
    }

    /**
     * The active role's producer with transactional id {@code id}; the nodes' group answers {@code holdsRole};
     * stopping the node sets {@code stopped}.
     */
    private static KafkaTransactions transactions(String id, boolean holdsRole, AtomicBoolean stopped) {
        return new KafkaTransactions(() -> new KafkaProducer<>(producer(id), new ByteArraySerializer(),
                new ByteArraySerializer()), () -> holdsRole, () -> stopped.set(true));
    }

    /** Begins a transaction, sends one record, and waits until the coordinator aborted it for its age. */
    private static void timedOut(KafkaTransactions tx, String transactionalId, String topic, String value)
            throws Exception {
        KafkaProducer<byte[], byte[]> p = tx.begin();
        p.send(new ProducerRecord<>(topic, 0, null, value.getBytes(StandardCharsets.UTF_8))).get(10, TimeUnit.SECONDS);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrap()))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeTransactions(List.of(transactionalId))
                    .all().get(10, TimeUnit.SECONDS).get(transactionalId).state() == TransactionState.COMPLETE_ABORT);
        }
    }

    private static List<String> committed(String topic) {
        Properties c = new Properties();
        c.put("bootstrap.servers", kafka.bootstrap());
        c.put("isolation.level", "read_committed");
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(new String(r.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    @Test
    void aTransactionTheCoordinatorAbortedForItsAgeRenewsTheProducerOfANodeStillActive() throws Exception {
        String id = "tx-" + UUID.randomUUID();
        String topic = "renewed-" + UUID.randomUUID();
        AtomicBoolean stopped = new AtomicBoolean();
        KafkaTransactions tx = transactions(id, true, stopped);
        tx.init();
        timedOut(tx, id, topic, "aborted by the coordinator");
        AtomicReference<RuntimeException> refused = new AtomicReference<>();
        assertThatThrownBy(tx::commit).satisfies(e -> refused.set((RuntimeException) e));
        // Kafka 4.1 answers INVALID_TXN_STATE (KAFKA-20785), which leaves the producer in a fatal state
        System.out.println("KafkaTransactionsIT: the commit of a transaction the coordinator aborted: " + refused.get());
        tx.failed(refused.get());
        assertThat(stopped).as("a node still active goes on").isFalse();

        KafkaProducer<byte[], byte[]> p = tx.begin();
        p.send(new ProducerRecord<>(topic, 0, null, "after the renewal".getBytes(StandardCharsets.UTF_8)));
        tx.commit();
        assertThat(tx.renewals()).as("a new producer took the id").isEqualTo(1);
        assertThat(committed(topic)).containsExactly("after the renewal");
        tx.close(Duration.ofSeconds(5));
    }

    @Test
    void aFencedNodeTheGroupNoLongerCountsAsActiveStops() throws Exception {
        String id = "tx-" + UUID.randomUUID();
        String topic = "fenced-" + UUID.randomUUID();
        AtomicBoolean stopped = new AtomicBoolean();
        KafkaTransactions tx = transactions(id, false, stopped);
        tx.init();
        KafkaProducer<byte[], byte[]> p = tx.begin();
        p.send(new ProducerRecord<>(topic, 0, null, "from the old node".getBytes(StandardCharsets.UTF_8)))
                .get(10, TimeUnit.SECONDS);
        // another node takes the id over
        try (KafkaProducer<byte[], byte[]> next = new KafkaProducer<>(producer(id), new ByteArraySerializer(),
                new ByteArraySerializer())) {
            next.initTransactions();
            AtomicReference<RuntimeException> refused = new AtomicReference<>();
            assertThatThrownBy(tx::commit).satisfies(e -> refused.set((RuntimeException) e));
            tx.failed(refused.get());
            assertThat(stopped).as("a node the group does not count as active stops").isTrue();
            assertThat(tx.renewals()).isZero();
            next.beginTransaction();
            next.send(new ProducerRecord<>(topic, 0, null, "from the new node".getBytes(StandardCharsets.UTF_8)));
            next.commitTransaction();
        }
        assertThat(committed(topic)).containsExactly("from the new node");
        tx.close(Duration.ZERO);
    }
}
