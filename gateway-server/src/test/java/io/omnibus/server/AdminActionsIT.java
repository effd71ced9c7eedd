package io.omnibus.server;

import io.vertx.core.json.JsonObject;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The admin API's actions, each checked by what real clients then observe: Eclipse Paho MQTT 5 sessions and Qpid JMS
 * queue consumers on the shipped configuration.
 */
@Timeout(180)
class AdminActionsIT {
    @TempDir
    static Path dir;
    private static Gateway gateway;
    private static AdminHttp admin;
    private static final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        // from an included file: one delivery attempt and a 1 s acknowledgement timeout for one queue, whose
        // unacknowledged JMS delivery then becomes a dead letter
        java.nio.file.Files.writeString(dir.resolve("rules.yaml"), """
                subscriptions:
                  - name: redrive/orders
                    max-deliveries: 1
                    ack-timeout: 1s
                """);
        gateway = ShippedGateway.start(dir.resolve("data"), ShippedGateway.configWith(dir.resolve("g.yaml"),
                "include: rules.yaml"));
        admin = new AdminHttp(gateway.adminPort());
    }

    @AfterAll
    static void stop() throws Exception {
        ShippedGateway.stop(gateway, clients);
    }

    private static MqttClient session(String clientId, BlockingQueue<String> received) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + gateway.port("mqtt"), clientId, new MemoryPersistence());
        c.setCallback(PahoCallback.onMessage((topic, message) ->
                received.add(new String(message.getPayload(), StandardCharsets.UTF_8))));
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(3600L);
        c.connect(o);
        clients.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        return c;
    }

    private static void publish(String topic, String... payloads) throws Exception {
        MqttClient p = ShippedGateway.mqtt(gateway, "publisher-" + System.nanoTime(), clients);
        for (String payload : payloads) {
            p.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, false);
        }
        p.disconnect();
    }

    private static Connection jms() throws Exception {
        Connection c = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.port("amqp")).createConnection();
        c.start();
        clients.add(c::close);
        return c;
    }

    @Test
    void aPurgedBacklogIsNotDeliveredAndWhatComesAfterIs() throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        MqttClient device = session("purge-device", received);
        device.subscribe("purge/readings", 1);
        device.disconnect();
        String[] backlog = new String[50];
        for (int i = 0; i < backlog.length; i++) {
            backlog[i] = "old-" + i;
        }
        publish("purge/readings", backlog);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(admin.subscriptionWithFilter("purge/readings").getLong("backlog")).isEqualTo(50));
        String name = admin.subscriptionWithFilter("purge/readings").getString("name");

        JsonObject purged = admin.object("POST", "/api/subscriptions/" + AdminHttp.segment(name) + "/purge");
        assertThat(purged.getLong("purged")).isEqualTo(50);
        assertThat(admin.subscriptionWithFilter("purge/readings").getLong("backlog")).isZero();

        publish("purge/readings", "new");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(admin.subscriptionWithFilter("purge/readings").getLong("backlog")).isEqualTo(1));
        device.connect(reconnect());
        // the purged 50 were before "new" in the log: had any survived, it would arrive first
        assertThat(received.poll(30, TimeUnit.SECONDS)).isEqualTo("new");
        assertThat(admin.send("POST", "/api/subscriptions/no-such-subscription/purge").statusCode()).isEqualTo(404);
    }

    private static MqttConnectionOptions reconnect() {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(3600L);
        return o;
    }

    @Test
    void aPausedQueueHoldsItsMessagesForAnAttachedConsumerUntilResumed() throws Exception {
        Session session = jms().createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = session.createConsumer(session.createQueue("paused/orders"));
        List<String> got = new CopyOnWriteArrayList<>();
        consumer.setMessageListener(m -> got.add(text(m)));
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.subscriptionWithFilter("paused/orders") != null
                && admin.subscriptionWithFilter("paused/orders").getInteger("consumers") == 1);
        String name = admin.subscriptionWithFilter("paused/orders").getString("name");

        JsonObject paused = admin.object("POST", "/api/subscriptions/" + AdminHttp.segment(name) + "/pause");
        assertThat(paused.getBoolean("paused")).isTrue();
        publish("paused/orders", "a", "b", "c", "d", "e");
        // stored and waiting, with the consumer attached and given credit: nothing was handed out
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(admin.subscriptionWithFilter("paused/orders").getLong("backlog")).isEqualTo(5));
        assertThat(admin.subscriptionWithFilter("paused/orders").getLong("delivered")).isZero();
        assertThat(got).isEmpty();

        assertThat(admin.object("POST", "/api/subscriptions/" + AdminHttp.segment(name) + "/resume").getBoolean("paused"))
                .isFalse();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(got).containsExactly("a", "b", "c", "d", "e"));
    }

    @Test
    void deadLettersMovedBackReachTheQueueAgainWithoutTheirDeadLetterHeaders() throws Exception {
        Connection c = jms();
        Session careless = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        MessageConsumer first = careless.createConsumer(careless.createQueue("redrive/orders"));
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.subscriptionWithFilter("redrive/orders") != null);
        String name = admin.subscriptionWithFilter("redrive/orders").getString("name");
        publish("redrive/orders", "order-1");
        Message m = first.receive(30_000);
        assertThat(text(m)).isEqualTo("order-1");
        // not acknowledged within the queue's ack-timeout, its only delivery attempt failed: dead-lettered
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            JsonObject dlq = admin.topic("$dlq/redrive/orders");
            assertThat(dlq).isNotNull();
            assertThat(dlq.getLong("messages")).isEqualTo(1);
        });
        assertThat(admin.subscriptionWithFilter("redrive/orders").getLong("deadLettered")).isEqualTo(1);
        careless.close();
        JsonObject letter = admin.object("GET", "/api/topics/" + AdminHttp.segment("$dlq/redrive/orders") + "/messages")
                .getJsonArray("messages").getJsonObject(0);
        assertThat(letter.getJsonObject("headers").getString("omnibus.dead-letter.original-address")).isEqualTo("redrive/orders");

        JsonObject moved = admin.object("POST", "/api/topics/" + AdminHttp.segment("$dlq/redrive/orders") + "/redrive");
        assertThat(moved.getLong("moved")).isEqualTo(1);
        assertThat(moved.getLong("kept")).isZero();
        JsonObject dlq = admin.topic("$dlq/redrive/orders");
        assertThat(dlq.getLong("startOffset")).isEqualTo(dlq.getLong("endOffset")); // emptied

        Session again = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Message back = again.createConsumer(again.createQueue("redrive/orders")).receive(30_000);
        assertThat(text(back)).isEqualTo("order-1");
        // stored again without the dead-letter headers
        JsonObject again2 = admin.object("GET", "/api/topics/" + AdminHttp.segment("redrive/orders") + "/messages?max=1")
                .getJsonArray("messages").getJsonObject(0);
        assertThat(again2.getString("preview")).isEqualTo("order-1");
        assertThat(again2.getJsonObject("headers").fieldNames()).noneMatch(h -> h.startsWith("omnibus.dead-letter"));
        // a second redrive finds nothing more to move
        assertThat(admin.object("POST", "/api/topics/" + AdminHttp.segment("$dlq/redrive/orders") + "/redrive")
                .getLong("moved")).isZero();
        assertThat(name).isNotBlank();
    }

    @Test
    void aDisconnectedMqtt5ClientIsToldWhyAndAJmsConnectionSeesItsConnectionClosed() throws Exception {
        BlockingQueue<Integer> reasons = new LinkedBlockingQueue<>();
        MqttClient device = new MqttClient("tcp://127.0.0.1:" + gateway.port("mqtt"), "disconnect-me", new MemoryPersistence());
        device.setCallback(PahoCallback.onDisconnect(response -> reasons.add(response.getReturnCode())));
        device.connect(new MqttConnectionOptions());
        clients.add(device::close);
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.connection("disconnect-me") != null);
        JsonObject shown = admin.connection("disconnect-me");
        assertThat(shown.getString("protocol")).isEqualTo("mqtt");
        assertThat(shown.getInteger("inFlight")).isZero();

        admin.object("POST", "/api/connections/" + AdminHttp.segment(shown.getString("connectionId")) + "/disconnect");
        assertThat(reasons.poll(30, TimeUnit.SECONDS)).isEqualTo(0x98); // Administrative action
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.connection("disconnect-me") == null);

        Connection c = new JmsConnectionFactory("amqp://127.0.0.1:" + gateway.port("amqp")).createConnection();
        c.setClientID("jms-disconnect-me");
        AtomicInteger failures = new AtomicInteger();
        c.setExceptionListener(e -> failures.incrementAndGet());
        c.start();
        clients.add(c::close);
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.connection("jms-disconnect-me") != null);
        admin.object("POST", "/api/connections/" + AdminHttp.segment(admin.connection("jms-disconnect-me")
                .getString("connectionId")) + "/disconnect");
        await().atMost(Duration.ofSeconds(30)).until(() -> failures.get() > 0);
        assertThat(admin.send("POST", "/api/connections/nobody/disconnect").statusCode()).isEqualTo(404);
    }

    @Test
    void aDeletedSubscriptionAndAddressAreGoneAndMessagesCanBeBrowsed() throws Exception {
        publish("browse/me", "hello", "world");
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.topic("browse/me") != null
                && admin.topic("browse/me").getLong("messages") == 2);
        JsonObject page = admin.object("GET", "/api/topics/" + AdminHttp.segment("browse/me") + "/messages?partition=0");
        assertThat(page.getJsonArray("messages").stream().map(o -> ((JsonObject) o).getString("preview")))
                .containsExactly("hello", "world");
        assertThat(page.getJsonArray("messages").getJsonObject(0).getString("origin")).isEqualTo("mqtt5");
        assertThat(page.getLong("endOffset")).isEqualTo(2);

        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        MqttClient s = session("delete-me", received);
        s.subscribe("browse/me", 1);
        String name = admin.subscriptionWithFilter("browse/me").getString("name");
        assertThat(admin.object("DELETE", "/api/subscriptions/" + AdminHttp.segment(name)).getString("deleted")).isEqualTo(name);
        assertThat(admin.subscriptionWithFilter("browse/me")).isNull();
        assertThat(admin.object("DELETE", "/api/topics/" + AdminHttp.segment("browse/me")).getString("deleted"))
                .isEqualTo("browse/me");
        assertThat(admin.topic("browse/me")).isNull();
        assertThat(admin.send("DELETE", "/api/topics/" + AdminHttp.segment("browse/me")).statusCode()).isEqualTo(404);
    }

    @Test
    void anotherSiteCannotActThroughABrowserNorReachTheApiByAReboundName() throws Exception {
        publish("guarded/orders", "x");
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.topic("guarded/orders") != null);
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String url = "http://127.0.0.1:" + gateway.adminPort() + "/api/topics/" + AdminHttp.segment("guarded/orders");
        // a page on another site posting to the gateway (the browser adds Origin and Sec-Fetch-Site)
        var crossSite = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .header("Origin", "http://evil.example").method("DELETE", java.net.http.HttpRequest.BodyPublishers.noBody())
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(crossSite.statusCode()).isEqualTo(403);
        // DNS rebinding: a name of the attacker's pointed at 127.0.0.1, even for reading
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", gateway.adminPort())) {
            raw.getOutputStream().write("GET /api/topics HTTP/1.1\r\nHost: evil.example:8080\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(raw.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            assertThat(status).startsWith("HTTP/1.1 403");
        }
        assertThat(admin.topic("guarded/orders")).isNotNull(); // still there
        // the console's own requests (same origin) and scripts (no Origin) act
        var own = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .header("Origin", "http://127.0.0.1:" + gateway.adminPort())
                .method("DELETE", java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(own.statusCode()).isEqualTo(200);
        // the gateway's own addresses are not for deleting
        assertThat(admin.send("DELETE", "/api/topics/" + AdminHttp.segment("$tx/prepared")).statusCode()).isEqualTo(409);
    }

    @Test
    void readinessAndLivenessAnswerOnceStarted() throws Exception {
        assertThat(admin.send("GET", "/health/live").statusCode()).isEqualTo(200);
        assertThat(new JsonObject(admin.send("GET", "/health/ready").body()).getString("status")).isEqualTo("UP");
        JsonObject overview = admin.object("GET", "/api/overview");
        assertThat(overview.getJsonObject("health").getString("status")).isEqualTo("UP");
        assertThat(overview.getJsonObject("store").getString("type")).isEqualTo("file");
        assertThat(overview.getJsonObject("store").getLong("diskTotal")).isPositive();
    }

    private static String text(Message m) {
        try {
            if (m instanceof jakarta.jms.BytesMessage b) { // an MQTT payload without a content type: bytes
                byte[] body = new byte[(int) b.getBodyLength()];
                b.readBytes(body);
                return new String(body, StandardCharsets.UTF_8);
            }
            return m == null ? null : ((TextMessage) m).getText();
        } catch (jakarta.jms.JMSException e) {
            throw new IllegalStateException(e);
        }
    }
}
