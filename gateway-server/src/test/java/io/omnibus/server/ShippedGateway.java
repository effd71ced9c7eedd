package io.omnibus.server;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The gateway in this JVM with the shipped {@code config/gateway.yaml}, every listener on 127.0.0.1 and an
 * ephemeral port, its data in a temporary directory: the cross-protocol tests' setup.
 */
final class ShippedGateway {
    private ShippedGateway() {
    }

    static Gateway start(Path dataDir) throws Exception {
        return start(dataDir, GatewayProcess.ROOT.resolve("config/gateway.yaml"));
    }

    /** The shipped configuration followed by {@code more} (top-level keys it does not have, such as {@code bridges}). */
    static Gateway startWith(Path dataDir, String more) throws Exception {
        return start(dataDir, configWith(dataDir.resolveSibling(dataDir.getFileName() + "-gateway.yaml"), more));
    }

    /** Writes the shipped configuration followed by {@code more} to {@code file}. */
    static Path configWith(Path file, String more) throws java.io.IOException {
        java.nio.file.Files.writeString(file, java.nio.file.Files.readString(GatewayProcess.ROOT.resolve("config/gateway.yaml"))
                + "\n" + more + "\n");
        return file;
    }

    static Gateway start(Path dataDir, Path configFile) throws Exception {
        Map<String, String> env = new HashMap<>();
        for (String protocol : List.of("MQTT", "AMQP", "KAFKA", "OPENMESSAGING", "ADMIN")) {
            env.put("OMNIBUS_" + protocol + "_PORT", "0");
            env.put("OMNIBUS_" + protocol + "_HOST", "127.0.0.1");
        }
        env.put("OMNIBUS_KAFKA_ADVERTISED_HOST", "127.0.0.1");
        env.put("OMNIBUS_MQTT_WEBSOCKET_ENABLED", "false");
        var factories = Adapters.discover(ShippedGateway.class.getClassLoader());
        GatewayConfig config = new ConfigLoader(env, factories).load(configFile, dataDir);
        return Gateway.start(config, factories).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** A connected Paho MQTT 5 client of the gateway, closed with the others. */
    static org.eclipse.paho.mqttv5.client.MqttClient mqtt(Gateway gateway, String clientId, List<AutoCloseable> clients)
            throws Exception {
        org.eclipse.paho.mqttv5.client.MqttClient c = new org.eclipse.paho.mqttv5.client.MqttClient(
                "tcp://127.0.0.1:" + gateway.port("mqtt"), clientId,
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        c.connect(new org.eclipse.paho.mqttv5.client.MqttConnectionOptions());
        clients.add(() -> {
            c.disconnect();
            c.close();
        });
        return c;
    }

    /** Closes the clients, last opened first, then stops the gateway. */
    static void stop(Gateway gateway, List<AutoCloseable> clients) throws Exception {
        for (int i = clients.size() - 1; i >= 0; i--) {
            try {
                clients.get(i).close();
            } catch (Exception ignored) {
                // already closed
            }
        }
        if (gateway != null) {
            gateway.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
