package io.omnibus.core.spi;

import java.util.Locale;

/** How a subscription hands its messages to the consumers attached to it. */
public enum DispatchPolicy {
    /** Consumers with credit take turns. */
    ROUND_ROBIN("round-robin"),
    /** The next message goes to the consumer with the fewest unacknowledged messages that has credit. */
    FAIR("fair"),
    /** Messages with the same key go to the same consumer, in order; messages without a key go round-robin. */
    KEY_ORDERED("key-ordered"),
    /** Nothing is pushed; consumers ask with {@link Consumer#pull}. */
    PULL("pull");

    private final String configName;

    DispatchPolicy(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration files and the admin API. */
    public String configName() {
        return configName;
    }

    /** Parses a configuration name; null when there is no such policy. */
    public static DispatchPolicy fromConfigName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (DispatchPolicy p : values()) {
            if (p.configName.equals(n)) {
                return p;
            }
        }
        return null;
    }
}
