package io.omnibus.store.kafka;

import io.omnibus.core.spi.Address;

import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

/**
 * How a {@link KafkaMessageStore} reaches its cluster and behaves ({@code store.kafka.*} in the gateway's configuration).
 *
 * @param bootstrapServers   where the Kafka cluster is
 * @param topicPrefix        the prefix of every topic and group the store makes
 * @param replicationFactor  null: the cluster's default ({@code default.replication.factor})
 * @param minInsyncReplicas  null: the cluster's default ({@code min.insync.replicas})
 * @param nodeId             this node's name (in /health and its Kafka client ids), null to make a unique one
 * @param maxRecordBytes     the largest record (a message as encoded plus headroom)
 * @param clientProperties   passed to every Kafka client as given (TLS, SASL, timeouts, ...), under the settings
 *                           the store depends on (acks, idempotence, isolation)
 * @param sessionTimeout     how long the active node may be silent before a standby takes over ({@link KafkaLease})
 * @param leaseLost          what to do when this node stops being the active one: stop serving at once
 * @param cacheBytes         the messages last appended kept in memory for reads ({@link TailCache}); 0: none
 * @param retentionInterval  how often the active node removes what age retention lets go ({@link KafkaRetention})
 * @param advertisedHost     where standbys reach this node once it is active; null: the host the nodes' group sees
 */
public record KafkaStoreOptions(String bootstrapServers, String topicPrefix, Integer replicationFactor,
                                Integer minInsyncReplicas, String nodeId, int readers, Duration readTimeout,
                                int maxRecordBytes, Function<Address, Retention> retention,
                                Map<String, String> clientProperties, Duration sessionTimeout, Runnable leaseLost,
                                long cacheBytes, Duration retentionInterval, String advertisedHost) {
    public KafkaStoreOptions {
        clientProperties = Map.copyOf(clientProperties);
        if (readers < 1) {
            throw new IllegalArgumentException("readers must be at least 1");
        }
    }

    /** How long an address's messages are kept: {@code age} null or zero and {@code bytes} 0 for no limit. */
    public record Retention(Duration age, long bytes) {
    }
}
