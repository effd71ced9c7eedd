package io.omnibus.amqp;

import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.transport.Listeners;
import io.omnibus.core.transport.TlsConfig;

import java.time.Duration;
import java.util.Set;

/**
 * The {@code amqp} section.
 *
 * @param maxFrameSize   largest frame accepted (announced in open); a larger one ends the connection with
 *                       {@code amqp:connection:framing-error}
 * @param channelMax     highest channel number, so sessions per connection are at most {@code channelMax + 1}
 * @param idleTimeout    announced in open; a client silent for this long is closed
 *                       ({@code amqp:resource-limit-exceeded}); heartbeats go out as the client asks. 0: none
 * @param linkCredit     credit granted to each link a client sends on; renewed as the store accepts messages
 * @param maxConnections AMQP connections at once; more are closed at once
 * @param maxLinks       links (senders and receivers together) one connection may have open
 * @param maxTransactions transactions one connection may have declared and not yet discharged
 */
public record AmqpConfig(String host, int port, int maxFrameSize, int channelMax, Duration idleTimeout, int linkCredit,
                         int maxConnections, int maxLinks, int maxTransactions, Listeners.Config listeners,
                         java.time.Duration authenticationTimeout) {

    static final Set<String> KEYS = Listeners.keysWith("max-frame-size", "channel-max", "idle-timeout",
            "link-credit", "max-connections", "max-links", "max-transactions", "authentication-timeout");

    /** The TLS listener, or null. */
    public TlsConfig tls() {
        return listeners.tls();
    }

    public static AmqpConfig read(ConfigSection s) {
        s.requireOnly(KEYS);
        Listeners.Config listeners = Listeners.read(s, 5672, 5671);
        return new AmqpConfig(
                s.getString("host", "0.0.0.0"),
                listeners.port(),
                (int) s.getSize("max-frame-size", 128 * 1024, 512, 64L * 1024 * 1024),
                s.getInt("channel-max", 255, 0, 65_535),
                s.getDuration("idle-timeout", Duration.ofSeconds(60)),
                s.getInt("link-credit", 500, 1, 100_000),
                s.getInt("max-connections", 10_000, 1, Integer.MAX_VALUE),
                s.getInt("max-links", 1000, 1, 1_000_000),
                s.getInt("max-transactions", 100, 1, 1_000_000),
                listeners,
                s.getDuration("authentication-timeout", java.time.Duration.ofSeconds(30)));
    }
}
