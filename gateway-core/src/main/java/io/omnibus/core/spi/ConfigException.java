package io.omnibus.core.spi;

/** A configuration value that is missing, malformed or out of range; names the key. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public ConfigException(String key, String problem) {
        super(key + ": " + problem);
        this.key = key;
    }

    /** The full dotted key, e.g. {@code mqtt.port}. */
    public String key() {
        return key;
    }
}
