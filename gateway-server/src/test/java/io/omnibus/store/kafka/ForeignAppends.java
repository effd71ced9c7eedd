package io.omnibus.store.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.TopicPartition;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Messages written to the Kafka store's layout by another writer, as a node that lost the active role writes them. */
public final class ForeignAppends {
    private ForeignAppends() {
    }

    /**
     * What a node does for an address it is the first to publish to, written by another writer: the address's topic
     * made, registered in the state topic, then {@code payload} appended to its partition 0.
     */
    public static void appendToNewAddress(String bootstrap, String topicPrefix, String address, String payload)
            throws Exception {
        String name = KafkaTopics.topicName(topicPrefix, Address.of(address));
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.<String, Object>of("bootstrap.servers", bootstrap));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                     "acks", "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            admin.createTopics(java.util.List.of(new org.apache.kafka.clients.admin.NewTopic(name,
                    java.util.Optional.of(1), java.util.Optional.empty()))).all().get(30, TimeUnit.SECONDS);
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topicPrefix + "state", 0,
                    StateRecords.topicKey(name), address.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .get(30, TimeUnit.SECONDS);
        }
        append(bootstrap, topicPrefix, address, 0, payload);
    }

    /** Appends {@code payload} to partition {@code partition} of {@code address}, and waits for Kafka's answer. */
    public static void append(String bootstrap, String topicPrefix, String address, int partition, String payload)
            throws Exception {
        Address a = Address.of(address);
        KafkaTopics.Topic topic = new KafkaTopics.Topic(KafkaTopics.topicName(topicPrefix, a), partition + 1);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                "acks", "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(KafkaAppends.record(topic, new TopicPartition(a, partition),
                    Envelope.builder(a).payload(payload).build(), System.currentTimeMillis())).get(30, TimeUnit.SECONDS);
        }
    }
}
