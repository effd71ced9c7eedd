package io.omnibus.mqtt;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.omnibus.core.config.BrokerConfig;
import io.omnibus.core.internal.BrokerMetrics;
import io.omnibus.core.internal.ConnectionRegistry;
import io.omnibus.core.internal.DefaultBroker;
import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.store.MemoryMessageStore;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.file.FileMessageStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The broker and the MQTT adapter in this JVM on an ephemeral port, for tests with real MQTT clients. */
final class TestGateway implements AutoCloseable {
    final Vertx vertx = Vertx.vertx();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final ConnectionRegistry connections = new ConnectionRegistry(meters);
    final DefaultBroker broker;
    final MqttServer mqtt;
    final int port;

    TestGateway(Map<String, Object> mqttConfig, Path dataDir) {
        this(mqttConfig, dataDir, Map.of());
    }

    TestGateway(Map<String, Object> mqttConfig, Path dataDir, Map<String, Object> brokerConfig) {
        MessageStore store = dataDir == null ? new MemoryMessageStore(100_000, 64L << 20)
                : new FileMessageStore(FileMessageStore.Options.defaults(dataDir));
        broker = await(DefaultBroker.start(vertx, store, BrokerConfig.read(new ConfigSection("", brokerConfig)),
                new BrokerMetrics(meters)));
        java.util.Map<String, Object> cfg = new java.util.HashMap<>(mqttConfig);
        cfg.putIfAbsent("port", 0);
        cfg.putIfAbsent("host", "127.0.0.1");
        // "users" is the gateway's top-level list; tests pass it with the MQTT settings
        Object users = cfg.remove("users");
        io.omnibus.core.spi.Authenticator auth = users == null ? io.omnibus.core.spi.Authenticator.ALLOW_ALL
                : io.omnibus.core.config.StaticUsers.read(new ConfigSection("", Map.of("users", users)).sections("users"));
        MqttConfig config = MqttConfig.read(new ConfigSection("mqtt", cfg));
        mqtt = (MqttServer) new MqttAdapterFactory().create(AdapterContext.of(vertx, broker, connections, meters, auth),
                config);
        await(mqtt.start());
        port = (Integer) mqtt.status().get("port");
    }

    TestGateway() {
        this(Map.of(), null);
    }

    String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("future failed: " + e, e);
        }
    }

    @Override
    public void close() {
        await(mqtt.stop());
        await(broker.close());
        await(vertx.close());
    }
}
