package io.omnibus.openmessaging;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.transport.Listeners;
import io.omnibus.core.transport.TlsConfig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The {@code openmessaging} section: the RocketMQ remoting listener (name server and broker on one port).
 *
 * @param advertisedHost          the host route answers give clients as the broker address; never {@code 0.0.0.0}
 * @param advertisedPort          the port they give; 0: the port bound
 * @param brokerName              the broker name in route answers and message queues
 * @param clusterName             the cluster name in route answers
 * @param maxFrameSize            largest frame; a larger one closes the connection (RocketMQ's 16 MiB default)
 * @param maxInflightRequests     requests one connection may have unanswered (pulls not included); beyond, the
 *                                connection is not read
 * @param maxConnections          remoting connections at once; more are closed at once
 * @param autoCreateTopics        whether a route lookup or a send creates the topic it names
 * @param queues                  queues of topics made that way; 0: the address rule's partition count
 * @param maxHeldPulls            pulls one connection may have held (waiting for messages) at once; more are
 *                                answered at once. Held pulls do not count as in-flight requests
 * @param maxSuspend              longest a pull is held waiting for messages, whatever the client asks
 * @param pullMaxBytes            most message bytes one pull answer carries (the first message always goes)
 * @param maxReconsumeTimes       redeliveries through the retry topic before a message goes to the group's
 *                                dead-letter topic, when the consumer does not say
 * @param delayLevels             the delays of levels 1, 2, ... (RocketMQ's {@code messageDelayLevel})
 * @param maxDelay                the furthest in the future a deliver time may be (RocketMQ 5's timerMaxDelaySec)
 * @param maxBatchMessages        messages one batch send may hold
 * @param transactionTimeout      a half message left unresolved this long gets its first check-back
 * @param transactionCheckInterval time between further check-backs
 * @param transactionMaxChecks    check-backs before an unresolved half message is rolled back
 * @param clientExpiry            a client that sent no heartbeat for this long is forgotten
 * @param lockExpiry              how long an orderly consumer's queue lock lasts unless renewed
 */
public record OpenMessagingConfig(String host, int port, String advertisedHost, int advertisedPort, String brokerName,
                                  String clusterName, int maxFrameSize, int maxInflightRequests, int maxConnections,
                                  boolean autoCreateTopics, int queues, int maxHeldPulls, Duration maxSuspend,
                                  int pullMaxBytes, int maxReconsumeTimes, List<Duration> delayLevels, Duration maxDelay,
                                  int maxBatchMessages, Duration transactionTimeout,
                                  Duration transactionCheckInterval, int transactionMaxChecks, Duration clientExpiry,
                                  Duration lockExpiry, Listeners.Config listeners, Duration idleTimeout) {

    static final Set<String> KEYS = Listeners.keysWith("advertised-host", "advertised-port", "broker-name",
            "cluster-name", "max-frame-size", "max-inflight-requests", "max-connections", "auto-create-topics", "queues",
            "max-held-pulls", "max-suspend", "pull-max-bytes", "max-reconsume-times", "delay-levels", "max-delay",
            "max-batch-messages", "transaction-timeout",
            "transaction-check-interval", "transaction-max-checks", "client-expiry", "lock-expiry", "idle-timeout");
    static final String DEFAULT_DELAY_LEVELS = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

    /** The TLS listener, or null. */
    public TlsConfig tls() {
        return listeners.tls();
    }

    public static OpenMessagingConfig read(ConfigSection s) {
        s.requireOnly(KEYS);
        Listeners.Config listeners = Listeners.read(s, 9876, 9877);
        String host = s.getString("host", "0.0.0.0");
        String advertised = s.getAdvertisedHost("advertised-host", host, "127.0.0.1");
        String brokerName = s.getString("broker-name", "omnibus");
        if (!brokerName.matches("[a-zA-Z0-9_-]{1,127}")) {
            throw new ConfigException(s.keyOf("broker-name"), "must be 1 to 127 letters, digits, '_' or '-'");
        }
        return new OpenMessagingConfig(
                host,
                listeners.port(),
                advertised,
                s.getInt("advertised-port", 0, 0, 65_535),
                brokerName,
                s.getString("cluster-name", "OmnibusCluster"),
                (int) s.getSize("max-frame-size", 16L * 1024 * 1024, 1024, Integer.MAX_VALUE - 8),
                s.getInt("max-inflight-requests", 256, 1, 100_000),
                s.getInt("max-connections", 10_000, 1, Integer.MAX_VALUE),
                s.getBoolean("auto-create-topics", true),
                s.getInt("queues", 0, 0, Routing.MAX_QUEUES),
                s.getInt("max-held-pulls", 1024, 0, 1_000_000),
                s.getDuration("max-suspend", Duration.ofSeconds(30)),
                (int) s.getSize("pull-max-bytes", 4L * 1024 * 1024, 1024, Integer.MAX_VALUE - 8),
                s.getInt("max-reconsume-times", 16, 0, 10_000),
                delayLevels(s),
                s.getDuration("max-delay", Duration.ofDays(3)),
                s.getInt("max-batch-messages", 10_000, 1, 1_000_000),
                s.getDuration("transaction-timeout", Duration.ofSeconds(6)),
                s.getDuration("transaction-check-interval", Duration.ofSeconds(60)),
                s.getInt("transaction-max-checks", 15, 1, 10_000),
                s.getDuration("client-expiry", Duration.ofSeconds(120)),
                s.getDuration("lock-expiry", Duration.ofSeconds(60)),
                listeners,
                s.getDuration("idle-timeout", java.time.Duration.ofSeconds(120)));
    }

    private static List<Duration> delayLevels(ConfigSection s) {
        String text = s.getString("delay-levels", DEFAULT_DELAY_LEVELS).trim();
        List<Duration> out = new ArrayList<>();
        for (String part : text.split("\\s+")) {
            Duration d = new ConfigSection(s.path(), java.util.Map.of("delay-levels", part)).getDuration("delay-levels", null);
            if (d == null || d.isZero() || d.isNegative()) {
                throw new ConfigException(s.keyOf("delay-levels"), "'" + part + "' is not a positive duration");
            }
            out.add(d);
        }
        return List.copyOf(out);
    }

    /** The delay of a RocketMQ delay level (1-based), the last level for anything above it. */
    Duration delayOf(int level) {
        return delayLevels.get(Math.min(level, delayLevels.size()) - 1);
    }
}
