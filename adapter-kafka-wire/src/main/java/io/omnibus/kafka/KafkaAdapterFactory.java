package io.omnibus.kafka;

import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.spi.ProtocolAdapterFactory;

/** The {@code kafka} protocol: the Kafka wire protocol over TCP, for unmodified Kafka clients. */
public final class KafkaAdapterFactory implements ProtocolAdapterFactory<KafkaConfig> {
    @Override
    public String protocol() {
        return "kafka";
    }

    @Override
    public KafkaConfig configure(ConfigSection section) {
        return KafkaConfig.read(section);
    }

    @Override
    public ProtocolAdapter create(AdapterContext context, KafkaConfig config) {
        return new KafkaServer(context, config);
    }

    @Override
    public java.util.List<io.omnibus.core.spi.ListenerPort> listenerPorts(KafkaConfig config) {
        return config.listeners().ports();
    }
}
