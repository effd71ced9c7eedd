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

/** The Java kafka-clients (producer, consumer, AdminClient), unmodified, against the Kafka wire adapter. */
@Timeout(120)
class KafkaClientsIT extends KafkaTestBase {
    @Test
    void theIdempotentProducerWritesAndAConsumerReadsKeysHeadersAndOrder() throws Exception {
        start(Map.of("partitions", 3));
        KafkaProducer<String, String> producer = producer(Map.of()); // idempotence and acks=all are the defaults
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            ProducerRecord<String, String> r = new ProducerRecord<>("telemetry.room-1", "device-" + (i % 7), "v" + i);
            r.headers().add("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
            r.headers().add("raw", new byte[]{(byte) 0xff, 0, 1});
            sent.add(producer.send(r));
        }
        producer.flush();
        Map<Integer, Long> lastOffset = new HashMap<>();
        for (Future<RecordMetadata> f : sent) {
            RecordMetadata m = f.get();
            assertThat(m.topic()).isEqualTo("telemetry.room-1");
            assertThat(m.offset()).isGreaterThan(lastOffset.getOrDefault(m.partition(), -1L));
            lastOffset.put(m.partition(), m.offset());
        }
        assertThat(lastOffset).hasSize(3); // keys spread over the three partitions

        KafkaConsumer<String, String> consumer = consumer("readers", Map.of());
        consumer.subscribe(List.of("telemetry.room-1"));
        List<ConsumerRecord<String, String>> got = pollUntil(consumer, 600);
        assertThat(got).hasSize(600);
        Map<String, Integer> lastSeqPerKey = new HashMap<>();
        for (ConsumerRecord<String, String> r : got) {
            int seq = Integer.parseInt(new String(r.headers().lastHeader("seq").value(), StandardCharsets.UTF_8));
            assertThat(r.value()).isEqualTo("v" + seq);
            assertThat(r.key()).isEqualTo("device-" + (seq % 7));
            assertThat(r.headers().lastHeader("raw").value()).containsExactly((byte) 0xff, 0, 1);
            // one key, one partition: in order
            assertThat(seq).isGreaterThan(lastSeqPerKey.getOrDefault(r.key(), -1));
            lastSeqPerKey.put(r.key(), seq);
            assertThat(r.timestamp()).isPositive();
        }
        consumer.commitSync();
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.of(
                new TopicPartition("telemetry.room-1", 0), new TopicPartition("telemetry.room-1", 1),
                new TopicPartition("telemetry.room-1", 2)));
        long total = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
        assertThat(total).isEqualTo(600);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "snappy", "lz4", "zstd"})
    void compressedBatchesAreStoredAndFetchedAsTheyCame(String codec, @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        start(Map.of(), dir); // the file store, which keeps a producer's batches
        KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec,
                ProducerConfig.LINGER_MS_CONFIG, 20));
        for (int i = 0; i < 200; i++) {
            producer.send(new ProducerRecord<>("z-" + codec, "k" + i, "compressed value " + i + " ".repeat(50)));
        }
        producer.flush();
        KafkaConsumer<String, String> consumer = consumer("c-" + codec, Map.of());
        consumer.subscribe(List.of("z-" + codec));
        List<ConsumerRecord<String, String>> got = pollUntil(consumer, 200);
        for (int i = 0; i < 200; i++) {
            assertThat(got.get(i).key()).isEqualTo("k" + i);
            assertThat(got.get(i).value()).startsWith("compressed value " + i + " ");
            assertThat(got.get(i).offset()).isEqualTo(i);
        }
        // the producer's batches come back as they were stored: compressed, whole, from their first record
        for (long from : new long[] {0, 37}) {
            List<org.apache.kafka.common.record.RecordBatch> batches = rawFetch("z-" + codec, from);
            assertThat(batches).isNotEmpty().allSatisfy(b ->
                    assertThat(b.compressionType().name).isEqualTo(codec));
            assertThat(batches.get(0).baseOffset()).isLessThanOrEqualTo(from);
            long next = batches.get(0).baseOffset();
            for (org.apache.kafka.common.record.RecordBatch b : batches) {
                assertThat(b.baseOffset()).isEqualTo(next);
                for (org.apache.kafka.common.record.Record r : b) {
                    assertThat(r.offset()).isEqualTo(next++);
                }
            }
            assertThat(next).isEqualTo(200);
        }
        // and a consumer that seeks into the middle of a batch starts at the record it sought
        TopicPartition tp = new TopicPartition("z-" + codec, 0);
        KafkaConsumer<String, String> seeking = consumer("s-" + codec, Map.of());
        seeking.assign(List.of(tp));
        seeking.seek(tp, 37);
        List<ConsumerRecord<String, String>> rest = pollUntil(seeking, 163);
        assertThat(rest).extracting(ConsumerRecord::offset).first().isEqualTo(37L);
        assertThat(rest.get(162).key()).isEqualTo("k199");
    }

    /** Partition 0 of {@code topic} from {@code offset}, as one fetch answers it, batch by batch. */
    private List<org.apache.kafka.common.record.RecordBatch> rawFetch(String topic, long offset) throws Exception {
        short version = 12; // topics by name
        org.apache.kafka.common.message.FetchRequestData request = new org.apache.kafka.common.message.FetchRequestData()
                .setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(10 << 20).setIsolationLevel((byte) 0)
                .setSessionId(0).setSessionEpoch(-1);
        request.topics().add(new org.apache.kafka.common.message.FetchRequestData.FetchTopic().setTopic(topic)
                .setPartitions(List.of(new org.apache.kafka.common.message.FetchRequestData.FetchPartition()
                        .setPartition(0).setFetchOffset(offset).setPartitionMaxBytes(10 << 20))));
        try (RawKafka raw = new RawKafka(gw.port("kafka"))) {
            org.apache.kafka.common.message.FetchResponseData answer = raw.receive(
                    org.apache.kafka.common.protocol.ApiKeys.FETCH, version,
                    raw.send(org.apache.kafka.common.protocol.ApiKeys.FETCH, version, request),
                    new org.apache.kafka.common.message.FetchResponseData());
            var partition = answer.responses().get(0).partitions().get(0);
            assertThat(partition.errorCode()).isZero();
            List<org.apache.kafka.common.record.RecordBatch> out = new ArrayList<>();
            ((org.apache.kafka.common.record.MemoryRecords) partition.records()).batches().forEach(b -> {
                b.ensureValid(); // its CRC still holds
                out.add(b);
            });
            return out;
        }
    }

    /**
     * A consumer far behind the log's end gets answers cut by its byte limits, after each of which the gateway reads
     * ahead from where the answer ended; every record still comes once and in order, and a seek back is answered
     * from the offset sought, not from what was read ahead.
     */
    @Test
    void aConsumerBehindTheLogGetsEveryRecordInOrderAcrossCutAnswersAndSeeks() throws Exception {
        start(Map.of("partitions", 2));
        KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.LINGER_MS_CONFIG, 5));
        int each = 1_000;
        String pad = "x".repeat(1_000);
        for (int i = 0; i < each; i++) {
            for (int p = 0; p < 2; p++) {
                producer.send(new ProducerRecord<>("backlog", p, null, p + ":" + i + ":" + pad));
            }
        }
        producer.flush();
        KafkaConsumer<String, String> consumer = consumer("behind", Map.of(
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 20_000, // about 18 records a partition an answer
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 30_000)); // so the second partition's share is cut too
        TopicPartition p0 = new TopicPartition("backlog", 0);
        TopicPartition p1 = new TopicPartition("backlog", 1);
        consumer.assign(List.of(p0, p1));
        consumer.seekToBeginning(List.of(p0, p1));
        long[] next = new long[2];
        boolean[] sought = {false};
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                int p = r.partition();
                assertThat(r.offset()).as("partition %d", p).isEqualTo(next[p]);
                assertThat(r.value()).isEqualTo(p + ":" + r.offset() + ":" + pad);
                next[p]++;
            }
            if (!sought[0] && next[0] >= 400) { // mid-stream, with a read-ahead from further on waiting
                sought[0] = true;
                consumer.seek(p0, 100);
                next[0] = 100;
            }
            return next[0] == each && next[1] == each;
        });
        assertThat(sought[0]).isTrue();
    }

    @Test
    void adminClientCreatesListsDescribesAndDeletesTopics() throws Exception {
        start(Map.of());
        Admin admin = admin();
        admin.createTopics(List.of(new NewTopic("orders.eu", 4, (short) 1))).all().get();
        assertThat(admin.listTopics().names().get()).contains("orders.eu");
        TopicDescription d = admin.describeTopics(List.of("orders.eu")).allTopicNames().get().get("orders.eu");
        assertThat(d.partitions()).hasSize(4);
        assertThat(d.partitions().get(0).leader().port()).isEqualTo(gw.port("kafka"));

        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("orders.eu", 1, (short) 1))).all().get())
                .hasCauseInstanceOf(TopicExistsException.class);
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("bad topic", 1, (short) 1))).all().get())
                .hasCauseInstanceOf(InvalidTopicException.class);
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("zero", 0, (short) 1))).all().get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidPartitionsException.class);

        KafkaProducer<String, String> producer = producer(Map.of());
        producer.send(new ProducerRecord<>("orders.eu", 2, "k", "before delete")).get();

        admin.deleteTopics(List.of("orders.eu")).all().get();
        assertThat(admin.listTopics().names().get()).doesNotContain("orders.eu");
        assertThat(gw.broker.logs().topics().keySet().stream().map(Object::toString)).doesNotContain("orders/eu");
    }

    @Test
    void offsetsCanBeListedByTimeAndSeekedTo() throws Exception {
        start(Map.of());
        KafkaProducer<String, String> producer = producer(Map.of());
        long t0 = System.currentTimeMillis() - 10_000;
        for (int i = 0; i < 10; i++) {
            producer.send(new ProducerRecord<>("clock", 0, t0 + i * 1000L, "k", "tick" + i)).get();
        }
        KafkaConsumer<String, String> consumer = consumer("clock-reader", Map.of());
        TopicPartition tp = new TopicPartition("clock", 0);
        consumer.assign(List.of(tp));
        assertThat(consumer.beginningOffsets(List.of(tp))).containsEntry(tp, 0L);
        assertThat(consumer.endOffsets(List.of(tp))).containsEntry(tp, 10L);
        assertThat(consumer.offsetsForTimes(Map.of(tp, t0 + 4500)).get(tp).offset()).isEqualTo(5);
        assertThat(consumer.offsetsForTimes(Map.of(tp, t0 + 60_000)).get(tp)).isNull();
        consumer.seek(tp, 7);
        List<ConsumerRecord<String, String>> got = pollUntil(consumer, 3);
        assertThat(got).extracting(ConsumerRecord::value).containsExactly("tick7", "tick8", "tick9");
        Header none = got.get(0).headers().lastHeader("kafka.null-value");
        assertThat(none).isNull();
    }

    @Test
    void aKeyFromAnotherProtocolLandsOnThePartitionKafkasPartitionerPicks() throws Exception {
        start(Map.of());
        io.omnibus.core.spi.Address topic = io.omnibus.core.spi.Address.of("keyed");
        TestGateway.await(gw.broker.logs().partitions(topic, 5, true));
        KafkaProducer<String, String> producer = producer(Map.of());
        for (int i = 0; i < 20; i++) {
            String key = "device-" + i;
            int fromKafka = producer.send(new ProducerRecord<>("keyed", key, "v")).get().partition();
            int fromElsewhere = TestGateway.await(gw.broker.publish(io.omnibus.core.spi.Envelope.builder(topic).key(key)
                    .payload("v").build())).partition();
            assertThat(fromElsewhere).as(key).isEqualTo(fromKafka)
                    .isEqualTo(org.apache.kafka.common.utils.Utils.toPositive(
                            org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % 5);
        }
    }
}
