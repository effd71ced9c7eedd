package io.omnibus.server;

import io.vertx.core.json.JsonObject;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Bridges to and from ActiveMQ Artemis (its Maven Central distribution, in a child process, its journal synced
 * before it accepts a message): MQTT devices here to a queue there read by Qpid JMS, a queue there to an MQTT
 * subscriber here, Artemis killed and restarted in the middle of 10,000 QoS 1 messages, and an Artemis address that
 * blocks its producers (no credit) making the bridge's lag grow while what is in flight stays at its limit.
 */
@Timeout(300)
class ArtemisRemoteIT {
    @TempDir
    static Path dir;
    private static RemoteBroker artemis;
    private final List<AutoCloseable> clients = new ArrayList<>();
    private Gateway gateway;

    @BeforeAll
    static void startArtemis() throws Exception {
        artemis = RemoteBroker.artemis(dir.resolve("artemis"), RemoteBroker.freePort(),
                "<address-setting match=\"slow\"><max-size-bytes>65536</max-size-bytes>"
                        + "<address-full-policy>BLOCK</address-full-policy></address-setting>"
                        + "<address-setting match=\"no-such-queue\"><auto-create-queues>false</auto-create-queues>"
                        + "<auto-create-addresses>false</auto-create-addresses></address-setting>");
    }

    @AfterAll
    static void stopArtemis() throws Exception {
        if (artemis != null) {
            artemis.close();
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        ShippedGateway.stop(gateway, clients);
    }

    private Gateway start(String name, String bridges) throws Exception {
        gateway = ShippedGateway.startWith(dir.resolve(name), "bridges:\n" + bridges);
        return gateway;
    }

    private Connection artemisJms() throws Exception {
        Connection c = new JmsConnectionFactory("amqp://127.0.0.1:" + artemis.port).createConnection();
        c.start();
        clients.add(c::close);
        return c;
    }

    private MqttClient device(String id) throws Exception {
        MqttClient d = RemoteBridgeSupport.device(gateway.port("mqtt"), id);
        clients.add(() -> d.disconnectForcibly(0, 1000));
        return d;
    }

    @Test
    void devicesHereReachAQueueThereReadByQpidJms() throws Exception {
        start("out", """
                  - name: to-artemis
                    direction: out
                    local: "sensors/#"
                    remote:
                      url: amqp://127.0.0.1:%d
                      address: telemetry
                      capability: queue
                  - name: presettled
                    direction: out
                    local: "metrics/#"
                    remote:
                      url: amqp://127.0.0.1:%d
                      address: metrics
                      capability: queue
                      settlement: settled
                """.formatted(artemis.port, artemis.port));
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "to-artemis", "CONNECTED");
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "presettled", "CONNECTED");
        MqttClient device = device("device-a");
        MqttMessage reading = new MqttMessage("21.5".getBytes(StandardCharsets.UTF_8));
        reading.setQos(1);
        MqttProperties props = new MqttProperties();
        props.setContentType("text/plain");
        props.setUserProperties(List.of(new UserProperty("unit", "C")));
        reading.setProperties(props);
        device.publish("sensors/kitchen", reading);
        Session s = artemisJms().createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = s.createConsumer(s.createQueue("telemetry"));
        Message got = consumer.receive(30_000);
        assertThat(got).isInstanceOf(TextMessage.class);
        assertThat(((TextMessage) got).getText()).isEqualTo("21.5");
        assertThat(got.getStringProperty("unit")).isEqualTo("C");
        assertThat(got.getJMSDeliveryMode()).isEqualTo(jakarta.jms.DeliveryMode.PERSISTENT);
        await().untilAsserted(() -> {
            JsonObject b = RemoteBridgeSupport.bridge(gateway.adminPort(), "to-artemis");
            assertThat(b.getLong("forwarded")).isEqualTo(1);
            assertThat(b.getLong("lag")).isZero();
        });
        // settlement: settled sends pre-settled transfers (at most once); Artemis takes them all the same
        RemoteBridgeSupport.publish(device, "metrics/cpu", "42");
        Message metric = s.createConsumer(s.createQueue("metrics")).receive(30_000);
        assertThat(metric).isNotNull();
        assertThat(body(metric)).isEqualTo("42");
    }

    @Test
    void theShippedExampleForwardsDeviceTelemetryToArtemisAndCommandsBack() throws Exception {
        String example = java.nio.file.Files.readString(GatewayProcess.ROOT.resolve("config/examples/iot-mqtt-to-amqp-broker.yaml"))
                .replace("127.0.0.1:5672", "127.0.0.1:" + artemis.port);
        Path config = java.nio.file.Files.writeString(dir.resolve("example.yaml"), example);
        gateway = ShippedGateway.start(dir.resolve("example"), config);
        MqttClient device = device("device-17");
        List<String> received = new CopyOnWriteArrayList<>();
        device.setCallback(new Received(received));
        device.subscribe(new MqttSubscription[]{new MqttSubscription("devices/#", 1)});
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "telemetry-to-artemis", "CONNECTED");
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "commands-from-artemis", "CONNECTED");
        RemoteBridgeSupport.publish(device, "sensors/device-17/temp", "21.5");
        Session s = artemisJms().createSession(false, Session.AUTO_ACKNOWLEDGE);
        Message reading = s.createConsumer(s.createQueue("telemetry")).receive(30_000);
        assertThat(reading).isNotNull();
        assertThat(body(reading)).isEqualTo("21.5");
        TextMessage command = s.createTextMessage("calibrate");
        command.setStringProperty("target", "device-17");
        s.createProducer(s.createQueue("device-commands")).send(command);
        await().atMost(Duration.ofSeconds(30)).until(() -> !received.isEmpty());
        assertThat(received).containsExactly("devices/device-commands calibrate device-17");
    }

    @Test
    void anAddressArtemisDoesNotHaveIsRefusedAndDeadLetteredWithArtemisCondition() throws Exception {
        start("refused", """
                  - name: orphans
                    direction: out
                    local: "orphan/#"
                    remote:
                      url: amqp://127.0.0.1:%d
                      address: no-such-queue
                """.formatted(artemis.port));
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "orphans", "CONNECTED");
        RemoteBridgeSupport.publish(device("orphan-maker"), "orphan/x", "nobody wants me");
        await().untilAsserted(() -> assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "orphans").getLong("failed")).isEqualTo(1));
        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> dead = RemoteBridgeSupport.readAll(
                "127.0.0.1:" + gateway.port("kafka"), "_x24dlq.orphan.x", l -> !l.isEmpty());
        assertThat(RemoteBridgeSupport.text(dead.get(0).value())).isEqualTo("nobody wants me");
        assertThat(RemoteBridgeSupport.text(dead.get(0).headers().lastHeader("omnibus.dead-letter.reason").value()))
                .contains("link to no-such-queue refused").contains("amqp:not-found");
        JsonObject b = RemoteBridgeSupport.bridge(gateway.adminPort(), "orphans");
        assertThat(b.getString("state")).isEqualTo("CONNECTED");
        assertThat(b.getString("lastError")).contains("amqp:not-found");
    }

    @Test
    void aQueueThereReachesAnMqttSubscriberHere() throws Exception {
        start("in", """
                  - name: from-artemis
                    direction: in
                    local: "devices/{address}"
                    remote:
                      url: amqp://127.0.0.1:%d
                      address: commands
                """.formatted(artemis.port));
        MqttClient app = device("app");
        List<String> received = new CopyOnWriteArrayList<>();
        app.setCallback(new Received(received));
        app.subscribe(new MqttSubscription[]{new MqttSubscription("devices/#", 1)});
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "from-artemis", "CONNECTED");
        Session s = artemisJms().createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = s.createProducer(s.createQueue("commands"));
        for (int i = 0; i < 50; i++) {
            TextMessage m = s.createTextMessage("cmd-" + i);
            m.setStringProperty("target", "pump");
            p.send(m);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> received.size() >= 50);
        assertThat(received).startsWith("devices/commands cmd-0 pump").hasSize(50);
    }

    /** A text or bytes message's body as text (an MQTT payload without a format indicator arrives as bytes). */
    private static String body(Message m) throws Exception {
        if (m instanceof TextMessage t) {
            return t.getText();
        }
        return new String(m.getBody(byte[].class), StandardCharsets.UTF_8);
    }

    /** Collects "topic payload target" lines. */
    private record Received(List<String> into) implements PahoCallback {
        @Override
        public void messageArrived(String topic, MqttMessage message) {
            String target = message.getProperties().getUserProperties().stream().filter(u -> u.getKey().equals("target"))
                    .map(UserProperty::getValue).findFirst().orElse("");
            into.add(topic + " " + new String(message.getPayload(), StandardCharsets.UTF_8) + " " + target);
        }
    }

    @Test
    void artemisKilledAndRestartedMidStreamLosesNothing() throws Exception {
        int inFlight = 100;
        start("crash", """
                  - name: stream
                    direction: out
                    local: "stream/#"
                    in-flight: %d
                    reconnect: {initial: 200ms, max: 2s}
                    remote:
                      url: amqp://127.0.0.1:%d
                      address: stream
                      capability: queue
                """.formatted(inFlight, artemis.port));
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "stream", "CONNECTED");
        MqttClient device = device("streamer");
        int total = 10_000;
        Thread publisher = new Thread(() -> {
            try {
                for (int i = 0; i < total; i++) {
                    RemoteBridgeSupport.publish(device, "stream/x", Integer.toString(i));
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        publisher.start();
        await().atMost(Duration.ofSeconds(60)).until(() ->
                RemoteBridgeSupport.bridge(gateway.adminPort(), "stream").getLong("forwarded") >= 3_000);
        artemis.kill();
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "stream", "BACKING_OFF");
        long lagWhileDown = RemoteBridgeSupport.bridge(gateway.adminPort(), "stream").getLong("lag");
        artemis.start();
        publisher.join(120_000);
        assertThat(publisher.isAlive()).isFalse();
        Map<String, Integer> seen = new HashMap<>();
        Session s = artemisJms().createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = s.createConsumer(s.createQueue("stream"));
        await().atMost(Duration.ofSeconds(120)).until(() -> {
            for (Message m; (m = consumer.receive(200)) != null; ) {
                seen.merge(body(m), 1, Integer::sum);
            }
            return seen.size() >= total;
        });
        int duplicates = seen.values().stream().mapToInt(n -> n - 1).sum();
        assertThat(seen).hasSize(total);
        assertThat(duplicates).as("duplicates after one outage").isLessThanOrEqualTo(inFlight);
        JsonObject b = RemoteBridgeSupport.bridge(gateway.adminPort(), "stream");
        assertThat(b.getLong("reconnects")).isPositive();
        await().untilAsserted(() -> assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "stream").getLong("lag")).isZero());
        System.out.println("ArtemisRemoteIT: Artemis killed after 3,000 of " + total + " forwarded; lag while it was down "
                + lagWhileDown + "; after its restart all " + total + " read by Qpid JMS, lost 0, duplicates " + duplicates
                + " (in-flight limit " + inFlight + ")");
    }

    @Test
    void aRemoteThatGivesNoCreditMakesTheLagGrowWhileInFlightStaysAtItsLimit() throws Exception {
        int inFlight = 20;
        start("credit", """
                  - name: slow
                    direction: out
                    local: "slow/#"
                    in-flight: %d
                    remote:
                      url: amqp://127.0.0.1:%d
                      address: slow
                      capability: queue
                """.formatted(inFlight, artemis.port));
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "slow", "CONNECTED");
        MqttClient device = device("filler");
        int total = 1_000;
        String kib = "x".repeat(1024);
        for (int i = 0; i < total; i++) {
            RemoteBridgeSupport.publish(device, "slow/x", i + kib);
        }
        // Artemis blocks the address at 64 KiB: it stops giving the bridge's link credit. The bridge is at its
        // limit, less what it owes the subscription in credit: it gives credit back in batches of an eighth of
        // in-flight, so after an odd number of confirmations one message's credit waits for the next
        int batch = Math.max(1, inFlight / 8);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonObject b = RemoteBridgeSupport.bridge(gateway.adminPort(), "slow");
            assertThat(b.getInteger("inFlight")).isBetween(inFlight - batch + 1, inFlight);
            assertThat(b.getLong("lag")).isEqualTo(total - b.getLong("forwarded"));
        });
        JsonObject blocked = RemoteBridgeSupport.bridge(gateway.adminPort(), "slow");
        assertThat(blocked.getLong("forwarded")).isLessThan(total / 2);
        assertThat(blocked.getString("state")).isEqualTo("CONNECTED");
        // the connection ended more often than max-deliveries (10) with messages in flight: an outage is not a
        // failed delivery, nothing is dead-lettered
        for (int i = 0; i < 12; i++) {
            RemoteBridgeSupport.control(gateway.adminPort(), "slow", "pause");
            RemoteBridgeSupport.control(gateway.adminPort(), "slow", "resume");
            await().atMost(Duration.ofSeconds(30)).until(() -> RemoteBridgeSupport.bridge(gateway.adminPort(), "slow")
                    .getInteger("inFlight") == inFlight);
        }
        assertThat(gateway.broker().subscriptionViews()).filteredOn(v -> v.name().equals("$bridge/slow"))
                .singleElement().satisfies(v -> assertThat(v.deadLettered()).isZero());
        assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "slow").getLong("failed")).isZero();
        // a consumer there frees the address: credit comes back and the lag drains
        Session s = artemisJms().createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = s.createConsumer(s.createQueue("slow"));
        int[] read = {0};
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            while (consumer.receive(200) != null) {
                read[0]++;
            }
            return read[0] >= total;
        });
        assertThat(read[0]).isEqualTo(total);
        await().untilAsserted(() -> assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "slow").getLong("lag")).isZero());
        System.out.println("ArtemisRemoteIT: with Artemis's address blocked the bridge held " + inFlight + " in flight, "
                + blocked.getLong("forwarded") + " forwarded and " + blocked.getLong("lag") + " waiting in the log");
    }
}
