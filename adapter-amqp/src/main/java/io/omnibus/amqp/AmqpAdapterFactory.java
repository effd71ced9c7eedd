package io.omnibus.amqp;

import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.spi.ProtocolAdapterFactory;

/** The {@code amqp} protocol: AMQP 1.0 over TCP. */
public final class AmqpAdapterFactory implements ProtocolAdapterFactory<AmqpConfig> {
    @Override
    public String protocol() {
        return "amqp";
    }

    @Override
    public AmqpConfig configure(ConfigSection section) {
        return AmqpConfig.read(section);
    }

    @Override
    public ProtocolAdapter create(AdapterContext context, AmqpConfig config) {
        return new AmqpServer(context, config);
    }

    @Override
    public java.util.List<io.omnibus.core.spi.ListenerPort> listenerPorts(AmqpConfig config) {
        return config.listeners().ports();
    }
}
