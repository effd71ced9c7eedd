package sample.backend;

import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jms.config.JmsListenerEndpointRegistry;
import org.springframework.jms.listener.DefaultMessageListenerContainer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sample against a real gateway (bin/omnibus, free ports, a temporary data directory): MQTT 5 devices (Paho)
 * publish readings with a response topic; the Spring Boot back end, on Spring Boot's default transacted listener
 * container and no broker-specific setting, answers each; the devices get the answers, correlated.
 */
@Timeout(180)
class ReadingsBackendIT {
    private static final Path ROOT = Path.of("../../..").toAbsolutePath().normalize();

    @TempDir
    Path dir;
    private Process gateway;
    private ConfigurableApplicationContext backend;
    private MqttClient device;

    @AfterEach
    void stop() throws Exception {
        if (device != null && device.isConnected()) {
            device.disconnect();
        }
        if (backend != null) {
            backend.close();
        }
        if (gateway != null) {
            gateway.destroy();
            if (!gateway.waitFor(30, TimeUnit.SECONDS)) {
                gateway.destroyForcibly();
            }
        }
    }

    /** The gateway's ready line once written whole (up to its line break), else null. */
    private String readyLine() {
        String log = log();
        int at = log.indexOf("omnibus: ready");
        int end = at < 0 ? -1 : log.indexOf('\n', at);
        return end < 0 ? null : log.substring(at, end);
    }

    /** A listener's port in the gateway's ready line ("mqtt {port=N}", "admin http://host:N"). */
    private static int port(String ready, String listener) {
        Matcher m = Pattern.compile(listener.equals("admin") ? "admin https?://[^:]+:(\\d+)"
                : Pattern.quote(listener) + " \\{port=(\\d+)").matcher(ready);
        assertThat(m.find()).as(ready).isTrue();
        return Integer.parseInt(m.group(1));
    }

    @Test
    void aTransactedJmsListenerAnswersMqttDevicesOnTheirResponseTopics() throws Exception {
        // every listener on a port the system picks, read back from the ready line: a port picked here before the
        // gateway starts could be taken in between by some client's outgoing connection
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/omnibus").toString(), "start", "--data-dir",
                dir.resolve("data").toString()).directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("gateway.log").toFile());
        Map<String, String> env = pb.environment();
        env.put("OMNIBUS_NO_BUILD", "1");
        env.put("OMNIBUS_KAFKA_ENABLED", "false");
        env.put("OMNIBUS_OPENMESSAGING_ENABLED", "false");
        env.put("OMNIBUS_MQTT_WEBSOCKET_ENABLED", "false");
        for (String p : List.of("MQTT", "AMQP", "ADMIN")) {
            env.put("OMNIBUS_" + p + "_HOST", "127.0.0.1");
            env.put("OMNIBUS_" + p + "_PORT", "0");
        }
        gateway = pb.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> readyLine() != null || !gateway.isAlive());
        assertThat(gateway.isAlive()).as(log()).isTrue();
        String ready = readyLine();
        int mqtt = port(ready, "mqtt");
        int amqp = port(ready, "amqp");
        int admin = port(ready, "admin");

        backend = new SpringApplicationBuilder(ReadingsBackend.class).web(WebApplicationType.NONE)
                .run("--gateway.amqp-url=amqp://127.0.0.1:" + amqp);
        for (var c : backend.getBean(JmsListenerEndpointRegistry.class).getListenerContainers()) {
            assertThat(((DefaultMessageListenerContainer) c).isSessionTransacted())
                    .as("Spring Boot's default container factory is transacted").isTrue();
        }
        // the listener's queue exists once its consumer attached: readings published from then on wait for it
        HttpClient http = HttpClient.newHttpClient();
        java.util.concurrent.atomic.AtomicReference<String> seen = new java.util.concurrent.atomic.AtomicReference<>();
        await("the queue readings/# with a consumer, in the admin API").atMost(Duration.ofSeconds(60)).until(() -> {
                    seen.set(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/api/subscriptions"))
                            .build(), HttpResponse.BodyHandlers.ofString()).body());
                    String body = seen.get();
                    int at = body.indexOf("\"readings/#\"");
                    return at >= 0 && body.substring(at, body.indexOf('}', at))
                            .matches("(?s).*\"consumers\"\\s*:\\s*[1-9].*");
                });

        Map<String, String> answers = new ConcurrentHashMap<>();
        device = new MqttClient("tcp://127.0.0.1:" + mqtt, "greenhouse-7", new MemoryPersistence());
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        device.connect(options);
        // Paho v5's subscribe(String, int, listener) overload recurses into itself: the array form
        device.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                new org.eclipse.paho.mqttv5.common.MqttSubscription("devices/greenhouse-7/answers", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(topic, m) -> answers.put(
                        new String(m.getProperties().getCorrelationData(), StandardCharsets.UTF_8),
                        new String(m.getPayload(), StandardCharsets.UTF_8))});
        publish("21.5", "c-1");
        publish("retry-me", "c-2");

        await().atMost(Duration.ofSeconds(60)).until(() -> answers.size() == 2);
        assertThat(answers.get("c-1")).isEqualTo("{\"reading\":\"21.5\",\"attempt\":1,\"status\":\"stored\"}");
        assertThat(answers.get("c-2")).as("rolled back once, then taken")
                .isEqualTo("{\"reading\":\"retry-me\",\"attempt\":2,\"status\":\"stored\"}");
    }

    private void publish(String reading, String correlation) throws Exception {
        MqttMessage m = new MqttMessage(reading.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        MqttProperties props = new MqttProperties();
        props.setPayloadFormat(true);
        props.setResponseTopic("devices/greenhouse-7/answers");
        props.setCorrelationData(correlation.getBytes(StandardCharsets.UTF_8));
        m.setProperties(props);
        device.publish("readings/greenhouse-7", m);
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("gateway.log"));
        } catch (IOException e) {
            return "";
        }
    }
}
