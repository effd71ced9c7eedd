package io.omnibus.server;

import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What the Kafka store's tests check against each kind of cluster: a backlog outlives its node. */
final class NewNodeBacklog {
    private NewNodeBacklog() {
    }

    /**
     * A gateway on {@code config} (its MQTT listener on {@code mqtt}) gets {@code count} PUBACKed QoS 1 messages on
     * {@code topic}/t for a persistent session, offline, then dies ({@code kill -9}); a second gateway on the same
     * config with an empty data directory (under {@code dataDirs}) delivers every one of them, once, to that session.
     */
    static void check(Path config, int mqtt, Path dataDirs, String topic, int count) throws Exception {
        MqttConnectOptions persistent = new MqttConnectOptions();
        persistent.setCleanSession(false);
        String uri = "tcp://127.0.0.1:" + mqtt;
        try (GatewayProcess gw = start(config, dataDirs.resolve("first"))) {
            gw.awaitReady();
            MqttClient sub = new MqttClient(uri, topic + "-sub", new MemoryPersistence());
            sub.connect(persistent);
            sub.subscribe(topic + "/#", 1);
            sub.disconnect();
            MqttClient pub = new MqttClient(uri, topic + "-pub", new MemoryPersistence());
            pub.connect();
            for (int i = 0; i < count; i++) {
                pub.publish(topic + "/t", ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false); // PUBACKed: in Kafka
            }
            pub.disconnect();
            gw.process.destroyForcibly();
            gw.process.waitFor(30, TimeUnit.SECONDS);
        }
        // a new node, nothing on its disk: the session and its backlog come back through the same client settings
        List<String> got = new CopyOnWriteArrayList<>();
        try (GatewayProcess gw = start(config, dataDirs.resolve("second"))) {
            gw.awaitReady();
            MqttClient sub = new MqttClient(uri, topic + "-sub", new MemoryPersistence());
            sub.setCallback(Received.mqtt(got));
            sub.connect(persistent);
            await().atMost(Duration.ofSeconds(60)).until(() -> got.size() >= count);
            assertThat(got).hasSize(count).doesNotHaveDuplicates();
            sub.disconnect();
        }
    }

    private static GatewayProcess start(Path config, Path data) throws Exception {
        return GatewayProcess.run(Map.of(), "start", "--config", config.toString(), "--data-dir", data.toString());
    }
}
