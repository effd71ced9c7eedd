package io.omnibus.openmessaging;

import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.spi.ProtocolAdapterFactory;

/** The {@code openmessaging} protocol: the RocketMQ remoting wire over TCP, for unmodified RocketMQ clients. */
public final class OpenMessagingAdapterFactory implements ProtocolAdapterFactory<OpenMessagingConfig> {
    @Override
    public String protocol() {
        return "openmessaging";
    }

    @Override
    public OpenMessagingConfig configure(ConfigSection section) {
        return OpenMessagingConfig.read(section);
    }

    @Override
    public ProtocolAdapter create(AdapterContext context, OpenMessagingConfig config) {
        return new OpenMessagingServer(context, config);
    }

    @Override
    public java.util.List<io.omnibus.core.spi.ListenerPort> listenerPorts(OpenMessagingConfig config) {
        return config.listeners().ports();
    }
}
