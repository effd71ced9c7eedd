package io.omnibus.kafka;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.transport.Listeners;
import io.omnibus.core.transport.TlsConfig;

import java.time.Duration;
import java.util.Set;

/**
 * The {@code kafka} section.
 *
 * @param advertisedHost         the host Metadata and FindCoordinator give clients; never {@code 0.0.0.0}
 * @param advertisedPort         the port they give; 0: the port bound
 * @param nodeId                 the broker id clients see (leader of every partition, controller, coordinator)
 * @param clusterId              the cluster id clients see
 * @param maxRequestSize         largest request frame; a larger one closes the connection (Kafka's
 *                               {@code socket.request.max.bytes}, whose 100 MiB default is lowered: a frame is held
 *                               whole in memory while it arrives, on every connection)
 * @param idleTimeout            a connection silent this long is closed (Kafka's {@code connections.max.idle.ms}); 0: never
 * @param maxUnauthenticatedRequestSize largest request before SASL authentication (Kafka's
 *                               {@code sasl.server.max.receive.size}): a stranger cannot make the gateway buffer more
 * @param authenticationTimeout  a connection that must authenticate and has not after this is closed
 * @param fetchMaxBytes          most record bytes one Fetch answer carries, whatever the client asks (Kafka's
 *                               {@code fetch.max.bytes}); the first record of a partition always goes
 * @param maxInflightRequests    requests one connection may have in progress; beyond, the gateway stops reading it
 * @param autoCreateTopics       whether Metadata creates topics it is asked about ({@code auto.create.topics.enable})
 * @param partitions             partitions of topics made by Metadata or CreateTopics without a count; 0: the
 *                               broker's per-address setting
 * @param maxConnections         Kafka connections at once; more are closed at once
 * @param initialRebalanceDelay  how long a new group waits for more members before its first assignment
 *                               ({@code group.initial.rebalance.delay.ms})
 * @param minSessionTimeout      shortest session timeout a member may ask for ({@code group.min.session.timeout.ms})
 * @param maxSessionTimeout      longest session timeout a member may ask for ({@code group.max.session.timeout.ms})
 * @param producerStateRetention how long the sequence state of an idle idempotent producer is kept
 * @param offsetsRetention       how long a group without members keeps its committed offsets (and its core cursors,
 *                               which hold retention) after its last commit ({@code offsets.retention.minutes})
 */
public record KafkaConfig(String host, int port, String advertisedHost, int advertisedPort, int nodeId, String clusterId,
                          int maxRequestSize, int fetchMaxBytes, int maxInflightRequests, boolean autoCreateTopics, int partitions,
                          int maxConnections, Duration initialRebalanceDelay, Duration minSessionTimeout,
                          Duration maxSessionTimeout, Duration producerStateRetention, Duration offsetsRetention, Listeners.Config listeners,
                          Duration idleTimeout, int maxUnauthenticatedRequestSize, Duration authenticationTimeout) {

    static final Set<String> KEYS = Listeners.keysWith("advertised-host", "advertised-port", "node-id", "cluster-id",
            "max-request-size", "fetch-max-bytes", "max-inflight-requests", "auto-create-topics", "partitions", "max-connections",
            "group-initial-rebalance-delay", "group-min-session-timeout", "group-max-session-timeout",
            "producer-state-retention", "offsets-retention", "idle-timeout",
            "max-request-size-unauthenticated", "authentication-timeout");

    /** The TLS listener, or null. */
    public TlsConfig tls() {
        return listeners.tls();
    }

    public static KafkaConfig read(ConfigSection s) {
        s.requireOnly(KEYS);
        Listeners.Config listeners = Listeners.read(s, 9092, 9093);
        String host = s.getString("host", "0.0.0.0");
        String advertised = s.getAdvertisedHost("advertised-host", host, "localhost");
        Duration minSession = s.getDuration("group-min-session-timeout", Duration.ofSeconds(6));
        Duration maxSession = s.getDuration("group-max-session-timeout", Duration.ofMinutes(30));
        if (minSession.compareTo(maxSession) > 0) {
            throw new ConfigException(s.keyOf("group-min-session-timeout"), "must not exceed group-max-session-timeout ("
                    + maxSession + ")");
        }
        String clusterId = s.getString("cluster-id", "omnibus-kafka-wire-0001");
        if (clusterId.isBlank()) {
            throw new ConfigException(s.keyOf("cluster-id"), "must not be empty");
        }
        return new KafkaConfig(
                host,
                listeners.port(),
                advertised,
                s.getInt("advertised-port", 0, 0, 65_535),
                s.getInt("node-id", 0, 0, Integer.MAX_VALUE),
                clusterId,
                (int) s.getSize("max-request-size", 16L * 1024 * 1024, 1024, Integer.MAX_VALUE - 8),
                (int) s.getSize("fetch-max-bytes", 55L * 1024 * 1024, 1024, Integer.MAX_VALUE - 8),
                s.getInt("max-inflight-requests", 32, 1, 10_000),
                s.getBoolean("auto-create-topics", true),
                s.getInt("partitions", 0, 0, 10_000),
                s.getInt("max-connections", 10_000, 1, Integer.MAX_VALUE),
                s.getDuration("group-initial-rebalance-delay", Duration.ofSeconds(3)),
                minSession,
                maxSession,
                s.getDuration("producer-state-retention", Duration.ofDays(1)),
                s.getDuration("offsets-retention", Duration.ofDays(7)),
                listeners,
                s.getDuration("idle-timeout", Duration.ofMinutes(10)),
                (int) s.getSize("max-request-size-unauthenticated", 512 * 1024, 1024, Integer.MAX_VALUE - 8),
                s.getDuration("authentication-timeout", Duration.ofSeconds(30)));
    }
}
