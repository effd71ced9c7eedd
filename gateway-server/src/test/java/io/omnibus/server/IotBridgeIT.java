package io.omnibus.server;

import io.omnibus.amqp.ProtonClient;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.engine.Receiver;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The IoT bridge of config/examples/iot-mqtt-to-amqp.yaml, end to end with clients we did not write: an
 * Eclipse Paho MQTT 5 device, a Qpid JMS service reading the queue, a proton-j service on a topic.
 */
@Timeout(120)
class IotBridgeIT {
    @TempDir
    Path dir;
    private Gateway gateway;
    private Connection jms;
    private MqttClient device;

    /** The shipped example, on ephemeral ports and a temporary data directory; {@code edit} may change its text. */
    private Gateway start(java.util.function.UnaryOperator<String> edit) throws Exception {
        Path example = GatewayProcess.ROOT.resolve("config/examples/iot-mqtt-to-amqp.yaml");
        Path cfg = dir.resolve("bridge.yaml");
        Files.writeString(cfg, edit.apply(Files.readString(example)));
        Map<String, String> env = Map.of("OMNIBUS_MQTT_PORT", "0", "OMNIBUS_AMQP_PORT", "0", "OMNIBUS_ADMIN_PORT", "0",
                "OMNIBUS_ADMIN_HOST", "127.0.0.1", "OMNIBUS_MQTT_HOST", "127.0.0.1", "OMNIBUS_AMQP_HOST", "127.0.0.1");
        var factories = Adapters.discover(getClass().getClassLoader());
        GatewayConfig config = new ConfigLoader(env, factories).load(cfg, dir.resolve("data"));
        gateway = Gateway.start(config, factories).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        return gateway;
    }

    private Session jmsSession(String extra) throws Exception {
        jms = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.port("amqp") + extra).createConnection();
        jms.start();
        return jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
    }

    private MqttClient device(String id) throws Exception {
        device = new MqttClient("tcp://127.0.0.1:" + gateway.port("mqtt"), id, new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        device.connect(o);
        return device;
    }

    @AfterEach
    void stop() throws Exception {
        if (device != null && device.isConnected()) {
            device.disconnect();
        }
        if (jms != null) {
            jms.close();
        }
        if (gateway != null) {
            gateway.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aDeviceReadingReachesAJmsQueueAndAProtonTopicSubscriberWithItsPropertiesAndTheAnswerComesBack()
            throws Exception {
        start(s -> s);
        Session service = jmsSession("");
        MessageConsumer readings = service.createConsumer(service.createQueue("sensors/#"));
        try (ProtonClient analytics = ProtonClient.connect(gateway.port("amqp"))) {
            Source topic = new Source();
            topic.setAddress("sensors/+/temp");
            topic.setCapabilities(Symbol.valueOf("topic"));
            Receiver temps = analytics.receiver("temps", topic, 10, false);

            MqttClient dev = device("dev-17");
            BlockingQueue<org.eclipse.paho.mqttv5.common.MqttMessage> answers = new ArrayBlockingQueue<>(10);
            dev.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
                new org.eclipse.paho.mqttv5.common.MqttSubscription("devices/dev-17/#", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(t, m) -> answers.add(m)});
            MqttMessage reading = new MqttMessage("{\"t\":21.5}".getBytes(StandardCharsets.UTF_8));
            reading.setQos(1);
            MqttProperties p = new MqttProperties();
            p.setUserProperties(List.of(new UserProperty("site", "north"), new UserProperty("unit", "C")));
            p.setContentType("application/json");
            p.setCorrelationData("req-1".getBytes(StandardCharsets.UTF_8));
            p.setResponseTopic("devices/dev-17/replies");
            reading.setProperties(p);
            dev.publish("sensors/dev-17/temp", reading); // returns on PUBACK, sent once the reading is stored

            // the queue service (Qpid JMS)
            Message got = readings.receive(10_000);
            assertThat(got).isNotNull();
            assertThat(got.getStringProperty("site")).isEqualTo("north");
            assertThat(got.getStringProperty("unit")).isEqualTo("C");
            assertThat(got.getJMSCorrelationID()).isEqualTo("req-1");
            assertThat(got.getJMSReplyTo()).isInstanceOf(Topic.class); // an MQTT response topic is a topic
            assertThat(((Topic) got.getJMSReplyTo()).getTopicName()).isEqualTo("devices/dev-17/replies");
            assertThat(got.getJMSDestination().toString()).contains("sensors/dev-17/temp");

            // the topic service (proton-j): the AMQP sections as DESIGN.md's table says
            ProtonClient.Received t = analytics.receive(temps, 10_000);
            org.apache.qpid.proton.message.Message m = t.message();
            assertThat(m.getProperties().getContentType().toString()).isEqualTo("application/json");
            assertThat(m.getProperties().getCorrelationId()).isEqualTo("req-1");
            assertThat(m.getProperties().getReplyTo()).isEqualTo("devices/dev-17/replies");
            assertThat(m.getProperties().getTo()).isEqualTo("sensors/dev-17/temp");
            assertThat(m.getApplicationProperties().getValue()).containsEntry("site", "north").containsEntry("unit", "C");
            assertThat(m.getHeader().getDurable()).isTrue(); // QoS 1
            assertThat(new String(((Data) m.getBody()).getValue().getArray(), ((Data) m.getBody()).getValue().getArrayOffset(),
                    ((Data) m.getBody()).getValue().getLength(), StandardCharsets.UTF_8)).isEqualTo("{\"t\":21.5}");
            t.delivery().disposition(Accepted.getInstance());
            t.delivery().settle();
            analytics.process();

            // the answer: the JMS service replies to reply-to; the device's subscription gets it
            MessageProducer replies = service.createProducer(null);
            TextMessage answer = service.createTextMessage("calibrate");
            answer.setJMSCorrelationID(got.getJMSCorrelationID());
            answer.setStringProperty("command", "calibrate");
            replies.send(got.getJMSReplyTo(), answer);
            org.eclipse.paho.mqttv5.common.MqttMessage back = answers.poll(10, TimeUnit.SECONDS);
            assertThat(back).isNotNull();
            assertThat(new String(back.getPayload(), StandardCharsets.UTF_8)).isEqualTo("calibrate");
            assertThat(back.getProperties().getPayloadFormat()).isTrue(); // a JMS TextMessage is UTF-8 text
            assertThat(new String(back.getProperties().getCorrelationData(), StandardCharsets.UTF_8)).isEqualTo("req-1");
            assertThat(back.getProperties().getUserProperties()).contains(new UserProperty("command", "calibrate"));

            // a JMS MapMessage (an AMQP map body) reaches the device as JSON it can read, never as AMQP bytes
            jakarta.jms.MapMessage config = service.createMapMessage();
            config.setString("unit", "C");
            config.setInt("interval", 30);
            replies.send(service.createTopic("devices/dev-17/config"), config);
            org.eclipse.paho.mqttv5.common.MqttMessage json = answers.poll(10, TimeUnit.SECONDS);
            assertThat(json).isNotNull();
            assertThat(new io.vertx.core.json.JsonObject(new String(json.getPayload(), StandardCharsets.UTF_8)))
                    .isEqualTo(new io.vertx.core.json.JsonObject().put("unit", "C").put("interval", 30));
            assertThat(json.getProperties().getContentType()).startsWith("application/json");
        }
    }

    @Test
    void whenTheAmqpServiceStopsGrantingCreditDevicePubacksAreWithheldAndNothingIsLost() throws Exception {
        start(s -> s.replace("max-pending: 10000", "max-pending: 20"));
        // prefetch 1: the JMS consumer grants one credit and, until it calls receive, no more
        Session service = jmsSession("?jms.prefetchPolicy.all=1");
        MessageConsumer readings = service.createConsumer(service.createQueue("sensors/#"));

        MqttAsyncClient dev = new MqttAsyncClient("tcp://127.0.0.1:" + gateway.port("mqtt"), "dev-busy",
                new MemoryPersistence());
        dev.connect(new MqttConnectionOptions()).waitForCompletion(10_000);
        int total = 200;
        AtomicInteger acked = new AtomicInteger();
        // as many publishes in flight as the gateway's receive-maximum allows; the next waits for a PUBACK
        java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(100);
        Thread publisher = new Thread(() -> {
            try {
                for (int i = 0; i < total; i++) {
                    MqttMessage m = new MqttMessage(("r" + i).getBytes(StandardCharsets.UTF_8));
                    m.setQos(1);
                    window.acquire();
                    dev.publish("sensors/dev-busy/temp", m, null, new org.eclipse.paho.mqttv5.client.MqttActionListener() {
                        @Override
                        public void onSuccess(IMqttToken token) {
                            acked.incrementAndGet();
                            window.release();
                        }

                        @Override
                        public void onFailure(IMqttToken token, Throwable e) {
                            window.release();
                        }
                    });
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "device");
        publisher.setDaemon(true);
        publisher.start();

        // the backlog reaches max-pending and stays near it: PUBACKs stop instead of messages piling up
        await().atMost(Duration.ofSeconds(20)).until(() -> backlog("sensors/#") >= 20);
        // PUBACKs stop: the count stays the same from one poll to the next, short of the total
        AtomicInteger last = new AtomicInteger(-1);
        await().pollInterval(Duration.ofMillis(800)).atMost(Duration.ofSeconds(20))
                .until(() -> last.getAndSet(acked.get()) == acked.get());
        assertThat(acked.get()).as("PUBACKs withheld").isLessThan(total);
        assertThat(backlog("sensors/#")).isLessThanOrEqualTo(20 + 100); // max-pending + the device's receive-maximum

        // the service reads again: everything arrives, once, and every PUBACK is sent
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < total; i++) {
            Message m = readings.receive(10_000);
            assertThat(m).as("message %d of %d", i, total).isNotNull();
            seen.add(m instanceof TextMessage text ? text.getText()
                    : new String(m.getBody(byte[].class), StandardCharsets.UTF_8));
        }
        assertThat(seen).hasSize(total);
        await().atMost(Duration.ofSeconds(10)).until(() -> acked.get() == total);
        dev.disconnect().waitForCompletion(5_000);
        dev.close();
    }

    private long backlog(String subscription) {
        return gateway.broker().subscriptionViews().stream().filter(v -> v.name().equals(subscription))
                .mapToLong(v -> v.backlog()).sum();
    }
}
