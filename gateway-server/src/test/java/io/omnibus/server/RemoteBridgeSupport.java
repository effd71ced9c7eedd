package io.omnibus.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.awaitility.Awaitility.await;

/** What the bridge tests share: the admin API's view of a bridge, a publishing device, reading a Kafka log whole. */
final class RemoteBridgeSupport {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private RemoteBridgeSupport() {
    }

    static JsonObject bridge(int adminPort, String name) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/api/bridges")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (Object o : new JsonArray(body)) {
            JsonObject b = (JsonObject) o;
            if (b.getString("name").equals(name)) {
                return b;
            }
        }
        throw new AssertionError("no bridge " + name + " in " + body);
    }

    static JsonObject control(int adminPort, String name, String action) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
                + "/api/bridges/" + name + "/" + action)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError(action + " " + name + ": " + r.statusCode() + " " + r.body());
        }
        return new JsonObject(r.body());
    }

    static void awaitState(int adminPort, String name, String state) {
        await().atMost(Duration.ofSeconds(60)).until(() -> bridge(adminPort, name).getString("state").equals(state));
    }

    /** A Paho MQTT 5 client of {@code port}. */
    static MqttClient device(int port, String clientId) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, clientId, new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        c.connect(o);
        return c;
    }

    static void publish(MqttClient device, String topic, String payload) throws Exception {
        MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        device.publish(topic, m);
    }

    /** Every record of a Kafka topic from its start, read until {@code done} holds for what was read. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic,
                                                        Predicate<List<ConsumerRecord<byte[], byte[]>>> done) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
                "group.id", "reader-" + System.nanoTime(), "auto.offset.reset", "earliest", "enable.auto.commit", "false"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
                return done.test(out);
            });
        }
        return out;
    }

    static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
