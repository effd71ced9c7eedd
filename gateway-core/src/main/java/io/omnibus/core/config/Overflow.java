package io.omnibus.core.config;

/** What a subscription does with a new message when its backlog is at {@code max-pending}. Each is counted. */
public enum Overflow {
    /** Drop the oldest waiting message to make room (MQTT brokers' usual choice for offline sessions). */
    DROP_OLDEST("drop-oldest"),
    /** Drop the new message. */
    DROP_NEWEST("drop-newest"),
    /**
     * Keep it, but hold the publisher's acknowledgement until the backlog is below {@code max-pending} again:
     * producers slow down to the consumers' pace instead of losing messages.
     */
    BLOCK("block");

    private final String configName;

    Overflow(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }
}
