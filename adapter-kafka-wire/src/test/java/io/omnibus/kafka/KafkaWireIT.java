package io.omnibus.kafka;

import io.omnibus.core.config.StaticUsers;
import io.omnibus.core.harness.TestGateway;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Requests real clients never send, answered with Kafka's error codes or a logged close that costs no one else. */
@Timeout(90)
class KafkaWireIT extends KafkaTestBase {
    private static final short PRODUCE_V = 11;

    private static MemoryRecords batch(long producerId, short epoch, int sequence, String... values) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.CURRENT_MAGIC_VALUE,
                Compression.NONE, TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP, producerId, epoch, sequence,
                false, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        for (String v : values) {
            b.append(System.currentTimeMillis(), null, v.getBytes(StandardCharsets.UTF_8));
        }
        return b.build();
    }

    private static ProduceRequestData produce(String topic, MemoryRecords records) {
        ProduceRequestData req = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000);
        ProduceRequestData.TopicProduceData t = new ProduceRequestData.TopicProduceData().setName(topic);
        t.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records));
        req.topicData().add(t);
        return req;
    }

    private static ProduceResponseData.PartitionProduceResponse send(RawKafka raw, String topic, MemoryRecords records)
            throws Exception {
        ProduceResponseData r = raw.receive(ApiKeys.PRODUCE, PRODUCE_V, raw.send(ApiKeys.PRODUCE, PRODUCE_V,
                produce(topic, records)), new ProduceResponseData());
        return r.responses().iterator().next().partitionResponses().get(0);
    }

    private void assertOthersStillServed() throws Exception {
        KafkaProducer<String, String> p = producer(Map.of());
        assertThat(p.send(new ProducerRecord<>("still-fine", "ok")).get(20, TimeUnit.SECONDS).offset()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void anApiVersionsRequestOfAnUnknownVersionIsAnsweredInVersion0WithUnsupportedVersionKip511() throws Exception {
        start(Map.of());
        try (RawKafka raw = new RawKafka(gw.port("kafka"))) {
            int id = raw.send(ApiKeys.API_VERSIONS, (short) 99, new ApiVersionsRequestData());
            ApiVersionsResponseData r = raw.receive(ApiKeys.API_VERSIONS, (short) 0, id, new ApiVersionsResponseData());
            assertThat(r.errorCode()).isEqualTo(Errors.UNSUPPORTED_VERSION.code());
            ApiVersionsResponseData.ApiVersion produce = r.apiKeys().find(ApiKeys.PRODUCE.id);
            assertThat(produce.minVersion()).isZero(); // librdkafka enables compression only so (KAFKA-18659)
            assertThat(r.apiKeys().find(ApiKeys.API_VERSIONS.id).maxVersion()).isEqualTo((short) 4);
            assertThat(r.apiKeys().find(ApiKeys.ELECT_LEADERS.id)).isNull(); // only what is implemented
        }
    }

    @Test
    void anUnknownApiKeyAnUnsupportedVersionAndAMalformedBodyCloseOnlyTheirConnection() throws Exception {
        start(Map.of());
        try (RawKafka unknown = new RawKafka(gw.port("kafka"))) {
            unknown.frame(new byte[]{0x27, 0x0f, 0, 0, 0, 0, 0, 1, 0, 0}, 0, 10); // api key 9999
            assertThat(unknown.closedByPeer()).isTrue();
        }
        try (RawKafka old = new RawKafka(gw.port("kafka"))) {
            old.send(ApiKeys.PRODUCE, (short) 2, new ProduceRequestData().setAcks((short) 1)); // advertised, refused
            assertThat(old.closedByPeer()).isTrue();
        }
        try (RawKafka truncated = new RawKafka(gw.port("kafka"))) {
            // a Metadata v12 header announcing a body that is not there
            byte[] header = {0, 3, 0, 12, 0, 0, 0, 7, 0, 3, 'r', 'a', 'w', 0, 0x7f};
            truncated.frame(header, 0, header.length);
            assertThat(truncated.closedByPeer()).isTrue();
        }
        try (RawKafka tiny = new RawKafka(gw.port("kafka"))) {
            tiny.frame(new byte[]{0, 3, 0}, 0, 3);
            assertThat(tiny.closedByPeer()).isTrue();
        }
        assertOthersStillServed();
        assertThat(gw.meters.get("omnibus.kafka.connections.refused").tag("reason", "unknown-api").counter().count())
                .isEqualTo(1);
        assertThat(gw.meters.get("omnibus.kafka.connections.refused").tag("reason", "malformed").counter().count())
                .isEqualTo(2);
        assertThat(gw.meters.get("omnibus.kafka.requests").tag("api", "Produce").counter().count()).isPositive();
    }

    @Test
    void aRequestLargerThanMaxRequestSizeClosesTheConnection() throws Exception {
        start(Map.of("max-request-size", "64KiB"));
        try (RawKafka raw = new RawKafka(gw.port("kafka"))) {
            raw.raw(ByteBuffer.allocate(4).putInt(10 * 1024 * 1024).array()); // 10 MiB announced
            raw.raw(new byte[70 * 1024]);
            assertThat(raw.closedByPeer()).isTrue();
        }
        assertOthersStillServed();
    }

    @Test
    void aBatchWithABadCrcIsCorruptMessageAndInvalidTopicNamesAreInvalidTopic() throws Exception {
        start(Map.of());
        TestGateway.await(gw.broker.logs().partitions(io.omnibus.core.spi.Address.of("crc"), 1, true));
        try (RawKafka raw = new RawKafka(gw.port("kafka"))) {
            MemoryRecords records = batch(RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH,
                    RecordBatch.NO_SEQUENCE, "payload");
            ByteBuffer b = records.buffer();
            b.put(b.limit() - 2, (byte) (b.get(b.limit() - 2) ^ 0x55)); // flip bits inside the record
            assertThat(send(raw, "crc", MemoryRecords.readableRecords(b)).errorCode())
                    .isEqualTo(Errors.CORRUPT_MESSAGE.code());
            assertThat(send(raw, "no spaces", batch(-1, (short) -1, -1, "x")).errorCode())
                    .isEqualTo(Errors.INVALID_TOPIC_EXCEPTION.code());
            assertThat(send(raw, "not-made-yet", batch(-1, (short) -1, -1, "x")).errorCode())
                    .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            // the gateway's '$' addresses ($SYS/...) are not for Kafka clients to write
            assertThat(send(raw, "_x24SYS.broker", batch(-1, (short) -1, -1, "x")).errorCode())
                    .isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code());
            MemoryRecords two = MemoryRecords.withRecords(Compression.NONE,
                    new org.apache.kafka.common.record.SimpleRecord("a".getBytes(StandardCharsets.UTF_8)));
            ByteBuffer both = ByteBuffer.allocate(two.sizeInBytes() * 2).put(two.buffer()).put(two.buffer());
            assertThat(send(raw, "crc", MemoryRecords.readableRecords(both.flip())).errorCode())
                    .isEqualTo(Errors.INVALID_RECORD.code()); // v3+: exactly one batch per partition
            MetadataRequestData md = new MetadataRequestData().setAllowAutoTopicCreation(true);
            md.topics().add(new MetadataRequestData.MetadataRequestTopic().setName("a_x2fb")); // an escape never made
            md.topics().add(new MetadataRequestData.MetadataRequestTopic().setName("made.on.demand"));
            MetadataResponseData r = raw.receive(ApiKeys.METADATA, (short) 12, raw.send(ApiKeys.METADATA, (short) 12, md),
                    new MetadataResponseData());
            assertThat(r.topics().find("a_x2fb").errorCode()).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION.code());
            assertThat(r.topics().find("made.on.demand").errorCode()).isEqualTo(Errors.LEADER_NOT_AVAILABLE.code());
            assertThat(r.brokers().iterator().next().host()).isEqualTo("127.0.0.1");
        }
    }

    @Test
    void idempotentSequencesDuplicatesGetTheOriginalOffsetGapsAreOutOfOrder() throws Exception {
        start(Map.of());
        gw.broker.logs().partitions(io.omnibus.core.spi.Address.of("seq"), 1, true).toCompletionStage().toCompletableFuture()
                .get();
        try (RawKafka raw = new RawKafka(gw.port("kafka"))) {
            long pid = 4242;
            assertThat(send(raw, "seq", batch(pid, (short) 0, 0, "a", "b")).baseOffset()).isZero();
            assertThat(send(raw, "seq", batch(pid, (short) 0, 2, "c")).baseOffset()).isEqualTo(2);
            ProduceResponseData.PartitionProduceResponse dup = send(raw, "seq", batch(pid, (short) 0, 0, "a", "b"));
            assertThat(dup.errorCode()).isZero();
            assertThat(dup.baseOffset()).isZero(); // the original batch's offset; nothing appended
            assertThat(send(raw, "seq", batch(pid, (short) 0, 7, "gap")).errorCode())
                    .isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code());
            assertThat(send(raw, "seq", batch(pid, (short) 1, 3, "new epoch, not from 0")).errorCode())
                    .isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code());
            assertThat(send(raw, "seq", batch(pid, (short) 1, 0, "new epoch")).baseOffset()).isEqualTo(3);
            assertThat(send(raw, "seq", batch(pid, (short) 0, 3, "fenced")).errorCode())
                    .isEqualTo(Errors.INVALID_PRODUCER_EPOCH.code());
        }
        assertThat(gw.broker.logs().endOffset(io.omnibus.core.spi.Address.of("seq"), 0)).isEqualTo(4);
    }

    @Test
    void saslPlainWithTheSharedUsersLetsTheRightPasswordInAndRefusesAWrongOne() throws Exception {
        gw = TestGateway.builder().users(List.of(Map.of("username", "app", "password-hash", StaticUsers.hash("pw"))))
                .adapter(new KafkaAdapterFactory(), Map.of()).start();
        Map<String, Object> sasl = Map.of(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
                SaslConfigs.SASL_MECHANISM, "PLAIN", SaslConfigs.SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"app\" password=\"pw\";");
        assertThat(producer(sasl).send(new ProducerRecord<>("secured", "in")).get(20, TimeUnit.SECONDS).offset()).isZero();

        Map<String, Object> wrong = Map.of(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
                SaslConfigs.SASL_MECHANISM, "PLAIN", SaslConfigs.SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"app\" password=\"nope\";",
                "max.block.ms", 10_000);
        assertThatThrownBy(() -> producer(wrong).send(new ProducerRecord<>("secured", "in")).get(20, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SaslAuthenticationException.class);

        try (RawKafka anonymous = new RawKafka(gw.port("kafka"))) { // no SASL: only ApiVersions is answered
            int id = anonymous.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                    .setClientSoftwareName("raw").setClientSoftwareVersion("1"));
            assertThat(anonymous.receive(ApiKeys.API_VERSIONS, (short) 3, id, new ApiVersionsResponseData()).errorCode())
                    .isZero();
            anonymous.send(ApiKeys.METADATA, (short) 12, new MetadataRequestData());
            assertThat(anonymous.closedByPeer()).isTrue();
        }
    }
}
