package io.omnibus.store.kafka;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.util.Properties;

/**
 * The settings of the store's Kafka clients: the user's {@code client-properties} (TLS, SASL, timeouts), under what the
 * store depends on (the bootstrap servers, acks=all and idempotence for producers, read_committed for readers).
 */
final class KafkaClientSettings {
    private final KafkaStoreOptions options;
    private final String nodeId;

    KafkaClientSettings(KafkaStoreOptions options, String nodeId) {
        this.options = options;
        this.nodeId = nodeId;
    }

    /** For any client: the user's properties, the bootstrap servers, a client id naming this node. */
    Properties client() {
        Properties p = new Properties();
        p.putAll(options.clientProperties());
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers());
        p.putIfAbsent(CommonClientConfigs.CLIENT_ID_CONFIG, "omnibus-" + nodeId);
        return p;
    }

    /** For a producer: every append acknowledged by all in-sync replicas, once. */
    Properties producer() {
        Properties p = client();
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(options.maxRecordBytes() + 65_536));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return p;
    }

    /**
     * For the active role's transactional producer: one transactional id for the role, so that the node taking it
     * over fences its predecessor's producer and aborts the transaction it left open.
     */
    Properties transactional() {
        Properties p = producer();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, options.topicPrefix() + "tx");
        p.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "10000");
        return p;
    }

    /** For a consumer that reads the store's topics ({@link KafkaReaders#defaults()}). */
    Properties reader() {
        Properties p = client();
        KafkaReaders.defaults().forEach(p::put);
        return p;
    }

    /** For the readers serving subscriptions: a fetch takes the largest record. */
    Properties fetcher() {
        Properties p = reader();
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(options.maxRecordBytes() + 65_536));
        return p;
    }
}
