package io.omnibus.mqtt;

import io.omnibus.core.config.StaticUsers;

import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** MQTT 3.1.1 with Eclipse Paho's v3 client, which we did not write. */
@Timeout(120)
class MqttV3IT {
    private TestGateway gw;
    private final List<MqttClient> clients = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void stop() throws Exception {
        for (MqttClient c : clients) {
            if (c.isConnected()) {
                c.disconnectForcibly(0, 1000);
            }
            c.close(true);
        }
        if (gw != null) {
            gw.close();
        }
    }

    private MqttClient client(String id, boolean clean) throws MqttException {
        MqttClient c = new MqttClient(gw.uri(), id, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(clean);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setAutomaticReconnect(false);
        c.connect(o);
        clients.add(c);
        return c;
    }

    record Received(String topic, String payload, int qos, boolean retained, boolean dup) {
    }

    /** A callback that records every message, for clients whose session delivers before they subscribe. */
    private static org.eclipse.paho.client.mqttv3.MqttCallback recordingInto(List<Received> got) {
        return new org.eclipse.paho.client.mqttv3.MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                got.add(new Received(topic, new String(m.getPayload()), m.getQos(), m.isRetained(), m.isDuplicate()));
            }

            @Override
            public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {
            }
        };
    }

    private static List<Received> collect(MqttClient c, String filter, int qos) throws MqttException {
        List<Received> got = new CopyOnWriteArrayList<>();
        c.subscribe(filter, qos, (topic, m) -> got.add(new Received(topic,
                new String(m.getPayload(), StandardCharsets.UTF_8), m.getQos(), m.isRetained(), m.isDuplicate())));
        return got;
    }

    @Test
    void publishAndSubscribeAtEachQosKeepOrderAndCapToTheSubscriptionsQos() throws Exception {
        gw = new TestGateway();
        MqttClient sub = client("sub", true);
        List<Received> q2 = collect(sub, "sensors/+/temp", 2);
        MqttClient sub1 = client("sub1", true);
        List<Received> q1 = collect(sub1, "sensors/#", 1);
        MqttClient pub = client("pub", true);
        for (int qos = 0; qos <= 2; qos++) {
            for (int i = 0; i < 5; i++) {
                pub.publish("sensors/s" + qos + "/temp", ("q" + qos + "-" + i).getBytes(), qos, false);
            }
        }
        await().until(() -> q2.size() == 15 && q1.size() == 15);
        // [MQTT-4.6.0-6] order is kept per topic; the delivered QoS is the lower of publish and subscription [MQTT-3.8.4-8]
        for (int qos = 0; qos <= 2; qos++) {
            String topic = "sensors/s" + qos + "/temp";
            String prefix = "q" + qos + "-";
            assertThat(q2).filteredOn(r -> r.topic().equals(topic)).extracting(Received::payload)
                    .containsExactly(prefix + 0, prefix + 1, prefix + 2, prefix + 3, prefix + 4);
            int expectedQos = qos;
            assertThat(q2).filteredOn(r -> r.topic().equals(topic)).extracting(Received::qos).containsOnly(expectedQos);
            assertThat(q1).filteredOn(r -> r.topic().equals(topic)).extracting(Received::qos)
                    .containsOnly(Math.min(expectedQos, 1));
        }
    }

    @Test
    void retainedMessagesGoToNewSubscribersAndAnEmptyPayloadClearsThem() throws Exception {
        gw = new TestGateway();
        MqttClient pub = client("pub", true);
        pub.publish("status/door", "open".getBytes(), 1, true);
        pub.publish("status/window", "closed".getBytes(), 1, true);
        MqttClient late = client("late", true);
        List<Received> got = collect(late, "status/#", 1);
        await().until(() -> got.size() == 2);
        // [MQTT-3.3.1-6] retained messages are sent on subscribe with RETAIN set [MQTT-3.3.1-8]
        assertThat(got).extracting(Received::payload).containsExactlyInAnyOrder("open", "closed");
        assertThat(got).allMatch(Received::retained);
        pub.publish("status/door", new byte[0], 1, true); // [MQTT-3.3.1-10] clears it
        MqttClient later = client("later", true);
        List<Received> after = collect(later, "status/#", 1);
        await().until(() -> after.size() == 1);
        assertThat(after.get(0).payload()).isEqualTo("closed");
    }

    @Test
    void wildcardsDoNotMatchDollarTopics() throws Exception {
        gw = new TestGateway();
        List<Received> all = collect(client("everything", true), "#", 0);
        List<Received> sys = collect(client("system", true), "$SYS/#", 0);
        MqttClient pub = client("p", true);
        pub.publish("$SYS/broker/load", "1".getBytes(), 0, false);
        pub.publish("plain", "2".getBytes(), 0, false);
        await().until(() -> sys.size() == 1 && all.size() == 1);
        assertThat(all.get(0).topic()).isEqualTo("plain"); // [MQTT-4.7.2-1]
        assertThat(sys.get(0).topic()).isEqualTo("$SYS/broker/load");
    }

    @Test
    void aClientPastReceiveMaximumIsSlowedDownNotDisconnectedSince311ClientsAreNeverToldTheLimit() throws Exception {
        // the consumer is offline and its backlog blocks at 3: publishes wait for it, and so do their PUBACKs
        gw = new TestGateway(Map.of("receive-maximum", 5), null, Map.of("subscriptions",
                List.of(Map.of("name", "mqtt/*", "max-pending", 3, "overflow", "block"))));
        MqttClient consumer = client("slow-consumer", false);
        consumer.subscribe("slow/#", 1);
        consumer.disconnect();
        org.eclipse.paho.client.mqttv3.MqttAsyncClient pub = new org.eclipse.paho.client.mqttv3.MqttAsyncClient(gw.uri(),
                "eager", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMaxInflight(100); // far past the gateway's receive-maximum, which MQTT 3.1.1 cannot announce
        pub.connect(o).waitForCompletion(5_000);
        List<org.eclipse.paho.client.mqttv3.IMqttDeliveryToken> tokens = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            tokens.add(pub.publish("slow/t", ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false));
        }
        // the PUBACKs stop short of 30 (the count holds from one poll to the next) and the client stays connected
        java.util.concurrent.atomic.AtomicLong last = new java.util.concurrent.atomic.AtomicLong(-1);
        java.util.function.LongSupplier done = () -> tokens.stream().filter(t -> t.isComplete()).count();
        org.awaitility.Awaitility.await().pollInterval(java.time.Duration.ofMillis(500))
                .until(() -> last.getAndSet(done.getAsLong()) == done.getAsLong());
        assertThat(pub.isConnected()).isTrue();
        assertThat(done.getAsLong()).as(gw.broker.subscriptionViews().toString()).isLessThan(30);

        List<Received> got = new CopyOnWriteArrayList<>();
        MqttClient back = new MqttClient(gw.uri(), "slow-consumer", new MemoryPersistence());
        back.setCallback(recordingInto(got));
        MqttConnectOptions bo = new MqttConnectOptions();
        bo.setCleanSession(false);
        back.connect(bo);
        clients.add(back);
        org.awaitility.Awaitility.await().until(() -> got.size() == 30);
        assertThat(got).extracting(Received::payload).doesNotHaveDuplicates();
        org.awaitility.Awaitility.await().until(() -> tokens.stream().allMatch(t -> t.isComplete()));
        assertThat(pub.isConnected()).isTrue();
        pub.disconnect().waitForCompletion(5_000);
        pub.close();
    }

    @Test
    void aPersistentSessionQueuesWhileOfflineAndRedeliversOnReconnect() throws Exception {
        gw = new TestGateway();
        MqttClient device = client("device-1", false);
        device.subscribe("cmd/device-1", 1);
        device.disconnect();
        MqttClient pub = client("pub", true);
        for (int i = 0; i < 3; i++) {
            pub.publish("cmd/device-1", ("c" + i).getBytes(), 1, false);
        }
        MqttClient again = new MqttClient(gw.uri(), "device-1", new MemoryPersistence());
        clients.add(again);
        List<Received> got = new CopyOnWriteArrayList<>();
        again.setCallback(recordingInto(got));
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        again.connect(o);
        // [MQTT-3.1.2-4] [MQTT-3.1.2-5] the session, its subscription and the queued QoS 1 messages are there
        assertThat(again.getServerURI()).isNotNull();
        await().until(() -> got.size() == 3);
        assertThat(got).extracting(Received::payload).containsExactly("c0", "c1", "c2");
    }

    @Test
    void aCleanSessionForgetsSubscriptions() throws Exception {
        gw = new TestGateway();
        MqttClient a = client("a", false);
        a.subscribe("t", 1);
        a.disconnect();
        MqttClient clean = client("a", true);
        clean.disconnect();
        assertThat(gw.broker.subscriptionViews()).isEmpty(); // [MQTT-3.1.2-6]
    }

    @Test
    void refusedFiltersGetFailureInTheSuback() throws Exception {
        gw = new TestGateway();
        MqttClient c = client("c", true);
        // Paho checks filters itself; a shared subscription with a wildcard group passes it, and we refuse it
        org.eclipse.paho.client.mqttv3.IMqttToken t = c.subscribeWithResponse(new String[] {"fine/+", "$share/+/x"},
                new int[] {1, 1});
        int[] granted = t.getGrantedQos();
        assertThat(granted).containsExactly(1, 0x80); // [MQTT-3.9.3-2] [MQTT-4.8.2-1]
    }

    @Test
    void mqttOverWebSocketTalksToMqttOverTcp() throws Exception {
        gw = new TestGateway(Map.of("websocket", Map.of("enabled", true, "port", 0, "path", "/mqtt")), null);
        int wsPort = (Integer) gw.mqtt.status().get("websocket-port");
        MqttClient browser = new MqttClient("ws://127.0.0.1:" + wsPort + "/mqtt", "browser", new MemoryPersistence());
        clients.add(browser);
        browser.connect();
        List<Received> atBrowser = collect(browser, "to-browser", 1);
        List<Received> atDevice = collect(client("device", true), "to-device", 1);
        browser.publish("to-device", "hello device".getBytes(), 1, false);
        client("server", true).publish("to-browser", "hello browser".getBytes(), 1, false);
        await().until(() -> atBrowser.size() == 1 && atDevice.size() == 1);
        assertThat(atDevice.get(0).payload()).isEqualTo("hello device");
        assertThat(atBrowser.get(0).payload()).isEqualTo("hello browser");
        MqttClient wrongPath = new MqttClient("ws://127.0.0.1:" + wsPort + "/other", "lost", new MemoryPersistence());
        clients.add(wrongPath);
        assertThatThrownBy(wrongPath::connect).isInstanceOf(MqttException.class);
    }

    /**
     * Clients over WebSocket come and go: the keep-alive sweeps (one periodic timer each) stay one per event loop, as
     * for TCP, not one per connection ever made.
     */
    @Test
    void webSocketClientsThatLeftLeaveNoKeepAliveSweepBehind() throws Exception {
        gw = new TestGateway(Map.of("websocket", Map.of("enabled", true, "port", 0, "path", "/mqtt")), null);
        int wsPort = (Integer) gw.mqtt.status().get("websocket-port");
        int loops = io.vertx.core.VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE;
        for (int i = 0; i < 2 * loops + 1; i++) {
            MqttClient browser = new MqttClient("ws://127.0.0.1:" + wsPort + "/mqtt", "browser-" + i,
                    new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setKeepAliveInterval(30);
            browser.connect(o);
            browser.disconnect();
            browser.close();
        }
        await().until(() -> gw.connections.all().isEmpty());
        assertThat(gw.mqtt.keepAliveSweeps()).as("keep-alive sweeps after %d WebSocket clients", 2 * loops + 1)
                .isLessThanOrEqualTo(loops);
    }

    /**
     * An idle TCP connection drops its decoder until bytes arrive again, also with part of a fixed header in it, but
     * never in the middle of a packet (the decoder keeps a fixed header it took apart in its own fields). PUBLISHes sent
     * in two parts with sweeps between them, and one sent whole after a drop, reach a subscriber intact; the subscriber,
     * a Paho client without a keep alive, drops its decoder too while it idles.
     */
    @Test
    void anIdleConnectionDropsItsDecoderBetweenPacketsAndDecodesWhatComesAfter() throws Exception {
        gw = new TestGateway();
        List<Received> got = new java.util.concurrent.CopyOnWriteArrayList<>();
        MqttClient sub = new MqttClient(gw.uri(), "idle-sub", new MemoryPersistence());
        clients.add(sub);
        MqttConnectOptions noKeepAlive = new MqttConnectOptions();
        noKeepAlive.setKeepAliveInterval(0); // no keep alive: swept all the same, for its decoder
        sub.setCallback(recordingInto(got));
        sub.connect(noKeepAlive);
        sub.subscribe("idle/#", 1);
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !gw.mqtt.holdsDecoder("idle-sub"));
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(io.netty.handler.codec.mqtt.MqttMessageBuilders.connect().clientId("idle-raw")
                    .protocolVersion(io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1).cleanSession(true).keepAlive(60)
                    .build());
            assertThat(raw.read(1)).singleElement().extracting(m -> m.fixedHeader().messageType())
                    .isEqualTo(io.netty.handler.codec.mqtt.MqttMessageType.CONNACK);
            // the first byte of a fixed header: the decoder is dropped with it, and a new one gets it back (at once:
            // a decoder that holds part of a fixed header is dropped and made again at each sweep, counted each time).
            // Counted while the subscriber, quiet, is without its decoder: the drops are the raw client's
            byte[] a = publish("idle/a", "split in its fixed header");
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !gw.mqtt.holdsDecoder("idle-raw"));
            raw.sendBytes(java.util.Arrays.copyOf(a, 1));
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> gw.mqtt.holdsDecoder("idle-raw"));
            long before = gw.mqtt.idleDecodersDropped();
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> gw.mqtt.idleDecodersDropped() > before);
            raw.sendBytes(java.util.Arrays.copyOfRange(a, 1, a.length));
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> got.size() == 1);
            // past the fixed header: kept however many sweeps come by (the subscriber, which has only been sent
            // QoS 0 messages since it dropped its decoder, drops none meanwhile)
            byte[] b = publish("idle/b", "split in its topic");
            raw.sendBytes(java.util.Arrays.copyOf(b, 7));
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> gw.mqtt.holdsDecoder("idle-raw")
                    && !gw.mqtt.holdsDecoder("idle-sub"));
            long dropped = gw.mqtt.idleDecodersDropped();
            long rounds = gw.mqtt.keepAliveRounds();
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> gw.mqtt.keepAliveRounds() >= rounds + 3);
            assertThat(gw.mqtt.idleDecodersDropped()).as("decoders dropped in the middle of a packet").isEqualTo(dropped);
            raw.sendBytes(java.util.Arrays.copyOfRange(b, 7, b.length));
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> got.size() == 2);
            // idle between packets: dropped, and the next packet decoded whole
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !gw.mqtt.holdsDecoder("idle-raw"));
            raw.sendBytes(publish("idle/c", "whole after a drop"));
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> got.size() == 3);
        }
        assertThat(got).extracting(Received::topic, Received::payload).containsExactly(
                org.assertj.core.groups.Tuple.tuple("idle/a", "split in its fixed header"),
                org.assertj.core.groups.Tuple.tuple("idle/b", "split in its topic"),
                org.assertj.core.groups.Tuple.tuple("idle/c", "whole after a drop"));
    }

    /**
     * A client that pipelines its publishes: one write, read by the gateway in one turn, of QoS 0 and 1 publishes to
     * one topic (handed to the broker as runs), broken by a retained one, a QoS 2 one and publishes to other topics.
     * Each topic's messages reach a Paho subscriber in the order sent, the retained one is retained, and the PUBACKs
     * and the PUBREC come back in the order of their PUBLISH packets [MQTT-4.6.0-2].
     */
    @Test
    void aReadOfManyPublishesReachesSubscribersInOrderAndIsAnsweredInOrder() throws Exception {
        gw = new TestGateway();
        List<Received> got = new CopyOnWriteArrayList<>();
        MqttClient sub = new MqttClient(gw.uri(), "run-sub", new MemoryPersistence());
        clients.add(sub);
        sub.setCallback(recordingInto(got));
        sub.connect();
        sub.subscribe("run/#", 1);
        java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
        Map<String, List<String>> sent = new java.util.TreeMap<>();
        List<String> answers = new ArrayList<>();
        int[] id = {0};
        java.util.function.BiConsumer<String, Integer> pub = (topic, qos) -> {
            String payload = topic + "#" + (sent.computeIfAbsent(topic, t -> new ArrayList<>()).size());
            sent.get(topic).add(payload);
            var b = io.netty.handler.codec.mqtt.MqttMessageBuilders.publish().topicName(topic)
                    .qos(io.netty.handler.codec.mqtt.MqttQoS.valueOf(qos)).retained(topic.equals("run/retained"))
                    .payload(io.netty.buffer.Unpooled.copiedBuffer(payload, StandardCharsets.UTF_8));
            if (qos > 0) {
                b.messageId(++id[0]);
                answers.add((qos == 1 ? "PUBACK " : "PUBREC ") + id[0]);
            }
            burst.writeBytes(RawMqtt.encode(b.build()));
        };
        for (int i = 0; i < 300; i++) { // past what one run holds (256 messages, about 32 KiB)
            pub.accept("run/a", 1);
        }
        for (int i = 0; i < 20; i++) {
            pub.accept("run/a", 0);
        }
        pub.accept("run/retained", 1);
        for (int i = 0; i < 30; i++) {
            pub.accept("run/a", i % 2);
        }
        pub.accept("run/exactly-once", 2);
        for (int i = 0; i < 10; i++) {
            pub.accept("run/b", 1);
        }
        pub.accept("run/a", 1);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(io.netty.handler.codec.mqtt.MqttMessageBuilders.connect().clientId("run-raw")
                    .protocolVersion(io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1).cleanSession(true).keepAlive(60)
                    .build());
            assertThat(raw.read(1)).singleElement().extracting(m -> m.fixedHeader().messageType())
                    .isEqualTo(io.netty.handler.codec.mqtt.MqttMessageType.CONNACK);
            raw.sendBytes(burst.toByteArray());
            List<String> answered = raw.read(answers.size()).stream().map(m -> m.fixedHeader().messageType() + " "
                    + ((io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader) m.variableHeader()).messageId()).toList();
            assertThat(answered).containsExactlyElementsOf(answers);
        }
        int total = sent.values().stream().mapToInt(List::size).sum();
        await().atMost(java.time.Duration.ofSeconds(20)).until(() -> got.size() >= total);
        Map<String, List<String>> received = new java.util.TreeMap<>();
        got.forEach(r -> received.computeIfAbsent(r.topic(), t -> new ArrayList<>()).add(r.payload()));
        assertThat(received).isEqualTo(sent);
        List<Received> retained = collect(client("run-late", true), "run/retained", 1);
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> retained.size() == 1);
        assertThat(retained.get(0).payload()).isEqualTo("run/retained#0");
        assertThat(retained.get(0).retained()).isTrue();
    }

    private static byte[] publish(String topic, String payload) {
        return RawMqtt.encode(io.netty.handler.codec.mqtt.MqttMessageBuilders.publish().topicName(topic)
                .qos(io.netty.handler.codec.mqtt.MqttQoS.AT_MOST_ONCE).retained(false)
                .payload(io.netty.buffer.Unpooled.copiedBuffer(payload, StandardCharsets.UTF_8)).build());
    }

    /** A client over WebSocket that goes silent is disconnected after one and a half keep alives, as over TCP. */
    @Test
    void aSilentWebSocketClientIsDisconnectedAfterOneAndAHalfKeepAlives() throws Exception {
        gw = new TestGateway(Map.of("websocket", Map.of("enabled", true, "port", 0, "path", "/mqtt")), null);
        int wsPort = (Integer) gw.mqtt.status().get("websocket-port");
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        // held to the end: Vert.x closes a client that became unreachable, and its connections with it (a collection
        // during the handshake made this test fail once, "Connection closed while handshake in process")
        io.vertx.core.http.WebSocketClient client = vertx.createWebSocketClient();
        try {
            io.netty.channel.embedded.EmbeddedChannel encoder =
                    new io.netty.channel.embedded.EmbeddedChannel(io.netty.handler.codec.mqtt.MqttEncoder.INSTANCE);
            encoder.writeOutbound(io.netty.handler.codec.mqtt.MqttMessageBuilders.connect().clientId("silent-ws")
                    .protocolVersion(io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1).cleanSession(true).keepAlive(1)
                    .build());
            io.netty.buffer.ByteBuf connect = encoder.readOutbound();
            byte[] bytes = new byte[connect.readableBytes()];
            connect.readBytes(bytes);
            connect.release();
            java.util.concurrent.atomic.AtomicInteger frames = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.CompletableFuture<Long> closedAt = new java.util.concurrent.CompletableFuture<>();
            long began = System.currentTimeMillis();
            io.vertx.core.http.WebSocket ws = client.connect(new io.vertx.core.http.WebSocketConnectOptions()
                            .setHost("127.0.0.1").setPort(wsPort).setURI("/mqtt").addSubProtocol("mqtt"))
                    .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
            ws.binaryMessageHandler(b -> frames.incrementAndGet());
            ws.closeHandler(v -> closedAt.complete(System.currentTimeMillis()));
            ws.writeBinaryMessage(io.vertx.core.buffer.Buffer.buffer(bytes));
            long closed = closedAt.get(30, java.util.concurrent.TimeUnit.SECONDS) - began;
            assertThat(frames).as("CONNACK").hasValueGreaterThanOrEqualTo(1);
            assertThat(closed).as("closed after ms").isGreaterThanOrEqualTo(1_500);
        } finally {
            client.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** MQTT goes in binary frames (MQTT 3.1.1 §6.0): a text frame, well-formed UTF-8 or not, closes the connection. */
    @Test
    void aTextFrameClosesAWebSocketConnectionWithInvalidMessageType() throws Exception {
        gw = new TestGateway(Map.of("websocket", Map.of("enabled", true, "port", 0, "path", "/mqtt")), null);
        int wsPort = (Integer) gw.mqtt.status().get("websocket-port");
        for (byte[] text : List.of("hello".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xc3, 0x28})) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", wsPort)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"
                        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                java.io.InputStream in = s.getInputStream();
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    head.append((char) in.read());
                }
                assertThat(head.toString()).startsWith("HTTP/1.1 101");
                byte[] frame = new byte[6 + text.length];
                frame[0] = (byte) 0x81; // final, text
                frame[1] = (byte) (0x80 | text.length); // masked with zeros
                System.arraycopy(text, 0, frame, 6, text.length);
                s.getOutputStream().write(frame);
                byte[] close = in.readNBytes(4);
                assertThat(close[0] & 0xff).as("a close frame").isEqualTo(0x88);
                assertThat(((close[2] & 0xff) << 8) | (close[3] & 0xff)).as("its status").isEqualTo(1003);
            }
        }
    }

    @Test
    void connectionsBeyondTheLimitAreRefused() throws Exception {
        gw = new TestGateway(Map.of("max-connections", 1), null);
        MqttClient first = client("first", true);
        MqttClient second = new MqttClient(gw.uri(), "second", new MemoryPersistence());
        clients.add(second);
        // CONNACK 0x03, server unavailable
        assertThatThrownBy(() -> second.connect()).isInstanceOf(MqttException.class)
                .satisfies(e -> assertThat(((MqttException) e).getReasonCode()).isEqualTo(3));
        first.disconnect();
        await().until(() -> gw.connections.counts().getOrDefault("mqtt", 0) == 0); // the refused one too
        MqttClient third = client("third", true);
        assertThat(third.isConnected()).isTrue(); // the slot came back
    }

    @Test
    void theStaticUserListChecksPasswords() throws Exception {
        gw = new TestGateway(Map.of("users", List.of(Map.of("username", "device", "password-hash", StaticUsers.hash("s3cret")))),
                null);
        MqttConnectOptions good = new MqttConnectOptions();
        good.setUserName("device");
        good.setPassword("s3cret".toCharArray());
        MqttClient ok = new MqttClient(gw.uri(), "ok", new MemoryPersistence());
        clients.add(ok);
        ok.connect(good);
        assertThat(ok.isConnected()).isTrue();
        for (String[] bad : new String[][] {{"device", "wrong"}, {"nobody", "s3cret"}, {null, null}}) {
            MqttConnectOptions o = new MqttConnectOptions();
            if (bad[0] != null) {
                o.setUserName(bad[0]);
                o.setPassword(bad[1].toCharArray());
            }
            MqttClient c = new MqttClient(gw.uri(), "bad", new MemoryPersistence());
            clients.add(c);
            // [MQTT-3.2.2-6] CONNACK 0x04 (bad user name or password), or 0x05 (not authorized) for anonymous
            assertThatThrownBy(() -> c.connect(o)).isInstanceOf(org.eclipse.paho.client.mqttv3.MqttSecurityException.class);
        }
    }

    @Test
    void packetsSentBeforeAFailedLoginAreNeverHandled() throws Exception {
        gw = new TestGateway(Map.of("users", List.of(Map.of("username", "u", "password-hash", StaticUsers.hash("pw")))),
                null);
        MqttClient watcher = new MqttClient(gw.uri(), "watcher", new MemoryPersistence());
        clients.add(watcher);
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName("u");
        o.setPassword("pw".toCharArray());
        watcher.connect(o);
        List<Received> seen = collect(watcher, "#", 1);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            byte[] connect = RawMqtt.encode(io.netty.handler.codec.mqtt.MqttMessageBuilders.connect().clientId("intruder")
                    .protocolVersion(io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1).cleanSession(true)
                    .hasUser(true).username("u").hasPassword(true).password("wrong".getBytes()).keepAlive(60).build());
            byte[] publish = RawMqtt.encode(io.netty.handler.codec.mqtt.MqttMessageBuilders.publish().topicName("x")
                    .qos(io.netty.handler.codec.mqtt.MqttQoS.AT_LEAST_ONCE).messageId(1)
                    .payload(io.netty.buffer.Unpooled.wrappedBuffer("sneaky".getBytes())).build());
            byte[] both = new byte[connect.length + publish.length];
            System.arraycopy(connect, 0, both, 0, connect.length);
            System.arraycopy(publish, 0, both, connect.length, publish.length);
            raw.sendBytes(both); // the PUBLISH does not wait for CONNACK
            List<io.netty.handler.codec.mqtt.MqttMessage> got = raw.readUntilClosed();
            assertThat(got).hasSize(1); // only the refusing CONNACK, no PUBACK
        }
        MqttClient marker = new MqttClient(gw.uri(), "marker", new MemoryPersistence());
        clients.add(marker);
        marker.connect(o);
        marker.publish("marker", "m".getBytes(), 1, false);
        await().until(() -> !seen.isEmpty());
        assertThat(seen).extracting(Received::topic).containsExactly("marker");
    }

    @Test
    void aSessionConnectedWhenTheGatewayStopsSurvivesTheRestart() throws Exception {
        gw = new TestGateway(Map.of(), dir);
        MqttClient device = client("connected-device", false);
        device.subscribe("alerts/#", 1);
        gw.close(); // the client is still connected
        clients.clear();
        gw = new TestGateway(Map.of(), dir);
        MqttClient pub = client("pub", true);
        pub.publish("alerts/flood", "rising".getBytes(), 1, false);
        assertThat(gw.broker.subscriptionViews()).extracting(v -> v.name()).contains("mqtt/connected-device/alerts/#");
        await().until(() -> gw.broker.subscriptionViews().stream()
                .anyMatch(v -> v.name().equals("mqtt/connected-device/alerts/#") && v.backlog() == 1));
    }

    @Test
    void aSecondConnectionWithTheSameClientIdTakesTheSessionOver() throws Exception {
        gw = new TestGateway();
        MqttClient first = client("twin", true);
        MqttClient second = client("twin", true);
        await().until(() -> !first.isConnected()); // [MQTT-3.1.4-3]
        assertThat(second.isConnected()).isTrue();
    }

    @Test
    void badInputClosesOnlyThatConnection() throws Exception {
        gw = new TestGateway(Map.of("max-packet-size", "1KiB"), null);
        MqttClient watcher = client("watcher", true);
        // a packet before CONNECT [MQTT-3.1.0-1]
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(io.netty.handler.codec.mqtt.MqttMessageBuilders.publish().topicName("t")
                    .qos(io.netty.handler.codec.mqtt.MqttQoS.AT_MOST_ONCE).payload(io.netty.buffer.Unpooled.EMPTY_BUFFER)
                    .build());
            assertThat(raw.readUntilClosed()).isEmpty();
        }
        // a wildcard in a topic name [MQTT-3.3.2-2], a second CONNECT [MQTT-3.1.0-2], a packet over the limit
        byte[] wildcardPublish = {0x32, 0x09, 0x00, 0x05, 'a', '/', '+', '/', 'b', 0x00, 0x01}; // encoders refuse to write it
        for (byte[] bad : List.of(wildcardPublish,
                RawMqtt.encode(connect("again", io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1)),
                RawMqtt.encode(io.netty.handler.codec.mqtt.MqttMessageBuilders.publish().topicName("big")
                        .qos(io.netty.handler.codec.mqtt.MqttQoS.AT_MOST_ONCE)
                        .payload(io.netty.buffer.Unpooled.wrappedBuffer(new byte[4096])).build()))) {
            try (RawMqtt raw = new RawMqtt(gw.port)) {
                raw.send(connect("raw", io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1));
                assertThat(raw.read(1).get(0).fixedHeader().messageType())
                        .isEqualTo(io.netty.handler.codec.mqtt.MqttMessageType.CONNACK);
                raw.sendBytes(bad);
                assertThat(raw.readUntilClosed()).as("3.1.1: closed without a reply").isEmpty();
            }
        }
        assertThat(watcher.isConnected()).as("other clients do not notice").isTrue();
    }

    static io.netty.handler.codec.mqtt.MqttConnectMessage connect(String id, io.netty.handler.codec.mqtt.MqttVersion v) {
        return io.netty.handler.codec.mqtt.MqttMessageBuilders.connect().clientId(id).protocolVersion(v)
                .cleanSession(true).keepAlive(60).build();
    }

    @Test
    void aWillIsPublishedWhenTheConnectionDropsButNotAfterADisconnect() throws Exception {
        gw = new TestGateway();
        List<Received> wills = collect(client("monitor", true), "wills/#", 1);
        try (RawMqtt dying = new RawMqtt(gw.port)) {
            dying.send(io.netty.handler.codec.mqtt.MqttMessageBuilders.connect().clientId("dying")
                    .protocolVersion(io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1).cleanSession(true)
                    .willFlag(true).willTopic("wills/dying").willMessage("gone".getBytes())
                    .willQoS(io.netty.handler.codec.mqtt.MqttQoS.AT_LEAST_ONCE).keepAlive(60).build());
            dying.read(1);
            dying.kill();
        }
        await().until(() -> wills.size() == 1); // [MQTT-3.1.2-8]
        assertThat(wills.get(0).payload()).isEqualTo("gone");
        try (RawMqtt polite = new RawMqtt(gw.port)) {
            polite.send(io.netty.handler.codec.mqtt.MqttMessageBuilders.connect().clientId("polite")
                    .protocolVersion(io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1).cleanSession(true)
                    .willFlag(true).willTopic("wills/polite").willMessage("gone".getBytes())
                    .willQoS(io.netty.handler.codec.mqtt.MqttQoS.AT_LEAST_ONCE).keepAlive(60).build());
            polite.read(1);
            polite.send(io.netty.handler.codec.mqtt.MqttMessage.DISCONNECT);
            polite.readUntilClosed();
        }
        MqttClient pub = client("marker", true);
        pub.publish("wills/marker", "m".getBytes(), 1, false);
        await().until(() -> wills.size() == 2);
        assertThat(wills).extracting(Received::topic).containsExactly("wills/dying", "wills/marker"); // [MQTT-3.1.2-10]
    }

    @Test
    void persistentSessionsAndRetainedMessagesSurviveAGatewayRestart() throws Exception {
        gw = new TestGateway(Map.of(), dir);
        MqttClient device = client("durable-device", false);
        device.subscribe("alerts/#", 1);
        device.disconnect();
        MqttClient pub = client("pub", true);
        pub.publish("alerts/fire", "evacuate".getBytes(), 1, false);
        pub.publish("config/interval", "30".getBytes(), 1, true);
        pub.disconnect();
        gw.close();
        clients.clear();

        gw = new TestGateway(Map.of(), dir);
        MqttClient back = new MqttClient(gw.uri(), "durable-device", new MemoryPersistence());
        clients.add(back);
        List<Received> got = new CopyOnWriteArrayList<>();
        back.setCallback(recordingInto(got));
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        back.connect(o);
        await().until(() -> got.size() == 1);
        assertThat(got.get(0).payload()).isEqualTo("evacuate");
        List<Received> retained = collect(back, "config/#", 1);
        await().until(() -> retained.size() == 1);
        assertThat(retained.get(0).payload()).isEqualTo("30");
        assertThat(retained.get(0).retained()).isTrue();
    }
}
