package io.omnibus.mqtt;

import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.spi.ProtocolAdapterFactory;

/** The {@code mqtt} protocol: MQTT 3.1.1 and 5.0 over TCP. */
public final class MqttAdapterFactory implements ProtocolAdapterFactory<MqttConfig> {
    @Override
    public String protocol() {
        return "mqtt";
    }

    @Override
    public MqttConfig configure(ConfigSection section) {
        return MqttConfig.read(section);
    }

    @Override
    public ProtocolAdapter create(AdapterContext context, MqttConfig config) {
        return new MqttServer(context, config, context.authenticator());
    }
}
