package io.omnibus.mqtt;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.omnibus.core.internal.ConnectionRegistry;
import io.omnibus.core.internal.DefaultBroker;
import io.vertx.core.Future;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The broker and the MQTT adapter in this JVM on an ephemeral port, for tests with real MQTT clients. */
final class TestGateway implements AutoCloseable {
    private final io.omnibus.core.harness.TestGateway gw;
    final SimpleMeterRegistry meters;
    final ConnectionRegistry connections;
    final DefaultBroker broker;
    final MqttServer mqtt;
    final int port;

    TestGateway(Map<String, Object> mqttConfig, Path dataDir) {
        this(mqttConfig, dataDir, Map.of());
    }

    TestGateway(Map<String, Object> mqttConfig, Path dataDir, Map<String, Object> brokerConfig) {
        this(mqttConfig, dataDir, brokerConfig, false);
    }

    /** With {@code nativeTransport}: on epoll, as the gateway runs (parked idle sockets need it). */
    @SuppressWarnings("unchecked")
    TestGateway(Map<String, Object> mqttConfig, Path dataDir, Map<String, Object> brokerConfig,
                boolean nativeTransport) {
        Map<String, Object> cfg = new HashMap<>(mqttConfig);
        // "users" is the gateway's top-level list; tests pass it with the MQTT settings
        Object users = cfg.remove("users");
        io.omnibus.core.harness.TestGateway.Builder builder = io.omnibus.core.harness.TestGateway.builder()
                .dataDir(dataDir).brokerConfig(brokerConfig).users((List<Object>) users);
        if (nativeTransport) {
            builder.nativeTransport();
        }
        gw = builder.adapter(new MqttAdapterFactory(), cfg).start();
        meters = gw.meters;
        connections = gw.connections;
        broker = gw.broker;
        mqtt = (MqttServer) gw.adapter("mqtt");
        port = gw.port("mqtt");
    }

    TestGateway() {
        this(Map.of(), null);
    }

    String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    static <T> T await(Future<T> f) {
        return io.omnibus.core.harness.TestGateway.await(f);
    }

    @Override
    public void close() {
        gw.close();
    }

    /** The gateway as {@code kill -9} leaves it (file store): nothing is written after this. */
    void crash() throws Exception {
        gw.crash();
    }
}
