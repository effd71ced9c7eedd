package io.omnibus.server;

import io.vertx.core.json.JsonObject;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Bridges to and from Mosquitto (Debian's broker, in a child process): out read by mosquitto_sub, in to a Qpid JMS
 * consumer of the gateway, and a publish Mosquitto's ACL refuses dead-lettered with Mosquitto's reason.
 */
@Timeout(180)
class MosquittoRemoteIT {
    @TempDir
    Path dir;
    /** Remote brokers and processes: closed after the gateway. */
    private final List<AutoCloseable> closing = new ArrayList<>();
    /** The gateway's clients: closed before it. */
    private final List<AutoCloseable> clients = new ArrayList<>();
    private Gateway gateway;

    @AfterEach
    void tearDown() throws Exception {
        ShippedGateway.stop(gateway, clients);
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private RemoteBroker mosquitto(String extra) throws Exception {
        RemoteBroker m = RemoteBroker.mosquitto(dir.resolve("mosquitto"), RemoteBroker.freePort(), extra);
        closing.add(m);
        return m;
    }

    private Process run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        closing.add(p::destroyForcibly);
        return p;
    }

    /** A persistent mosquitto_sub session on the remote: made now, read later with {@link #read}. */
    private void subscribeOnRemote(RemoteBroker m, String filter) throws Exception {
        Process p = run("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(m.port), "-V", "mqttv5", "-q", "1",
                "-c", "-i", "reader-" + filter.replaceAll("[^a-z]", ""), "-x", "3600", "-t", filter, "-E");
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
    }

    private List<String> read(RemoteBroker m, String filter, int count) throws Exception {
        Process p = run("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(m.port), "-V", "mqttv5", "-q", "1",
                "-c", "-i", "reader-" + filter.replaceAll("[^a-z]", ""), "-x", "3600", "-t", filter, "-C", Integer.toString(count), "-W", "60",
                "-F", "%t|%p|%C|%P");
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void messagesPublishedHereReachMosquittoSubWithTheirProperties() throws Exception {
        RemoteBroker m = mosquitto("");
        subscribeOnRemote(m, "sensors/#");
        subscribeOnRemote(m, "legacy/#");
        gateway = ShippedGateway.startWith(dir.resolve("data"), """
                bridges:
                  - name: to-mosquitto
                    direction: out
                    local: "sensors/#"
                    remote:
                      url: mqtt://127.0.0.1:%d
                      qos: 1
                  - name: to-mosquitto-v3
                    direction: out
                    local: "legacy/#"
                    remote:
                      url: mqtt://127.0.0.1:%d
                      version: 3
                """.formatted(m.port, m.port));
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "to-mosquitto", "CONNECTED");
        MqttClient device = RemoteBridgeSupport.device(gateway.port("mqtt"), "device-1");
        clients.add(() -> device.disconnectForcibly(0, 1000));
        MqttMessage reading = new MqttMessage("{\"t\":21.5}".getBytes(StandardCharsets.UTF_8));
        reading.setQos(1);
        MqttProperties props = new MqttProperties();
        props.setContentType("application/json");
        props.setUserProperties(List.of(new UserProperty("unit", "C")));
        reading.setProperties(props);
        device.publish("sensors/kitchen", reading);
        for (int i = 0; i < 20; i++) {
            RemoteBridgeSupport.publish(device, "sensors/hall", "r" + i);
        }
        List<String> got = read(m, "sensors/#", 21);
        assertThat(got).hasSize(21);
        assertThat(got.get(0)).isEqualTo("sensors/kitchen|{\"t\":21.5}|application/json|unit:C");
        assertThat(got.subList(1, 21)).extracting(l -> l.split("\\|")[1])
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 20).mapToObj(i -> "r" + i).toList());
        await().untilAsserted(() -> {
            JsonObject b = RemoteBridgeSupport.bridge(gateway.adminPort(), "to-mosquitto");
            assertThat(b.getLong("forwarded")).isEqualTo(21);
            assertThat(b.getLong("lag")).isZero();
            assertThat(b.getLong("failed")).isZero();
        });

        // paused from the admin API: the bridge lets go of its connection, messages wait in the log as its lag
        assertThat(RemoteBridgeSupport.control(gateway.adminPort(), "to-mosquitto", "pause").getString("state")).isEqualTo("PAUSED");
        for (int i = 0; i < 5; i++) {
            RemoteBridgeSupport.publish(device, "sensors/hall", "later" + i);
        }
        await().untilAsserted(() -> assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "to-mosquitto").getLong("lag")).isEqualTo(5));
        RemoteBridgeSupport.control(gateway.adminPort(), "to-mosquitto", "resume");
        assertThat(read(m, "sensors/#", 5)).extracting(l -> l.split("\\|")[1])
                .containsExactly("later0", "later1", "later2", "later3", "later4");

        // an MQTT 3.1.1 remote cannot carry the content type: counted as that bridge's loss
        device.publish("legacy/kitchen", reading);
        assertThat(read(m, "legacy/#", 1)).containsExactly("legacy/kitchen|{\"t\":21.5}||");
        await().untilAsserted(() -> assertThat(metrics(gateway.adminPort()))
                .contains("omnibus_translation_losses_total{field=\"content-type\",from=\"mqtt\",to=\"mqtt3\"} 1.0"));
    }

    private static String metrics(int adminPort) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void overMutualTlsTheBridgeVerifiesMosquittoAndMosquittoVerifiesTheBridge() throws Exception {
        Path tls = TestCertificates.make(dir.resolve("tls"));
        int tlsPort = RemoteBroker.freePort();
        // the plain listener is mosquitto_sub's; the bridge gets the TLS one, which wants a client certificate
        RemoteBroker m = mosquitto("per_listener_settings false\nlistener " + tlsPort + " 127.0.0.1\ncafile " + tls.resolve("ca.pem")
                + "\ncertfile " + tls.resolve("server.pem") + "\nkeyfile " + tls.resolve("server.key")
                + "\nrequire_certificate true\n");
        subscribeOnRemote(m, "secure/#");
        gateway = ShippedGateway.startWith(dir.resolve("data"), """
                bridges:
                  - name: over-tls
                    direction: out
                    local: "secure/#"
                    remote:
                      url: mqtts://127.0.0.1:%d
                      tls: {ca-file: "%s", cert-file: "%s", key-file: "%s"}
                  - name: without-client-certificate
                    direction: out
                    local: "nowhere/#"
                    reconnect: {initial: 100ms, max: 200ms}
                    remote:
                      url: mqtts://127.0.0.1:%d
                      tls: {ca-file: "%s"}
                """.formatted(tlsPort, tls.resolve("ca.pem"), tls.resolve("client.pem"), tls.resolve("client.key"),
                tlsPort, tls.resolve("ca.pem")));
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "over-tls", "CONNECTED");
        MqttClient device = RemoteBridgeSupport.device(gateway.port("mqtt"), "device-tls");
        clients.add(() -> device.disconnectForcibly(0, 1000));
        RemoteBridgeSupport.publish(device, "secure/door", "closed");
        assertThat(read(m, "secure/#", 1)).containsExactly("secure/door|closed||");
        // without a client certificate Mosquitto refuses the handshake: the bridge backs off and says why
        await().untilAsserted(() -> {
            JsonObject b = RemoteBridgeSupport.bridge(gateway.adminPort(), "without-client-certificate");
            assertThat(b.getString("state")).isIn("BACKING_OFF", "CONNECTING");
            assertThat(b.getLong("reconnects")).isGreaterThanOrEqualTo(2);
            assertThat(b.getString("lastError")).isNotBlank();
        });
    }

    @Test
    void messagesFromMosquittoReachAJmsConsumerHere() throws Exception {
        RemoteBroker m = mosquitto("");
        gateway = ShippedGateway.startWith(dir.resolve("data"), """
                bridges:
                  - name: from-mosquitto
                    direction: in
                    local: "plant/{address}"
                    remote:
                      url: mqtt://127.0.0.1:%d
                      address: "devices/+/telemetry"
                """.formatted(m.port));
        Connection jms = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.port("amqp")).createConnection();
        clients.add(jms::close);
        jms.start();
        Session session = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = session.createConsumer(session.createTopic("plant/devices/d7/telemetry"));
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "from-mosquitto", "CONNECTED");
        Process pub = run("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(m.port), "-V", "mqttv5", "-q", "1",
                "-t", "devices/d7/telemetry", "-m", "42", "-D", "publish", "content-type", "text/plain",
                "-D", "publish", "user-property", "site", "north");
        assertThat(pub.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(pub.exitValue()).isZero();
        TextMessage got = (TextMessage) consumer.receive(30_000);
        assertThat(got).isNotNull();
        assertThat(got.getText()).isEqualTo("42");
        assertThat(got.getStringProperty("site")).isEqualTo("north");
        await().untilAsserted(() -> assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "from-mosquitto")
                .getLong("forwarded")).isEqualTo(1));
    }

    @Test
    void aPublishMosquittoRefusesIsDeadLetteredWithItsReasonAndTheOthersGoOn() throws Exception {
        Path acl = dir.resolve("acl");
        java.nio.file.Files.writeString(acl, "topic readwrite sensors/#\n");
        RemoteBroker m = mosquitto("acl_file " + acl);
        subscribeOnRemote(m, "sensors/#");
        gateway = ShippedGateway.startWith(dir.resolve("data"), """
                bridges:
                  - name: guarded
                    direction: out
                    local: "#"
                    remote:
                      url: mqtt://127.0.0.1:%d
                """.formatted(m.port));
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "guarded", "CONNECTED");
        MqttClient device = RemoteBridgeSupport.device(gateway.port("mqtt"), "device-2");
        clients.add(() -> device.disconnectForcibly(0, 1000));
        RemoteBridgeSupport.publish(device, "secret/plans", "refused");
        RemoteBridgeSupport.publish(device, "sensors/ok", "allowed");
        assertThat(read(m, "sensors/#", 1)).containsExactly("sensors/ok|allowed||");
        // the dead-letter topic exists once something is in it (Kafka clients cannot create a $ address)
        await().untilAsserted(() -> assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "guarded").getLong("failed")).isEqualTo(1));
        List<ConsumerRecord<byte[], byte[]>> dead = RemoteBridgeSupport.readAll("127.0.0.1:" + gateway.port("kafka"),
                "_x24dlq.secret.plans", r -> !r.isEmpty());
        assertThat(RemoteBridgeSupport.text(dead.get(0).value())).isEqualTo("refused");
        String reason = RemoteBridgeSupport.text(dead.get(0).headers().lastHeader("omnibus.dead-letter.reason").value());
        assertThat(reason).contains("refused it").contains("NOT_AUTHORIZED");
        JsonObject b = RemoteBridgeSupport.bridge(gateway.adminPort(), "guarded");
        assertThat(b.getString("state")).isEqualTo("CONNECTED");
        assertThat(b.getLong("failed")).isEqualTo(1);
        assertThat(b.getString("lastError")).contains("secret/plans").contains("NOT_AUTHORIZED");
    }
}
