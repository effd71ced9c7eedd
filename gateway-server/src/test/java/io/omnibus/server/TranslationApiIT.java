package io.omnibus.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Translation you can see: {@code /api/translation} (a pair's field table), {@code /api/messages/.../as/PROTOCOL}
 * (a stored message as each protocol delivers it), the loss counters on {@code /metrics}, and the same from the CLI.
 */
@Timeout(120)
class TranslationApiIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    private Gateway gateway;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        ShippedGateway.stop(gateway, closing);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aPairsTableAndAStoredMessageAsEveryProtocolAndTheLossesCounted() throws Exception {
        gateway = ShippedGateway.start(dir.resolve("data"));
        HttpResponse<String> pair = get("/api/translation?from=mqtt5&to=kafka");
        assertThat(pair.statusCode()).isEqualTo(200);
        JsonArray rows = new JsonArray(pair.body());
        JsonObject contentType = rows.stream().map(JsonObject.class::cast)
                .filter(r -> r.getString("field").equals("content-type")).findFirst().orElseThrow();
        assertThat(contentType.getString("result")).isEqualTo("converted");
        assertThat(contentType.getJsonObject("to").getString("how")).contains("content-type");
        assertThat(get("/api/translation?from=mqtt5&to=nats").statusCode()).isEqualTo(400);
        assertThat(new JsonArray(get("/api/translation").body())).hasSizeGreaterThan(10);

        MqttClient device = ShippedGateway.mqtt(gateway, "shown", closing);
        MqttMessage m = new MqttMessage("21.5".getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        MqttProperties p = new MqttProperties();
        p.setContentType("text/plain");
        p.setPayloadFormat(true);
        p.setUserProperties(List.of(new UserProperty("unit", "C")));
        m.setProperties(p);
        device.publish("plant/line 4/temp", m);

        String id = URLEncoder.encode("plant/line 4/temp@0:0", StandardCharsets.UTF_8).replace("+", "%20");
        JsonObject kafka = new JsonObject(get("/api/messages/" + id + "/as/kafka").body()).getJsonObject("as");
        assertThat(kafka.getString("topic")).isEqualTo("plant.line_x204.temp");
        assertThat(kafka.getJsonArray("headers").stream().map(JsonObject.class::cast).map(h -> h.getString("name")))
                .containsExactly("unit", "content-type");
        assertThat(kafka.getJsonObject("value").getString("text")).isEqualTo("21.5");
        JsonObject amqp = new JsonObject(get("/api/messages/" + id + "/as/amqp").body()).getJsonObject("as");
        assertThat(amqp.getJsonObject("properties").getString("content-type")).isEqualTo("text/plain");
        assertThat(amqp.getJsonObject("application-properties").getString("unit")).isEqualTo("C");
        assertThat(amqp.getJsonObject("body").getString("kind")).startsWith("amqp-value");
        JsonObject rocket = new JsonObject(get("/api/messages/" + id + "/as/rocketmq").body()).getJsonObject("as");
        assertThat(rocket.getString("topic")).isEqualTo("plant|line_x204|temp");
        assertThat(rocket.getJsonObject("properties").getString("unit")).isEqualTo("C");
        JsonObject mqtt3 = new JsonObject(get("/api/messages/" + id + "/as/mqtt3").body()).getJsonObject("as");
        assertThat(mqtt3.getInteger("qos")).isEqualTo(1);
        assertThat(mqtt3.containsKey("properties")).isFalse(); // MQTT 3.1.1 has none
        assertThat(get("/api/messages/" + id + "/as/nats").statusCode()).isEqualTo(400);
        assertThat(get("/api/messages/" + URLEncoder.encode("plant/line 4/temp@0:9", StandardCharsets.UTF_8).replace("+", "%20")
                + "/as/kafka").statusCode()).isEqualTo(404);
        assertThat(get("/api/translation?from=mqtt5").statusCode()).isEqualTo(400);
        device.publish("100%/done", m); // a '%' in an address, encoded in the path
        org.awaitility.Awaitility.await().until(() -> get("/api/messages/100%25%2Fdone@0:0/as/kafka").statusCode() == 200);
        assertThat(new JsonObject(get("/api/messages/100%25%2Fdone@0:0/as/kafka").body()).getJsonObject("as")
                .getString("topic")).isEqualTo("100_x25.done");
        assertThat(get("/api/messages/nonsense/as/kafka").statusCode()).isEqualTo(400);

        // an MQTT 3.1.1 subscriber cannot get the user property, content type or payload format: counted
        try (org.eclipse.paho.client.mqttv3.MqttClient v3 = new org.eclipse.paho.client.mqttv3.MqttClient(
                "tcp://127.0.0.1:" + gateway.port("mqtt"), "v3-sub", new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence())) {
            v3.connect();
            java.util.concurrent.CountDownLatch got = new java.util.concurrent.CountDownLatch(1);
            v3.subscribe("plant/+/temp", 1, (t, msg) -> got.countDown());
            device.publish("plant/line 4/temp", m);
            assertThat(got.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            v3.disconnect();
        }
        String metrics = get("/metrics").body();
        assertThat(metrics).contains("omnibus_translation_losses_total{field=\"headers\",from=\"mqtt\",to=\"mqtt3\"} 1.0")
                .contains("omnibus_translation_losses_total{field=\"content-type\",from=\"mqtt\",to=\"mqtt3\"} 1.0");
    }

    @Test
    void theCliPrintsAPairsTable() {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("translation", "--from", "amqp", "--to", "mqtt5")).isZero();
        assertThat(out.toString()).contains("| priority | native: header `priority` | lost: no priority | lost |")
                .contains("| headers |");
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        assertThat(cli.execute("translation", "--from", "amqp", "--to", "x")).isNotZero();
        assertThat(cli.execute("translation", "--from", "amqp")).isNotZero();
        assertThat(err.toString()).contains("must both be one of").doesNotContain("Exception");
    }
}
