package io.omnibus.core.spi;

/**
 * Found with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/io.omnibus.core.spi.ProtocolAdapterFactory}): a jar on the classpath
 * adds a protocol.
 *
 * @param <C> the adapter's configuration type, read from its section of the configuration
 */
public interface ProtocolAdapterFactory<C> {
    /** The protocol's name and the configuration section it reads: {@code mqtt}, {@code amqp}, {@code kafka}, {@code openmessaging}. */
    String protocol();

    /** Reads and validates the adapter's section; throws {@link ConfigException} naming the key. */
    C configure(ConfigSection section);

    ProtocolAdapter create(AdapterContext context, C config);

    /**
     * The ports {@code config} has the adapter listen on, named as its {@link ProtocolAdapter#status()} names them once
     * bound. A standby node of a store shared by several nodes listens on them and passes each connection to the
     * active node's port of the same name; none by default.
     */
    default java.util.List<ListenerPort> listenerPorts(C config) {
        return java.util.List.of();
    }
}
