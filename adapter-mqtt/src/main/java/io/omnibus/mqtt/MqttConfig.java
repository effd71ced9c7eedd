package io.omnibus.mqtt;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.transport.Listeners;
import io.omnibus.core.transport.TlsConfig;

import java.time.Duration;
import java.util.Set;

/**
 * The {@code mqtt} section.
 *
 * @param maxPacketSize     largest packet accepted (and announced in CONNACK); larger ones close the connection
 * @param receiveMaximum    inbound QoS 1/2 publishes a client may have unacknowledged (announced in CONNACK)
 * @param maxInflight       outbound QoS 1/2 deliveries unacknowledged per connection (the client's Receive Maximum may lower it)
 * @param maxQueuedQos0     QoS 0 deliveries one subscription of a connection may have on their way to its socket (its
 *                          credit; Receive Maximum does not bound QoS 0, so max-inflight would only slow them down)
 * @param maxKeepAlive      the longest keep alive accepted; a client asking for more (or for none) gets this as Server Keep Alive
 * @param maxSessionExpiry  cap of a session's expiry interval; MQTT 3.1.1 persistent sessions get exactly this
 * @param topicAliasMaximum aliases a client may define for the topics it publishes to
 * @param maxConnections    MQTT connections at once; beyond, CONNACK refuses
 * @param maxSubscriptions  subscriptions one client may hold; more are refused in SUBACK
 * @param quotaExceeded     whether MQTT 5 clients past max-subscriptions get 0x97 (Quota exceeded) rather than 0x80
 *                          (Unspecified error): off by default, Eclipse Paho's v5 client (1.2.5) drops the connection on 0x97
 * @param outboundTopicAliases whether the server sends topic aliases to clients that allow them; off by default
 *                          because Eclipse Paho's v5 client (1.2.5) hands aliased messages to the application
 *                          with an empty topic
 * @param tls               the TLS listener (mqtts, 8883), or null
 * @param webSocketTls      secure WebSocket (wss) on its own port, or null; {@code webSocketPort} may be off (-1)
 * @param webSocketOrigins  the Origin values a browser's WebSocket handshake may carry; empty: any. A handshake
 *                          without an Origin (not from a browser) is always let through
 * @param authenticationTimeout a connection that has not sent CONNECT by then is closed; so is one whose MQTT 5
 *                          enhanced authentication has not finished by then from the server's first AUTH
 * @param parkIdleAfter     a plain TCP connection that read and wrote nothing for this long is parked: its socket stays
 *                          open and watched, without its Netty channel (about 1 KB), until the client or the server
 *                          has something for it ({@code ParkedChannel}); zero: never
 * @param webSocket         whether MQTT over WebSocket (subprotocol {@code mqtt}) listens too, on {@code webSocketPort} at {@code webSocketPath}
 */
public record MqttConfig(String host, int port, int maxPacketSize, int receiveMaximum, int maxInflight, int maxQueuedQos0,
                         Duration maxKeepAlive, Duration maxSessionExpiry, int topicAliasMaximum, int maxConnections,
                         boolean webSocket, int webSocketPort, String webSocketPath,
                         boolean outboundTopicAliases, int maxSubscriptions, boolean quotaExceeded, Listeners.Config listeners,
                         TlsConfig webSocketTls, java.util.List<String> webSocketOrigins, Duration authenticationTimeout,
                         Duration parkIdleAfter) {

    static final Set<String> KEYS = Listeners.keysWith("max-packet-size", "receive-maximum", "max-inflight", "max-queued-qos0",
            "max-keep-alive", "max-session-expiry", "topic-alias-maximum", "max-connections", "websocket",
            "outbound-topic-aliases", "max-subscriptions", "subscription-quota-reason", "authentication-timeout",
            "park-idle-after");

    /** The TLS listener, or null. */
    public TlsConfig tls() {
        return listeners.tls();
    }

    /**
     * {@code websocket.allowed-origins}: a list of origins ({@code https://app.example.com}), or one, or several in
     * one value separated by commas or spaces (as an environment variable gives them).
     */
    private static java.util.List<String> origins(ConfigSection ws) {
        Object v = ws.raw("allowed-origins");
        if (v == null) {
            return java.util.List.of();
        }
        java.util.List<String> out = new java.util.ArrayList<>();
        for (Object o : v instanceof java.util.List<?> l ? l : java.util.List.of(v)) {
            if (o instanceof java.util.Map || o instanceof java.util.List) {
                throw new ConfigException(ws.keyOf("allowed-origins"), "expected a list of origins such as https://app.example.com");
            }
            for (String origin : String.valueOf(o).split("[,\\s]+")) {
                if (!origin.isEmpty()) {
                    out.add(origin.toLowerCase(java.util.Locale.ROOT));
                }
            }
        }
        return java.util.List.copyOf(out);
    }

    public static MqttConfig read(ConfigSection s) {
        s.requireOnly(KEYS);
        Listeners.Config listeners = Listeners.read(s, 1883, 8883);
        ConfigSection ws = s.section("websocket").requireOnly(Set.of("enabled", "port", "path", "tls", "allowed-origins"));
        String path = ws.getString("path", "/mqtt");
        if (!path.startsWith("/")) {
            throw new ConfigException(ws.keyOf("path"), "must start with '/', got '" + path + "'");
        }
        return new MqttConfig(
                s.getString("host", "0.0.0.0"),
                listeners.port(),
                (int) s.getSize("max-packet-size", 1024 * 1024, 64, 256L * 1024 * 1024),
                s.getInt("receive-maximum", 1000, 1, 65_535),
                s.getInt("max-inflight", 100, 1, 65_535),
                s.getInt("max-queued-qos0", 1000, 1, 1_000_000),
                s.getDuration("max-keep-alive", Duration.ofSeconds(300)),
                s.getDuration("max-session-expiry", Duration.ofDays(7)),
                s.getInt("topic-alias-maximum", 100, 0, 65_535),
                s.getInt("max-connections", 100_000, 1, Integer.MAX_VALUE),
                ws.getBoolean("enabled", false),
                Listeners.portOrOff(ws, "port", 8083),
                path,
                s.getBoolean("outbound-topic-aliases", false),
                s.getInt("max-subscriptions", 1000, 1, 1_000_000),
                s.getChoice("subscription-quota-reason", "unspecified-error", java.util.List.of("unspecified-error",
                        "quota-exceeded")).equals("quota-exceeded"),
                listeners,
                TlsConfig.read(ws.section("tls"), 8084),
                origins(ws),
                // at least 1 s (a client on a slow link needs some), at most a day (the sweep counts in milliseconds)
                s.getDuration("authentication-timeout", Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofDays(1)),
                s.getDuration("park-idle-after", Duration.ofSeconds(5), Duration.ZERO, Duration.ofDays(1)));
    }
}
