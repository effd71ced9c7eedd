package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** MQTT 5.0 with Eclipse Paho's v5 client, which we did not write. */
@Timeout(120)
class MqttV5IT {
    private TestGateway gw;
    private final List<MqttClient> clients = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (MqttClient c : clients) {
            try {
                if (c.isConnected()) {
                    c.disconnectForcibly(0, 1000, false);
                }
                c.close(true);
            } catch (MqttException ignored) {
                // already gone
            }
        }
        if (gw != null) {
            gw.close();
        }
    }

    /** Records what arrives and why the client was disconnected. */
    static class Recording implements MqttCallback {
        final List<MqttMessage> received = new CopyOnWriteArrayList<>();
        final List<String> topics = new CopyOnWriteArrayList<>();
        volatile MqttDisconnectResponse disconnect;

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            disconnect = response;
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            topics.add(topic);
            received.add(message);
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }
    }

    /** A connected client that records what arrives and why it was disconnected. */
    final class Client extends Recording {
        final MqttClient paho;
        volatile IMqttToken connectToken;

        Client(String id, MqttConnectionOptions options) throws MqttException {
            paho = new MqttClient(gw.uri(), id, new MemoryPersistence());
            paho.setCallback(this);
            connectToken = paho.connectWithResult(options);
            clients.add(paho);
        }
    }

    private Client client(String id) throws MqttException {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        return new Client(id, o);
    }

    @Test
    void everyPublishPropertyArrivesAtTheSubscriber() throws Exception {
        gw = new TestGateway();
        Client sub = client("sub");
        sub.paho.subscribe(new MqttSubscription[] {new MqttSubscription("req/#", 1)});
        Client pub = client("pub");
        MqttMessage m = new MqttMessage("{\"t\":21}".getBytes(), 1, false, null);
        MqttProperties p = new MqttProperties();
        p.setUserProperties(List.of(new UserProperty("unit", "C"), new UserProperty("unit", "K")));
        p.setContentType("application/json");
        p.setPayloadFormat(true);
        p.setCorrelationData(new byte[] {1, 2, 3});
        p.setResponseTopic("resp/42");
        p.setMessageExpiryInterval(3600L);
        m.setProperties(p);
        pub.paho.publish("req/temp", m);
        await().until(() -> sub.received.size() == 1);
        MqttProperties got = sub.received.get(0).getProperties();
        // [MQTT-3.3.2-17] [MQTT-3.3.2-18] user properties in order, repeats kept
        assertThat(got.getUserProperties()).extracting(UserProperty::getKey, UserProperty::getValue)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("unit", "C"), org.assertj.core.groups.Tuple.tuple("unit", "K"));
        assertThat(got.getContentType()).isEqualTo("application/json"); // [MQTT-3.3.2-20]
        assertThat(got.getPayloadFormat()).isTrue(); // [MQTT-3.3.2-4]
        assertThat(got.getCorrelationData()).containsExactly(1, 2, 3);
        assertThat(got.getResponseTopic()).isEqualTo("resp/42");
        // [MQTT-3.3.2-6] the expiry sent on is what is left of it
        assertThat(got.getMessageExpiryInterval()).isBetween(3590L, 3600L);
    }

    /** A QoS 1 message with {@code payload} and one user property. */
    private static MqttMessage withUserProperty(String payload, String key, String value) {
        MqttMessage m = new MqttMessage(payload.getBytes(), 1, false, null);
        MqttProperties p = new MqttProperties();
        p.setUserProperties(List.of(new UserProperty(key, value)));
        m.setProperties(p);
        return m;
    }

    /** {@code m} arrived with {@code payload} and the one user property {@code key}: {@code value}. */
    private static void assertCarries(MqttMessage m, String payload, String key, String value) {
        assertThat(new String(m.getPayload())).isEqualTo(payload);
        assertThat(m.getProperties().getUserProperties()).extracting(UserProperty::getKey, UserProperty::getValue)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(key, value));
    }

    /**
     * An idle MQTT 5 connection gives up its decoder and netty-codec-mqtt's protocol-level channel attribute, and gets
     * both back: when it sends again (a SUBSCRIBE, PUBLISHes with properties both ways are MQTT 5 still; without the
     * level put back the new decoder reads them as 3.1.1), and when the codec encodes a packet to it while its decoder
     * is away (the DISCONNECT of a session taken over, whose reason code MQTT 3.1.1 has not).
     */
    @Test
    void anIdleConnectionThatGaveUpItsDecoderStillSpeaksMqtt5() throws Exception {
        gw = new TestGateway();
        MqttConnectionOptions notSwept = new MqttConnectionOptions();
        notSwept.setKeepAliveInterval(0); // its decoder stays: the drops counted are the idle client's
        Client watcher = new Client("watcher", notSwept);
        watcher.paho.subscribe(new MqttSubscription[] {new MqttSubscription("idle5/#", 1)});
        MqttConnectionOptions swept = new MqttConnectionOptions();
        swept.setKeepAliveInterval(60);
        long before = gw.mqtt.idleDecodersDropped();
        Client idle = new Client("idle5", swept);
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> gw.mqtt.idleDecodersDropped() > before);

        idle.paho.subscribe(new MqttSubscription[] {new MqttSubscription("back/#", 1)});
        MqttMessage up = withUserProperty("up", "from", "idle");
        up.getProperties().setContentType("text/plain");
        idle.paho.publish("idle5/up", up);
        await().until(() -> watcher.received.size() == 1);
        assertCarries(watcher.received.get(0), "up", "from", "idle");
        assertThat(watcher.received.get(0).getProperties().getContentType()).isEqualTo("text/plain");

        // idle again, then sent to: the delivery with its properties, and the client's next PUBLISH, are MQTT 5
        long again = gw.mqtt.idleDecodersDropped();
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> gw.mqtt.idleDecodersDropped() > again);
        watcher.paho.publish("back/down", withUserProperty("down", "to", "idle"));
        await().until(() -> idle.received.size() == 1);
        assertCarries(idle.received.get(0), "down", "to", "idle");
        idle.paho.publish("idle5/again", new MqttMessage("again".getBytes(), 1, false, null));
        await().until(() -> watcher.received.size() == 2);
        assertThat(new String(watcher.received.get(1).getPayload())).isEqualTo("again");
        assertThat(idle.paho.isConnected()).isTrue();

        // idle once more, then taken over: the DISCONNECT is encoded by the codec with the decoder away
        long third = gw.mqtt.idleDecodersDropped();
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> gw.mqtt.idleDecodersDropped() > third);
        new Client("idle5", swept);
        await().until(() -> idle.disconnect != null);
        assertThat(idle.disconnect.getReturnCode()).isEqualTo(0x8E); // [MQTT-3.1.4-3] session taken over
    }

    /**
     * Paho v5 1.2.5 passes aliased messages to the application with an empty topic (seen here with
     * outbound aliases on), so the server sends none by default even to a client that allows them.
     */
    @Test
    void aPahoClientThatAllowsAliasesStillSeesEveryTopicByDefault() throws Exception {
        gw = new TestGateway();
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setTopicAliasMaximum(8);
        Client sub = new Client("alias-taker", o);
        sub.paho.subscribe(new MqttSubscription[] {new MqttSubscription("fleet/#", 1)});
        Client pub = client("pub");
        for (int i = 0; i < 3; i++) {
            pub.paho.publish("fleet/truck-12/position", ("p" + i).getBytes(), 1, false);
        }
        await().until(() -> sub.received.size() == 3);
        assertThat(sub.topics).containsOnly("fleet/truck-12/position");
    }

    @Test
    void sharedSubscriptionsSplitMessagesBetweenTheirMembers() throws Exception {
        gw = new TestGateway();
        Client a = client("worker-a");
        Client b = client("worker-b");
        a.paho.subscribe(new MqttSubscription[] {new MqttSubscription("$share/workers/jobs/#", 1)});
        b.paho.subscribe(new MqttSubscription[] {new MqttSubscription("$share/workers/jobs/#", 1)});
        Client all = client("observer");
        all.paho.subscribe(new MqttSubscription[] {new MqttSubscription("jobs/#", 1)});
        Client pub = client("pub");
        for (int i = 0; i < 20; i++) {
            pub.paho.publish("jobs/j", ("j" + i).getBytes(), 1, false);
        }
        await().until(() -> a.received.size() + b.received.size() == 20 && all.received.size() == 20);
        assertThat(a.received).isNotEmpty(); // each message goes to one member of the group (MQTT 5 §4.8.2)
        assertThat(b.received).isNotEmpty();
    }

    @Test
    void noLocalKeepsAClientsOwnMessagesFromIt() throws Exception {
        gw = new TestGateway();
        Client c = client("chatty");
        MqttSubscription s = new MqttSubscription("chat/room", 1);
        s.setNoLocal(true);
        c.paho.subscribe(new MqttSubscription[] {s});
        Client other = client("other");
        c.paho.publish("chat/room", "mine".getBytes(), 1, false);
        other.paho.publish("chat/room", "theirs".getBytes(), 1, false);
        await().until(() -> c.received.size() == 1);
        assertThat(new String(c.received.get(0).getPayload())).isEqualTo("theirs"); // [MQTT-3.8.3-3]
    }

    @Test
    void aTakenOverSessionIsToldWhy() throws Exception {
        gw = new TestGateway();
        Client first = client("twin");
        client("twin");
        await().until(() -> first.disconnect != null);
        assertThat(first.disconnect.getReturnCode()).isEqualTo(0x8E); // [MQTT-3.1.4-3]
    }

    @Test
    void anEmptyClientIdIsAssignedOne() throws Exception {
        gw = new TestGateway();
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        Client c = new Client("", o);
        // [MQTT-3.2.2-16] the server assigns one and says which
        assertThat(c.connectToken.getResponseProperties().getAssignedClientIdentifier()).startsWith("omnibus-");
    }

    @Test
    void sessionExpiryKeepsTheSessionForTheIntervalOnly() throws Exception {
        gw = new TestGateway();
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(1L);
        Client c = new Client("brief", o);
        c.paho.subscribe(new MqttSubscription[] {new MqttSubscription("x", 1)});
        c.paho.disconnect();
        assertThat(gw.broker.subscriptionViews()).extracting(v -> v.name()).contains("mqtt/brief/x");
        await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> gw.broker.subscriptionViews().isEmpty()); // [MQTT-3.1.2-23]
    }

    @Test
    void refusedFiltersGetReasonCodes() throws Exception {
        gw = new TestGateway(Map.of("max-subscriptions", 2), null);
        Client c = client("c");
        IMqttToken t = c.paho.subscribe(new MqttSubscription[] {new MqttSubscription("ok/+", 2),
                new MqttSubscription("$share/+/x", 1)});
        assertThat(t.getReasonCodes()).containsExactly(2, 0x8F); // [MQTT-3.9.3-1]
        IMqttToken more = c.paho.subscribe(new MqttSubscription[] {new MqttSubscription("two", 1),
                new MqttSubscription("three", 1)});
        assertThat(more.getReasonCodes()).containsExactly(1, 0x80); // refused past max-subscriptions
    }

    @Test
    void badInputGetsADisconnectWithTheReason() throws Exception {
        gw = new TestGateway(Map.of("max-packet-size", "1KiB"), null);
        Client watcher = client("watcher");
        byte[] wildcardPublish = {0x32, 0x0A, 0x00, 0x05, 'a', '/', '+', '/', 'b', 0x00, 0x01, 0x00};
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5("raw5", io.netty.handler.codec.mqtt.MqttProperties.NO_PROPERTIES));
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.CONNACK);
            raw.sendBytes(wildcardPublish);
            List<io.netty.handler.codec.mqtt.MqttMessage> got = raw.readUntilClosed();
            assertThat(got).hasSize(1);
            assertThat(got.get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.DISCONNECT);
            byte reason = ((MqttReasonCodeAndPropertiesVariableHeader) got.get(0).variableHeader()).reasonCode();
            assertThat(reason & 0xff).as("topic name invalid or malformed").isIn(0x90, 0x81);
        }
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5("big5", io.netty.handler.codec.mqtt.MqttProperties.NO_PROPERTIES));
            raw.read(1);
            raw.send(MqttMessageBuilders.publish().topicName("big").qos(io.netty.handler.codec.mqtt.MqttQoS.AT_MOST_ONCE)
                    .payload(io.netty.buffer.Unpooled.wrappedBuffer(new byte[4096])).build());
            List<io.netty.handler.codec.mqtt.MqttMessage> got = raw.readUntilClosed();
            assertThat(got).hasSize(1);
            byte reason = ((MqttReasonCodeAndPropertiesVariableHeader) got.get(0).variableHeader()).reasonCode();
            assertThat(reason & 0xff).isEqualTo(0x95); // packet too large
        }
        assertThat(watcher.paho.isConnected()).isTrue();
    }

    @Test
    void topicAliasesFromTheClientAreResolved() throws Exception {
        gw = new TestGateway();
        Client sub = client("sub");
        sub.paho.subscribe(new MqttSubscription[] {new MqttSubscription("long/topic/name", 1)});
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5("aliaser", io.netty.handler.codec.mqtt.MqttProperties.NO_PROPERTIES));
            raw.read(1);
            io.netty.handler.codec.mqtt.MqttProperties first = new io.netty.handler.codec.mqtt.MqttProperties();
            first.add(new io.netty.handler.codec.mqtt.MqttProperties.IntegerProperty(
                    io.netty.handler.codec.mqtt.MqttProperties.TOPIC_ALIAS, 3));
            raw.send(MqttMessageBuilders.publish().topicName("long/topic/name").properties(first)
                    .qos(io.netty.handler.codec.mqtt.MqttQoS.AT_MOST_ONCE)
                    .payload(io.netty.buffer.Unpooled.wrappedBuffer("one".getBytes())).build());
            // the second uses the alias alone (an empty topic name) [MQTT-3.3.2-12]
            raw.sendBytes(new byte[] {0x30, 0x08, 0x00, 0x00, 0x03, 0x23, 0x00, 0x03, 't', 'w'});
            await().until(() -> sub.received.size() == 2);
        }
        assertThat(sub.topics).containsExactly("long/topic/name", "long/topic/name");
        assertThat(new String(sub.received.get(1).getPayload())).isEqualTo("tw");
    }

    /** Connects, optionally subscribes, disconnects; answers CONNACK's Session Present. */
    private boolean sessionPresent(String id, boolean cleanStart, Long expiry, String subscribe) throws MqttException {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(cleanStart);
        o.setSessionExpiryInterval(expiry);
        Client c = new Client(id, o);
        boolean present = c.connectToken.getSessionPresent();
        if (subscribe != null) {
            c.paho.subscribe(new MqttSubscription[] {new MqttSubscription(subscribe, 1)});
        }
        c.paho.disconnect();
        return present;
    }

    @Test
    void sessionExpiryWithPaho() throws Exception {
        gw = new TestGateway();
        // [MQTT-3.1.2-23] Clean Start 1 and no Session Expiry Interval (0): the session ends with the connection
        assertThat(sessionPresent("paho-brief", true, null, "brief/#")).isFalse();
        assertThat(sessionPresent("paho-brief", false, 30L, null)).isFalse();
        // an interval of 2 s: present on a quick reconnect, gone once it has passed (MQTT 5 §3.1.2.11.2)
        assertThat(sessionPresent("paho-timed", true, 2L, "timed/#")).isFalse();
        assertThat(sessionPresent("paho-timed", false, 2L, null)).isTrue();
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !MqttSessionState.exists(gw.broker, "paho-timed"));
        assertThat(sessionPresent("paho-timed", false, 2L, null)).isFalse();
    }

    @Test
    void aPahoClientAnnouncingSixtyFourBytesGetsWhatFitsAndOnlyThat() throws Exception {
        gw = new TestGateway();
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setMaximumPacketSize(64L);
        Client small = new Client("paho-small", o);
        small.paho.subscribe(new MqttSubscription[] {new MqttSubscription("fits", 1)});
        Client pub = client("paho-pub");
        pub.paho.publish("fits", new MqttMessage(new byte[32], 0, false, null)); // [MQTT-3.1.2-24]
        pub.paho.publish("fits", new MqttMessage(new byte[200], 1, false, null)); // [MQTT-3.1.2-25] discarded
        pub.paho.publish("fits", new MqttMessage("end".getBytes(), 1, false, null));
        await().until(() -> small.received.size() == 2);
        assertThat(small.received).extracting(m -> m.getPayload().length).containsExactly(32, 3);
    }

    @Test
    void pahoGetsOneCopyOfAMessageMatchingTwoOfItsSubscriptionsWithBothIdentifiers() throws Exception {
        gw = new TestGateway();
        Recording got = new Recording();
        org.eclipse.paho.mqttv5.client.MqttAsyncClient c = new org.eclipse.paho.mqttv5.client.MqttAsyncClient(gw.uri(),
                "paho-ids", new MemoryPersistence()); // the synchronous client cannot set a subscription identifier
        c.setCallback(got);
        c.connect().waitForCompletion(5_000);
        try {
            for (Object[] sub : new Object[][] {{"TopicA", 2}, {"TopicA/#", 3}}) {
                MqttProperties props = new MqttProperties();
                props.setSubscriptionIdentifier((Integer) sub[1]);
                c.subscribe(new MqttSubscription[] {new MqttSubscription((String) sub[0], 1)}, null, null, props)
                        .waitForCompletion(5_000);
            }
            Client pub = client("paho-ids-pub");
            pub.paho.publish("TopicA", new MqttMessage("a".getBytes(), 1, false, null));
            pub.paho.publish("TopicA/end", new MqttMessage("end".getBytes(), 1, false, null));
            await().until(() -> got.topics.size() >= 2);
            // [MQTT-3.3.4-3..5] one copy, both identifiers; then the message that matched one subscription only
            assertThat(got.topics).containsExactly("TopicA", "TopicA/end");
            assertThat(got.received.get(0).getProperties().getSubscriptionIdentifiers()).containsExactlyInAnyOrder(2, 3);
            assertThat(got.received.get(1).getProperties().getSubscriptionIdentifiers()).containsExactly(3);
        } finally {
            c.disconnect().waitForCompletion(5_000);
            c.close();
        }
    }
}
