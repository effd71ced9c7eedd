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
