package io.omnibus.server;

import io.omnibus.core.config.BrokerConfig;
import io.omnibus.core.spi.ConfigSection;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration, validated. Adapter sections stay as {@link ConfigSection}s: each
 * adapter's factory reads its own. {@code eventLoops}: the threads serving every connection ({@code server.event-loops});
 * {@code workerThreads}: the most threads for work that may not run on them ({@code server.worker-threads}: password
 * hashing, TLS key material read from files, the admin API's pages and scrapes).
 */
public record GatewayConfig(String source, AdminConfig admin, StoreConfig store, BrokerConfig broker,
                            Duration shutdownTimeout, int eventLoops, int workerThreads, io.omnibus.core.config.StaticUsers users,
                            io.omnibus.core.spi.Authorizer authorizer,
                            Map<String, AdapterSection> adapters, List<io.omnibus.server.bridge.BridgeConfig> bridges) {

    /**
     * Two per core, at least four. The work is CPU (a password's check, a good part of a second the first time for a
     * user, StaticUsers) or short, so more threads than that only take turns on the cores; Vert.x's own default, 20 whatever the machine, made an idle gateway
     * start a thread of its own for each of its first 20 tasks (a pool below its size starts a thread for every task,
     * idle threads or not), one every 10 s from the subscription-lag meter alone, each keeping its stack.
     */
    static int defaultWorkerThreads() {
        return Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    }

    /**
     * The admin HTTP listeners: plain on {@code port} (-1: off) and HTTPS on {@code tls} (null: none); {@code tokens}
     * are bearer tokens for scripts, each acting as a user: SHA-256 of the token (hex) to the user's name.
     */
    public record AdminConfig(String host, int port, io.omnibus.core.transport.TlsConfig tls, Map<String, String> tokens,
                              int lagTopSubscriptions) {
    }

    /**
     * Where messages are kept. {@code fsync}: {@code every-write}, {@code group} (commit within
     * {@code fsync-interval} or {@code fsync-bytes}, the default), or {@code os}.
     */
    public record StoreConfig(String type, Path dir, String fsync, Duration fsyncInterval, long fsyncBytes,
                              long segmentSize, long preallocate, Duration checkpointInterval, long queueBytes,
                              Duration retentionAge, long retentionBytes,
                              long memoryMaxMessages, long memoryMaxBytes, KafkaStoreConfig kafka) {
        public static final List<String> TYPES = List.of("file", "memory", "kafka");
        public static final List<String> FSYNC = List.of("every-write", "group", "os");
    }

    /**
     * {@code store.kafka}: the Kafka cluster the store lives in (docs/cluster.md). {@code replicationFactor} and
     * {@code minInsyncReplicas} null: the cluster's defaults; {@code nodeId} null: a unique one made at start;
     * {@code properties}: Kafka client settings passed as given (TLS, SASL, timeouts); {@code sessionTimeout}: how long
     * the active node may be silent before a standby takes over; {@code advertisedHost} null: standbys reach the active
     * node at the host the Kafka group sees it connect from; {@code standbyForwarding}: a standby listens on the
     * adapters' ports and passes each connection on to the active node; {@code standbyProxyProtocol}: it starts each
     * with a PROXY header naming the client (for the active node's listeners' {@code proxy-protocol}).
     */
    public record KafkaStoreConfig(String bootstrapServers, String topicPrefix, Integer replicationFactor,
                                   Integer minInsyncReplicas, String nodeId, int readers, Duration readTimeout,
                                   Duration sessionTimeout, long cacheBytes, Map<String, String> properties,
                                   String advertisedHost, boolean standbyForwarding, boolean standbyProxyProtocol) {
    }

    /** One protocol's section: whether it is enabled, and the rest for its factory. */
    public record AdapterSection(String protocol, boolean enabled, ConfigSection section) {
        /** The configured port, for error messages, or -1. */
        public int port() {
            return section.has("port") ? io.omnibus.core.transport.Listeners.portOrOff(section, "port", -1) : -1;
        }
    }
}
