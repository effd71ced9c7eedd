package io.omnibus.store.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The topic where an active node says where it listens, read and written as another node would. */
public final class ForeignEndpoints {
    private ForeignEndpoints() {
    }

    /**
     * The generation of the nodes' group in which node {@code nodeId} said it became the active node, from the last
     * record it wrote in the topic; -1 while there is none.
     */
    public static int generationOf(String bootstrap, String topicPrefix, String nodeId) {
        TopicPartition p = new TopicPartition(topicPrefix + "endpoints", 0);
        // committed records only, as the nodes read them: a node's own record is not taken while its transaction is open
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
                "isolation.level", "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.assign(List.of(p));
            c.seekToBeginning(List.of(p));
            long end = c.endOffsets(List.of(p)).get(p);
            int generation = -1;
            while (c.position(p) < end) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    KafkaEndpoints.Advertised a = KafkaEndpoints.parse(r);
                    if (a != null && nodeId.equals(a.nodeId())) {
                        generation = a.generation();
                    }
                }
            }
            return generation;
        }
    }

    /**
     * Writes the record a node {@code nodeId} that became the active one in {@code generation} writes, with the plain
     * producer (as versions before the role's transaction did).
     */
    public static void announce(String bootstrap, String topicPrefix, String nodeId, int generation) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                "acks", "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(record(topicPrefix, nodeId, generation, false));
            producer.flush();
        }
    }

    /**
     * Writes that record as a node that became the active one writes it: in a transaction of the active role's
     * transactional id, which it takes first (fencing the node that held it). With {@code commit} false, in a
     * transaction of another id that is then aborted: what a fenced node's write comes to.
     */
    public static void announceInTransaction(String bootstrap, String topicPrefix, String nodeId, int generation,
                                             boolean commit) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                "transactional.id", commit ? topicPrefix + "tx" : topicPrefix + "fenced-" + nodeId),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(record(topicPrefix, nodeId, generation, true));
            if (commit) {
                producer.commitTransaction();
            } else {
                producer.flush();
                producer.abortTransaction();
            }
        }
    }

    private static org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]> record(
            String topicPrefix, String nodeId, int generation, boolean inRoleTransaction) {
        return new KafkaEndpoints(topicPrefix + "endpoints").record(new KafkaEndpoints.Advertised(nodeId,
                nodeId + "-member", generation, null, Map.of("mqtt", 1883), inRoleTransaction));
    }
}
