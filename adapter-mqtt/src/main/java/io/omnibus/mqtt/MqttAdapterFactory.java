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

    @Override
    public java.util.List<io.omnibus.core.spi.ListenerPort> listenerPorts(MqttConfig config) {
        java.util.List<io.omnibus.core.spi.ListenerPort> out = new java.util.ArrayList<>(config.listeners().ports());
        if (config.webSocket() && config.webSocketPort() >= 0) {
            out.add(new io.omnibus.core.spi.ListenerPort("websocket-port", config.host(), config.webSocketPort(), true));
        }
        if (config.webSocket() && config.webSocketTls() != null) {
            out.add(new io.omnibus.core.spi.ListenerPort("websocket-tls-port", config.host(),
                    config.webSocketTls().port(), true));
        }
        return out;
    }
}
