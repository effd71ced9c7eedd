package io.omnibus.mqtt;

import io.netty.channel.epoll.Epoll;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.transport.ParkedChannel;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Idle connections' sockets parked without their Netty channels ({@code park-idle-after}, {@link ParkedChannel}), on
 * epoll as the gateway runs, with Eclipse Paho's v3 client and raw sockets: what the clients see is a connection
 * like any other, whichever side has something for it.
 */
@Timeout(120)
class MqttParkingIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private TestGateway gw;
    private final List<MqttClient> clients = new ArrayList<>();

    @BeforeEach
    void epoll() {
        assumeTrue(Epoll.isAvailable(), "no native epoll here");
    }

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

    private void start(Map<String, Object> config) {
        Map<String, Object> cfg = new HashMap<>(config);
        cfg.put("park-idle-after", "1s");
        gw = new TestGateway(cfg, null, Map.of(), true);
    }

    private MqttClient client(String id, List<String> got) throws Exception {
        MqttClient c = new MqttClient(gw.uri(), id, new MemoryPersistence());
        clients.add(c);
        c.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                got.add(topic + "=" + new String(m.getPayload(), StandardCharsets.UTF_8));
            }

            @Override
            public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {
            }
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setKeepAliveInterval(0); // no PINGREQ to wake it: only what the test sends
        o.setAutomaticReconnect(false);
        c.connect(o);
        return c;
    }

    private void awaitParked(String... clientIds) {
        await().atMost(WAIT).until(() -> {
            for (String id : clientIds) {
                if (!gw.mqtt.parked(id)) {
                    return false;
                }
            }
            return true;
        });
    }

    @Test
    void aParkedConnectionIsWokenByItsClientAndByTheServerAndListedMeanwhile() throws Exception {
        start(Map.of());
        List<String> got = new CopyOnWriteArrayList<>();
        MqttClient sub = client("park-sub", got);
        sub.subscribe("park/#", 1);
        MqttClient pub = client("park-pub", new CopyOnWriteArrayList<>());
        awaitParked("park-sub", "park-pub");
        long unparked = ParkedChannel.unparked();

        // listed while parked, with the client's address
        assertThat(gw.connections.all()).filteredOn(i -> "park-sub".equals(i.clientId()))
                .singleElement().extracting(ConnectionInfo::remoteAddress).asString().startsWith("127.0.0.1:");

        // the publisher's PUBLISH wakes its socket (its PUBACK comes back), the delivery wakes the subscriber's
        pub.publish("park/a", "one".getBytes(StandardCharsets.UTF_8), 1, false);
        await().atMost(WAIT).until(() -> got.contains("park/a=one"));
        assertThat(ParkedChannel.unparked()).isGreaterThanOrEqualTo(unparked + 2);

        // parked again; the subscriber publishes to itself: read and written on the socket it woke
        awaitParked("park-sub", "park-pub");
        sub.publish("park/b", "two".getBytes(StandardCharsets.UTF_8), 1, false);
        await().atMost(WAIT).until(() -> got.contains("park/b=two"));
        assertThat(got).containsExactly("park/a=one", "park/b=two");

        // a DISCONNECT to a parked socket closes the connection as ever
        awaitParked("park-sub");
        sub.disconnect();
        await().atMost(WAIT).until(() -> gw.connections.counts().get("mqtt") == 1);
        assertThat(gw.connections.all()).extracting(ConnectionInfo::clientId).containsExactly("park-pub");
    }

    @Test
    void aClientGoneWhileParkedIsClosedAndItsWillPublished() throws Exception {
        start(Map.of());
        List<String> wills = new CopyOnWriteArrayList<>();
        MqttClient watcher = client("park-watcher", wills);
        watcher.subscribe("will/#", 1);
        try (RawMqtt closes = new RawMqtt(gw.port); RawMqtt resets = new RawMqtt(gw.port)) {
            for (RawMqtt raw : List.of(closes, resets)) {
                String id = raw == closes ? "closes" : "resets";
                raw.send(MqttMessageBuilders.connect().clientId(id).protocolVersion(MqttVersion.MQTT_3_1_1)
                        .cleanSession(true).keepAlive(0).willFlag(true).willTopic("will/" + id)
                        .willMessage(id.getBytes(StandardCharsets.UTF_8)).willQoS(MqttQoS.AT_LEAST_ONCE).build());
                assertThat(raw.read(1)).singleElement().extracting(m -> m.fixedHeader().messageType())
                        .isEqualTo(MqttMessageType.CONNACK);
            }
            awaitParked("closes", "resets", "park-watcher");
            closes.close(); // FIN
            resets.kill(); // RST
            await().atMost(WAIT).until(() -> wills.size() == 2);
            assertThat(wills).containsExactlyInAnyOrder("will/closes=closes", "will/resets=resets");
            await().atMost(WAIT).until(() -> gw.connections.counts().get("mqtt") == 1);
        }
    }

    /** The MQTT 5 codec's state (the protocol level CONNECT gave) comes back with the socket. */
    @Test
    void anMqtt5ClientPublishesAndReceivesWithPropertiesOnTheSocketItWoke() throws Exception {
        start(Map.of());
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(MqttMessageBuilders.connect().clientId("v5-parked").protocolVersion(MqttVersion.MQTT_5)
                    .cleanSession(true).keepAlive(0).properties(MqttProperties.NO_PROPERTIES).build());
            assertThat(raw.read(1)).hasSize(1);
            raw.send(MqttMessageBuilders.subscribe().messageId(1).addSubscription(MqttQoS.AT_LEAST_ONCE, "v5/#")
                    .build());
            assertThat(raw.read(1)).singleElement().extracting(m -> m.fixedHeader().messageType())
                    .isEqualTo(MqttMessageType.SUBACK);
            awaitParked("v5-parked");
            MqttProperties props = new MqttProperties();
            props.add(new MqttProperties.UserProperty("sensor", "t-1"));
            raw.send(MqttMessageBuilders.publish().topicName("v5/a").qos(MqttQoS.AT_LEAST_ONCE).messageId(2)
                    .payload(io.netty.buffer.Unpooled.copiedBuffer("21.5", StandardCharsets.UTF_8)).properties(props)
                    .build());
            List<io.netty.handler.codec.mqtt.MqttMessage> back = raw.read(2);
            assertThat(back).extracting(m -> m.fixedHeader().messageType())
                    .containsExactlyInAnyOrder(MqttMessageType.PUBACK, MqttMessageType.PUBLISH);
            io.netty.handler.codec.mqtt.MqttPublishMessage delivered = back.stream()
                    .filter(io.netty.handler.codec.mqtt.MqttPublishMessage.class::isInstance)
                    .map(io.netty.handler.codec.mqtt.MqttPublishMessage.class::cast).findFirst().orElseThrow();
            assertThat(delivered.variableHeader().topicName()).isEqualTo("v5/a");
            assertThat(delivered.payload().toString(StandardCharsets.UTF_8)).isEqualTo("21.5");
            assertThat(delivered.variableHeader().properties()
                    .getProperties(MqttProperties.MqttPropertyType.USER_PROPERTY.value()))
                    .singleElement().extracting(p -> ((MqttProperties.UserProperty) p).value().value)
                    .isEqualTo("t-1");
            delivered.release();
        }
    }

    @Test
    void theKeepAliveOfAParkedConnectionExpiresWithItsReasonCode() throws Exception {
        start(Map.of());
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(MqttMessageBuilders.connect().clientId("silent").protocolVersion(MqttVersion.MQTT_5)
                    .cleanSession(true).keepAlive(3).properties(MqttProperties.NO_PROPERTIES).build());
            assertThat(raw.read(1)).singleElement().extracting(m -> m.fixedHeader().messageType())
                    .isEqualTo(MqttMessageType.CONNACK);
            awaitParked("silent"); // after 1-2 s; the keep alive expires 4.5 s after the CONNECT, not a PINGREQ sent
            List<io.netty.handler.codec.mqtt.MqttMessage> last = raw.readUntilClosed();
            assertThat(last).singleElement().satisfies(m -> {
                assertThat(m.fixedHeader().messageType()).isEqualTo(MqttMessageType.DISCONNECT);
                assertThat(((MqttReasonCodeAndPropertiesVariableHeader) m.variableHeader()).reasonCode())
                        .isEqualTo(ReasonCodes.KEEP_ALIVE_TIMEOUT);
            });
        }
    }

    @Test
    void aParkedConnectionKeepsItsPlaceInMaxConnectionsPerAddressUntilItCloses() throws Exception {
        start(Map.of("max-connections-per-address", 1));
        try (RawMqtt first = new RawMqtt(gw.port)) {
            first.send(MqttMessageBuilders.connect().clientId("first").protocolVersion(MqttVersion.MQTT_3_1_1)
                    .cleanSession(true).keepAlive(0).build());
            assertThat(first.read(1)).hasSize(1);
            awaitParked("first");
            try (RawMqtt second = new RawMqtt(gw.port)) {
                assertThat(second.readUntilClosed()).as("refused: the parked one still counts").isEmpty();
            }
            first.close();
            await().atMost(WAIT).until(() -> gw.connections.counts().get("mqtt") == 0);
        }
        // counted no more once the parked connection closed
        await().atMost(WAIT).until(() -> {
            try (RawMqtt third = new RawMqtt(gw.port)) {
                third.send(MqttMessageBuilders.connect().clientId("third").protocolVersion(MqttVersion.MQTT_3_1_1)
                        .cleanSession(true).keepAlive(0).build());
                return third.read(1).size() == 1;
            } catch (java.io.IOException refused) {
                return false;
            }
        });
    }
}
