package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttVersion;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Windows, redelivery and keep alive, seen packet by packet from a raw connection (real clients
 * acknowledge by themselves, which hides exactly what these check); messages come from Paho.
 */
@Timeout(60)
class MqttFlowIT {
    private TestGateway gw;
    private MqttClient publisher;

    @AfterEach
    void stop() throws Exception {
        if (publisher != null && publisher.isConnected()) {
            publisher.disconnect();
            publisher.close();
        }
        if (gw != null) {
            gw.close();
        }
    }

    private void publish(String topic, int count) throws Exception {
        if (publisher == null) {
            publisher = new MqttClient(gw.uri(), "publisher", new MemoryPersistence());
            publisher.connect();
        }
        for (int i = 0; i < count; i++) {
            publisher.publish(topic, ("m" + i).getBytes(), 1, false);
        }
    }

    private static MqttMessage subscribe(int packetId, String filter, MqttQoS qos) {
        return MqttMessageBuilders.subscribe().messageId(packetId).addSubscription(qos, filter).build();
    }

    private static MqttMessage pubAck(int packetId) {
        return new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                MqttMessageIdVariableHeader.from(packetId));
    }

    @Test
    void unacknowledgedMessagesComeBackWithDupAfterAReconnect() throws Exception {
        gw = new TestGateway();
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("forgetful"));
            raw.read(1);
            raw.send(subscribe(1, "orders", MqttQoS.AT_LEAST_ONCE));
            raw.read(1); // SUBACK
            publish("orders", 1);
            MqttPublishMessage first = (MqttPublishMessage) raw.read(1).get(0);
            assertThat(first.fixedHeader().isDup()).isFalse();
            raw.kill(); // no PUBACK
        }
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("forgetful"));
            List<MqttMessage> got = raw.read(2);
            assertThat(got.get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.CONNACK);
            MqttPublishMessage again = (MqttPublishMessage) got.get(1);
            // [MQTT-4.4.0-1] resent on reconnect, with DUP [MQTT-3.3.1-1]
            assertThat(again.fixedHeader().isDup()).isTrue();
            assertThat(again.payload().toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("m0");
        }
    }

    @Test
    void pubacksComeInTheOrderOfThePublishesAcrossTopicsStoredByDifferentPartitions(@org.junit.jupiter.api.io.TempDir
                                                                                   java.nio.file.Path dir) throws Exception {
        gw = new TestGateway(java.util.Map.of(), dir, java.util.Map.of("broker", java.util.Map.of("shards", 4)));
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("in-order"));
            raw.read(1);
            int n = 600;
            for (int i = 1; i <= n; i++) {
                raw.send(io.netty.handler.codec.mqtt.MqttMessageBuilders.publish().topicName("fleet/truck-" + (i % 16))
                        .qos(MqttQoS.AT_LEAST_ONCE).messageId(i).retained(false)
                        .payload(io.netty.buffer.Unpooled.wrappedBuffer(("m" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                        .build());
            }
            List<Integer> acked = raw.read(n).stream()
                    .map(m -> ((MqttMessageIdVariableHeader) m.variableHeader()).messageId()).toList();
            // [MQTT-4.6.0-2] PUBACK packets in the order the PUBLISH packets were received
            assertThat(acked).isEqualTo(java.util.stream.IntStream.rangeClosed(1, n).boxed().toList());
        }
    }

    private static MqttMessage connectPersistent(String id) {
        return MqttMessageBuilders.connect().clientId(id).protocolVersion(MqttVersion.MQTT_3_1_1).cleanSession(false)
                .keepAlive(60).build();
    }

    private static MqttMessage reply(MqttMessageType type, int packetId) {
        MqttQoS qos = type == MqttMessageType.PUBREL ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
        return new MqttMessage(new MqttFixedHeader(type, false, qos, false, 0), MqttMessageIdVariableHeader.from(packetId));
    }

    @Test
    void aQos2ExchangeCutAfterPubrecResumesWithPubrelNotWithTheMessage() throws Exception {
        gw = new TestGateway();
        int packetId;
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("q2-out"));
            raw.read(1);
            raw.send(subscribe(1, "exact", MqttQoS.EXACTLY_ONCE));
            raw.read(1);
            publisher = new MqttClient(gw.uri(), "publisher", new MemoryPersistence());
            publisher.connect();
            publisher.publish("exact", "once".getBytes(), 2, false);
            MqttPublishMessage m = (MqttPublishMessage) raw.read(1).get(0);
            packetId = m.variableHeader().packetId();
            raw.send(reply(MqttMessageType.PUBREC, packetId));
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREL);
            raw.kill(); // before PUBCOMP
        }
        // Cut again and again right after the resent PUBREL: the reconnect races the old connection's close
        // (which hands the QoS 2 state over), and must find the state every time.
        for (int round = 0; round < 10; round++) {
            try (RawMqtt raw = new RawMqtt(gw.port)) {
                raw.send(connectPersistent("q2-out"));
                List<MqttMessage> got = raw.read(2);
                // [MQTT-4.4.0-1] the PUBREL is sent again with its packet id, and the message is not
                assertThat(got).as("round %d", round).hasSize(2);
                assertThat(got.get(1).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREL);
                assertThat(((MqttMessageIdVariableHeader) got.get(1).variableHeader()).messageId()).isEqualTo(packetId);
                raw.kill();
            }
        }
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("q2-out"));
            List<MqttMessage> got = raw.read(2);
            assertThat(got.get(1).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREL);
            raw.send(reply(MqttMessageType.PUBCOMP, packetId));
            assertThat(raw.readWithin(500)).isEmpty();
        }
    }

    @Test
    void aCutQos2ExchangeAlsoResumesAfterAGatewayRestart(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        gw = new TestGateway(java.util.Map.of(), dir);
        int packetId;
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("q2-restart"));
            raw.read(1);
            raw.send(subscribe(1, "exact", MqttQoS.EXACTLY_ONCE));
            raw.read(1);
            publish("exact", 0);
            publisher.publish("exact", "once".getBytes(), 2, false);
            MqttPublishMessage m = (MqttPublishMessage) raw.read(1).get(0);
            packetId = m.variableHeader().packetId();
            raw.send(reply(MqttMessageType.PUBREC, packetId));
            raw.read(1); // PUBREL
            raw.kill();
        }
        await().until(() -> {
            byte[] record = gw.broker.states(MqttServer.SESSIONS).get("q2-restart");
            return record != null && new String(record).contains("qos2Out");
        });
        publisher.disconnect();
        publisher.close();
        publisher = null;
        gw.close();
        gw = new TestGateway(java.util.Map.of(), dir);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("q2-restart"));
            List<MqttMessage> got = raw.read(2);
            assertThat(got.get(1).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREL);
            assertThat(((MqttMessageIdVariableHeader) got.get(1).variableHeader()).messageId()).isEqualTo(packetId);
        }
    }

    @Test
    void qos2ExchangesOfAConnectedClientSurviveAGatewayCrash(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        gw = new TestGateway(java.util.Map.of(), dir);
        int outgoing;
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("q2-crash"));
            raw.read(1);
            raw.send(subscribe(1, "out", MqttQoS.EXACTLY_ONCE));
            raw.read(1);
            // inbound: PUBLISH 7, PUBREC, no PUBREL yet
            raw.send(MqttMessageBuilders.publish().topicName("in").qos(MqttQoS.EXACTLY_ONCE).messageId(7)
                    .payload(io.netty.buffer.Unpooled.wrappedBuffer("in-once".getBytes())).build());
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREC);
            // outbound: the client has the message (PUBREC sent), the PUBREL came, no PUBCOMP yet
            publish("out", 0);
            publisher.publish("out", "out-once".getBytes(), 2, false);
            MqttPublishMessage m = (MqttPublishMessage) raw.read(1).get(0);
            outgoing = m.variableHeader().packetId();
            raw.send(reply(MqttMessageType.PUBREC, outgoing));
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREL);
            await().until(() -> {
                byte[] record = gw.broker.states(MqttServer.SESSIONS).get("q2-crash");
                return record != null && new String(record).contains("\"qos2Out\":[" + outgoing + "]");
            });
            publisher.disconnect();
            publisher.close();
            publisher = null;
            gw.crash(); // kill -9 while the client is connected
        }
        gw = new TestGateway(java.util.Map.of(), dir);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("q2-crash"));
            List<MqttMessage> got = raw.read(2);
            // [MQTT-4.4.0-1] the PUBREL owed goes again with its packet id
            assertThat(got.get(1).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREL);
            assertThat(((MqttMessageIdVariableHeader) got.get(1).variableHeader()).messageId()).isEqualTo(outgoing);
            // [MQTT-4.3.3-9] the inbound PUBLISH sent again (DUP) is answered, not published twice
            raw.send(new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, true, MqttQoS.EXACTLY_ONCE,
                    false, 0), new io.netty.handler.codec.mqtt.MqttPublishVariableHeader("in", 7),
                    io.netty.buffer.Unpooled.wrappedBuffer("in-once".getBytes())));
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREC);
            raw.send(reply(MqttMessageType.PUBREL, 7));
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBCOMP);
            assertThat(gw.broker.logs().endOffset(io.omnibus.core.spi.Address.of("in"), 0)).isEqualTo(1);
        }
    }

    @Test
    void aQos2PublishResentAfterAReconnectIsNotPublishedTwice() throws Exception {
        gw = new TestGateway();
        MqttClient watcher = new MqttClient(gw.uri(), "watcher", new MemoryPersistence());
        watcher.connect();
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        watcher.subscribe("orders", 2, (t, m) -> seen.add(new String(m.getPayload())));
        MqttPublishMessage publish = MqttMessageBuilders.publish().topicName("orders")
                .qos(MqttQoS.EXACTLY_ONCE).messageId(7).payload(io.netty.buffer.Unpooled.wrappedBuffer("o-1".getBytes()))
                .build();
        byte[] bytes = RawMqtt.encode(publish);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("q2-in"));
            raw.read(1);
            raw.sendBytes(bytes);
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREC);
            raw.kill(); // before PUBREL
        }
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("q2-in"));
            raw.read(1);
            bytes[0] |= 0x08; // DUP
            raw.sendBytes(bytes);
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBREC);
            raw.send(reply(MqttMessageType.PUBREL, 7));
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.PUBCOMP);
        }
        watcher.publish("orders", "marker".getBytes(), 2, false);
        await().until(() -> seen.contains("marker"));
        assertThat(seen).containsExactly("o-1", "marker"); // [MQTT-4.3.3-9] once, not twice
        watcher.disconnect();
        watcher.close();
    }

    @Test
    void repeatedTopicsGoToTheClientAsTheAliasItAllowed() throws Exception {
        gw = new TestGateway(java.util.Map.of("outbound-topic-aliases", true), null);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            MqttProperties props = new MqttProperties();
            props.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS_MAXIMUM, 4));
            raw.send(RawMqtt.connect5("aliased", props));
            raw.read(1);
            raw.send(MqttMessageBuilders.subscribe().messageId(1).addSubscription(MqttQoS.AT_MOST_ONCE, "plant/line-7/#")
                    .build());
            raw.read(1);
            publish("plant/line-7/temperature", 2);
            List<MqttMessage> got = raw.read(2);
            MqttPublishMessage first = (MqttPublishMessage) got.get(0);
            MqttPublishMessage second = (MqttPublishMessage) got.get(1);
            assertThat(first.variableHeader().topicName()).isEqualTo("plant/line-7/temperature");
            int alias = (Integer) first.variableHeader().properties().getProperty(MqttProperties.TOPIC_ALIAS).value();
            assertThat(second.variableHeader().topicName()).isEmpty();
            assertThat(second.variableHeader().properties().getProperty(MqttProperties.TOPIC_ALIAS).value()).isEqualTo(alias);
        }
    }

    @Test
    void whenTheClientsAliasesAreAllInUseTheLeastRecentlyUsedOneIsMappedAnew() throws Exception {
        gw = new TestGateway(java.util.Map.of("outbound-topic-aliases", true), null);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            MqttProperties props = new MqttProperties();
            props.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS_MAXIMUM, 2));
            raw.send(RawMqtt.connect5("lru", props));
            raw.read(1);
            raw.send(MqttMessageBuilders.subscribe().messageId(1).addSubscription(MqttQoS.AT_MOST_ONCE, "t/#").build());
            raw.read(1);
            for (String t : List.of("t/a", "t/b", "t/a", "t/c", "t/c")) {
                publish(t, 1);
            }
            List<MqttMessage> got = raw.read(5);
            List<String> seen = new java.util.ArrayList<>();
            for (MqttMessage m : got) {
                MqttPublishMessage p = (MqttPublishMessage) m;
                seen.add(p.variableHeader().topicName() + "=" + p.variableHeader().properties()
                        .getProperty(MqttProperties.TOPIC_ALIAS).value());
            }
            // t/b is the least recently used when t/c comes: its alias 2 is mapped to t/c (topic sent with it)
            assertThat(seen).containsExactly("t/a=1", "t/b=2", "=1", "t/c=2", "=2");
        }
    }

    @Test
    void connectRulesAreEnforced() throws Exception {
        gw = new TestGateway();
        // an unsupported protocol level gets CONNACK 0x01 and the connection is closed [MQTT-3.1.2-2]
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.sendBytes(new byte[] {0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x07, 0x02, 0x00, 0x3C, 0x00, 0x01, 'x'});
            List<MqttMessage> got = raw.readUntilClosed();
            assertThat(got).hasSize(1);
            assertThat(((io.netty.handler.codec.mqtt.MqttConnAckMessage) got.get(0)).variableHeader().connectReturnCode())
                    .isEqualTo(io.netty.handler.codec.mqtt.MqttConnectReturnCode.CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION);
        }
        // 3.1.1: an empty client id needs clean session [MQTT-3.1.3-8]
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(MqttMessageBuilders.connect().clientId("").protocolVersion(MqttVersion.MQTT_3_1_1)
                    .cleanSession(false).keepAlive(60).build());
            List<MqttMessage> got = raw.readUntilClosed();
            assertThat(((io.netty.handler.codec.mqtt.MqttConnAckMessage) got.get(0)).variableHeader().connectReturnCode())
                    .isEqualTo(io.netty.handler.codec.mqtt.MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED);
        }
        // 5.0: a client asking for no keep alive is given the server's [MQTT-3.2.2-21]
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(MqttMessageBuilders.connect().clientId("lazy").protocolVersion(MqttVersion.MQTT_5)
                    .cleanSession(true).keepAlive(0).build());
            io.netty.handler.codec.mqtt.MqttConnAckMessage ack = (io.netty.handler.codec.mqtt.MqttConnAckMessage) raw.read(1).get(0);
            assertThat(ack.variableHeader().properties().getProperty(MqttProperties.SERVER_KEEP_ALIVE).value()).isEqualTo(300);
        }
    }

    @Test
    void subscriptionIdentifiersComeBackWithTheMessagesTheyMatched() throws Exception {
        gw = new TestGateway();
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5("ids", MqttProperties.NO_PROPERTIES));
            raw.read(1);
            MqttProperties props = new MqttProperties();
            props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, 42));
            raw.send(MqttMessageBuilders.subscribe().messageId(1).properties(props)
                    .addSubscription(MqttQoS.AT_MOST_ONCE, "meters/+").build());
            raw.read(1);
            publish("meters/m1", 1);
            MqttPublishMessage m = (MqttPublishMessage) raw.read(1).get(0);
            // [MQTT-3.3.4-3] the identifier of the matching subscription is included
            assertThat(m.variableHeader().properties().getProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER).value())
                    .isEqualTo(42);
        }
    }

    @Test
    void overlappingSubscriptionsOfOneSessionGetOneCopyWithEveryIdentifier() throws Exception {
        gw = new TestGateway();
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5("overlap", MqttProperties.NO_PROPERTIES));
            raw.read(1);
            int packet = 1;
            for (Object[] sub : new Object[][] {{"TopicA", 2}, {"TopicA/#", 3}, {"+", 4}}) {
                MqttProperties props = new MqttProperties();
                props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, (Integer) sub[1]));
                raw.send(MqttMessageBuilders.subscribe().messageId(packet++).properties(props)
                        .addSubscription(MqttQoS.AT_LEAST_ONCE, (String) sub[0]).build());
                raw.read(1);
            }
            publish("TopicA", 1);
            publish("TopicA/b", 1); // only TopicA/# matches: one copy, its identifier alone
            List<MqttMessage> got = raw.read(2);
            // [MQTT-3.3.4-3, 3.3.4-4, 3.3.4-5] one copy of the message to TopicA, with the identifiers 2, 3 and 4
            MqttPublishMessage first = (MqttPublishMessage) got.get(0);
            assertThat(first.variableHeader().topicName()).isEqualTo("TopicA");
            assertThat(first.variableHeader().properties().getProperties(MqttProperties.SUBSCRIPTION_IDENTIFIER))
                    .extracting(p -> (Integer) p.value()).containsExactlyInAnyOrder(2, 3, 4);
            assertThat(first.fixedHeader().qosLevel()).isEqualTo(MqttQoS.AT_LEAST_ONCE); // [MQTT-3.3.4-2]
            MqttPublishMessage second = (MqttPublishMessage) got.get(1);
            assertThat(second.variableHeader().topicName()).isEqualTo("TopicA/b");
            assertThat(second.variableHeader().properties().getProperties(MqttProperties.SUBSCRIPTION_IDENTIFIER))
                    .extracting(p -> (Integer) p.value()).containsExactly(3);
            // every copy is settled: nothing is left in flight in the three subscriptions
            await().until(() -> gw.broker.subscriptionViews().stream().mapToLong(v -> v.unacknowledged()).sum() == 2);
            raw.send(new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                    MqttMessageIdVariableHeader.from(first.variableHeader().packetId())));
            raw.send(new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                    MqttMessageIdVariableHeader.from(second.variableHeader().packetId())));
            await().until(() -> gw.broker.subscriptionViews().stream().mapToLong(v -> v.unacknowledged()).sum() == 0
                    && gw.broker.subscriptionViews().stream().mapToLong(v -> v.acknowledged()).sum() == 4);
        }
    }

    @Test
    void aMessageLargerThanTheClientAcceptsIsNotSentToIt() throws Exception {
        gw = new TestGateway();
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            MqttProperties props = new MqttProperties();
            props.add(new MqttProperties.IntegerProperty(MqttProperties.MAXIMUM_PACKET_SIZE, 512));
            raw.send(RawMqtt.connect5("tiny", props));
            raw.read(1);
            raw.send(MqttMessageBuilders.subscribe().messageId(1).addSubscription(MqttQoS.AT_LEAST_ONCE, "blobs").build());
            raw.read(1);
            publisher = new MqttClient(gw.uri(), "publisher", new MemoryPersistence());
            publisher.connect();
            publisher.publish("blobs", new byte[2048], 1, false);
            publisher.publish("blobs", "small".getBytes(), 1, false);
            // [MQTT-3.1.2-25] the large one is discarded for this client; the small one arrives
            MqttPublishMessage m = (MqttPublishMessage) raw.read(1).get(0);
            assertThat(m.payload().readableBytes()).isEqualTo(5);
        }
    }

    @Test
    void packetsThatFitTheClientsMaximumPacketSizeAreSentAndOnlyLargerOnesDiscarded() throws Exception {
        // [MQTT-3.1.2-24] a client announcing 64 bytes gets a 32-byte message: the limit is the packet's exact size
        gw = new TestGateway();
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            MqttProperties props = new MqttProperties();
            props.add(new MqttProperties.IntegerProperty(MqttProperties.MAXIMUM_PACKET_SIZE, 64));
            raw.send(RawMqtt.connect5("small", props));
            raw.read(1);
            raw.send(MqttMessageBuilders.subscribe().messageId(1).addSubscription(MqttQoS.AT_LEAST_ONCE, "fit").build());
            raw.read(1);
            publisher = new MqttClient(gw.uri(), "publisher", new MemoryPersistence());
            publisher.connect();
            publisher.publish("fit", new byte[32], 0, false);
            MqttPublishMessage first = (MqttPublishMessage) raw.read(1).get(0);
            assertThat(first.payload().readableBytes()).isEqualTo(32);
            // [MQTT-3.1.2-25] one byte over is discarded, a QoS 1 one as if delivered: the next one still comes
            publisher.publish("fit", new byte[54], 0, false); // 1 + 1 + 2 + 3 + 1 + 54 = 62 bytes: fits
            publisher.publish("fit", new byte[100], 1, false);
            publisher.publish("fit", "last".getBytes(), 1, false);
            List<MqttMessage> got = raw.read(2);
            assertThat(((MqttPublishMessage) got.get(0)).payload().readableBytes()).isEqualTo(54);
            assertThat(((MqttPublishMessage) got.get(1)).payload().toString(java.nio.charset.StandardCharsets.UTF_8))
                    .isEqualTo("last");
        }
    }

    private static MqttMessage connect5(String id, boolean cleanStart, int sessionExpiry) {
        MqttProperties props = new MqttProperties();
        if (sessionExpiry >= 0) {
            props.add(new MqttProperties.IntegerProperty(MqttProperties.SESSION_EXPIRY_INTERVAL, sessionExpiry));
        }
        return MqttMessageBuilders.connect().clientId(id).protocolVersion(MqttVersion.MQTT_5).cleanSession(cleanStart)
                .keepAlive(60).properties(props).build();
    }

    /** Connects (and leaves politely), answering whether the CONNACK said Session Present. */
    private boolean sessionPresent(String id, boolean cleanStart, int sessionExpiry, String subscribe) throws Exception {
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connect5(id, cleanStart, sessionExpiry));
            boolean present = ((io.netty.handler.codec.mqtt.MqttConnAckMessage) raw.read(1).get(0)).variableHeader()
                    .isSessionPresent();
            if (subscribe != null) {
                raw.send(subscribe(1, subscribe, MqttQoS.AT_LEAST_ONCE));
                raw.read(1);
            }
            raw.send(MqttMessage.DISCONNECT);
            raw.readUntilClosed();
            return present;
        }
    }

    @Test
    void aSessionWithExpiryZeroEndsWithItsConnection() throws Exception {
        // [MQTT-3.1.2-23] Clean Start 1, Session Expiry Interval 0 (absent is 0 too): nothing is left to resume
        gw = new TestGateway();
        assertThat(sessionPresent("brief", true, 0, "brief/#")).isFalse();
        assertThat(sessionPresent("brief", false, 30, null)).isFalse();
        assertThat(sessionPresent("absent", true, -1, "absent/#")).isFalse();
        assertThat(sessionPresent("absent", false, 30, null)).isFalse();
    }

    @Test
    void aSessionLastsItsExpiryIntervalAfterTheConnectionAndNoLonger() throws Exception {
        // MQTT 5 §3.1.2.11.2: present within the interval, gone after it
        gw = new TestGateway();
        assertThat(sessionPresent("timed", true, 2, "timed/#")).isFalse();
        assertThat(sessionPresent("timed", false, 2, null)).isTrue();
        long left = System.currentTimeMillis();
        await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> !io.omnibus.mqtt.MqttSessionState.exists(gw.broker, "timed"));
        assertThat(System.currentTimeMillis() - left).isGreaterThanOrEqualTo(1_500);
        assertThat(sessionPresent("timed", false, 2, null)).isFalse();
    }

    @Test
    void afterARestartASessionExpiresWhenItsIntervalFromTheDisconnectEndsAndALongerOneStays(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // the expiries of stored sessions are scheduled once the gateway is up: counted from each disconnect
        gw = new TestGateway(java.util.Map.of(), dir);
        assertThat(sessionPresent("restart-short", true, 3, "short/#")).isFalse();
        assertThat(sessionPresent("restart-long", true, 300, "long/#")).isFalse();
        long left = System.currentTimeMillis();
        gw.close();
        gw = new TestGateway(java.util.Map.of(), dir);
        await().atMost(java.time.Duration.ofSeconds(15))
                .until(() -> !io.omnibus.mqtt.MqttSessionState.exists(gw.broker, "restart-short"));
        assertThat(System.currentTimeMillis() - left).isGreaterThanOrEqualTo(2_500);
        assertThat(io.omnibus.mqtt.MqttSessionState.exists(gw.broker, "restart-long")).isTrue();
        assertThat(sessionPresent("restart-long", false, 300, null)).isTrue();
        assertThat(sessionPresent("restart-short", false, 3, null)).isFalse();
    }

    @Test
    void theExpiryIntervalOfDisconnectReplacesTheOneOfConnect() throws Exception {
        gw = new TestGateway();
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connect5("shortened", true, 300));
            raw.read(1);
            raw.send(subscribe(1, "short/#", MqttQoS.AT_LEAST_ONCE));
            raw.read(1);
            MqttProperties zero = new MqttProperties();
            zero.add(new MqttProperties.IntegerProperty(MqttProperties.SESSION_EXPIRY_INTERVAL, 0));
            raw.send(new MqttMessage(new MqttFixedHeader(MqttMessageType.DISCONNECT, false, MqttQoS.AT_MOST_ONCE, false, 0),
                    new MqttReasonCodeAndPropertiesVariableHeader((byte) 0, zero)));
            raw.readUntilClosed();
        }
        assertThat(sessionPresent("shortened", false, 300, null)).isFalse();
        // [MQTT-3.14.2-2] a connection that began with 0 cannot set an interval on DISCONNECT: a protocol error
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connect5("stays-zero", true, 0));
            raw.read(1);
            MqttProperties later = new MqttProperties();
            later.add(new MqttProperties.IntegerProperty(MqttProperties.SESSION_EXPIRY_INTERVAL, 60));
            raw.send(new MqttMessage(new MqttFixedHeader(MqttMessageType.DISCONNECT, false, MqttQoS.AT_MOST_ONCE, false, 0),
                    new MqttReasonCodeAndPropertiesVariableHeader((byte) 0, later)));
            List<MqttMessage> last = raw.readUntilClosed();
            assertThat(last).hasSize(1);
            assertThat(((MqttReasonCodeAndPropertiesVariableHeader) last.get(0).variableHeader()).reasonCode())
                    .isEqualTo((byte) 0x82);
        }
        assertThat(sessionPresent("stays-zero", false, 60, null)).isFalse();
    }

    @Test
    void pastMaxSubscriptionsAnMqtt5ClientGetsQuotaExceededWhereConfigured() throws Exception {
        gw = new TestGateway(java.util.Map.of("max-subscriptions", 1, "subscription-quota-reason", "quota-exceeded"), null);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5("greedy", MqttProperties.NO_PROPERTIES));
            raw.read(1);
            raw.send(MqttMessageBuilders.subscribe().messageId(1).addSubscription(MqttQoS.AT_LEAST_ONCE, "one")
                    .addSubscription(MqttQoS.AT_LEAST_ONCE, "two").build());
            io.netty.handler.codec.mqtt.MqttSubAckMessage ack = (io.netty.handler.codec.mqtt.MqttSubAckMessage) raw.read(1).get(0);
            assertThat(ack.payload().reasonCodes()).containsExactly(1, 0x97);
        }
    }

    @Test
    void aTopicAliasOfZeroEndsTheConnectionWithTopicAliasInvalid() throws Exception {
        gw = new TestGateway();
        assertTopicAliasEndsTheConnection("zero", 0); // [MQTT-3.3.2-8]
    }

    @Test
    void aTopicAliasAboveTheMaximumEndsTheConnectionWithTopicAliasInvalid() throws Exception {
        gw = new TestGateway(java.util.Map.of("topic-alias-maximum", 5), null);
        assertTopicAliasEndsTheConnection("above", 6); // [MQTT-3.3.2-9]
    }

    /** A PUBLISH with topic alias {@code alias} gets DISCONNECT 0x94 (Topic Alias invalid), then the socket closes. */
    private void assertTopicAliasEndsTheConnection(String clientId, int alias) throws Exception {
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5(clientId, MqttProperties.NO_PROPERTIES));
            raw.read(1);
            MqttProperties props = new MqttProperties();
            props.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS, alias));
            raw.send(MqttMessageBuilders.publish().topicName("t").properties(props).qos(MqttQoS.AT_MOST_ONCE)
                    .payload(io.netty.buffer.Unpooled.wrappedBuffer("x".getBytes())).build());
            List<MqttMessage> last = raw.readUntilClosed();
            assertThat(last).hasSize(1);
            assertThat(last.get(0).fixedHeader().messageType()).isEqualTo(io.netty.handler.codec.mqtt.MqttMessageType.DISCONNECT);
            assertThat(((MqttReasonCodeAndPropertiesVariableHeader) last.get(0).variableHeader()).reasonCode())
                    .isEqualTo((byte) 0x94);
        }
    }

    @Test
    void anAliasSetOnAnEarlierConnectionIsUnknownOnTheNext() throws Exception {
        // [MQTT-3.3.2-7] aliases belong to one network connection: after a reconnect an alias must be set again
        gw = new TestGateway();
        MqttProperties alias = new MqttProperties();
        alias.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS, 1));
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5("again", MqttProperties.NO_PROPERTIES));
            raw.read(1);
            raw.send(MqttMessageBuilders.publish().topicName("aliased").properties(alias).qos(MqttQoS.AT_MOST_ONCE)
                    .payload(io.netty.buffer.Unpooled.wrappedBuffer("x".getBytes())).build());
        }
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5("again", MqttProperties.NO_PROPERTIES));
            raw.read(1);
            raw.sendBytes(new byte[] {0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'y'}); // alias 1, empty topic
            List<MqttMessage> last = raw.readUntilClosed();
            assertThat(last).hasSize(1); // DISCONNECT 0x82: an unknown alias with an empty topic is a protocol error
            assertThat(((io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader) last.get(0).variableHeader())
                    .reasonCode()).isEqualTo((byte) 0x82);
        }
    }

    @Test
    void aWillWaitsForItsDelayAndIsDroppedWhenTheSessionResumesInTime() throws Exception {
        gw = new TestGateway();
        MqttClient watcher = new MqttClient(gw.uri(), "watcher", new MemoryPersistence());
        watcher.connect();
        List<String> wills = new java.util.concurrent.CopyOnWriteArrayList<>();
        watcher.subscribe("wills/#", 1, (t, m) -> wills.add(t));
        for (String id : List.of("late", "back")) {
            MqttProperties session = new MqttProperties();
            session.add(new MqttProperties.IntegerProperty(MqttProperties.SESSION_EXPIRY_INTERVAL, 60));
            MqttProperties willProps = new MqttProperties();
            willProps.add(new MqttProperties.IntegerProperty(MqttProperties.WILL_DELAY_INTERVAL, 2));
            try (RawMqtt raw = new RawMqtt(gw.port)) {
                raw.send(MqttMessageBuilders.connect().clientId(id).protocolVersion(MqttVersion.MQTT_5).cleanSession(true)
                        .keepAlive(60).properties(session).willFlag(true).willTopic("wills/" + id)
                        .willMessage("gone".getBytes()).willQoS(MqttQoS.AT_LEAST_ONCE).willProperties(willProps).build());
                raw.read(1);
                raw.kill();
            }
        }
        long dropped = System.currentTimeMillis();
        try (RawMqtt back = new RawMqtt(gw.port)) { // "back" resumes its session within the delay [MQTT-3.1.3-9]
            back.send(MqttMessageBuilders.connect().clientId("back").protocolVersion(MqttVersion.MQTT_5)
                    .cleanSession(false).keepAlive(60).build());
            back.read(1);
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !wills.isEmpty());
            assertThat(System.currentTimeMillis() - dropped).isGreaterThanOrEqualTo(1_500);
            assertThat(wills).containsExactly("wills/late");
        }
        watcher.disconnect();
        watcher.close();
    }

    @Test
    void anOfflineSessionKeepsEveryQos1MessageWhileItsQos0QueueIsBoundedAndTheDropsCounted() throws Exception {
        gw = new TestGateway(java.util.Map.of(), null, java.util.Map.of("subscriptions",
                List.of(java.util.Map.of("name", "mqtt/*", "max-pending", 3))));
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("offline"));
            raw.read(1);
            raw.send(subscribe(1, "news", MqttQoS.AT_LEAST_ONCE));
            raw.read(1);
            raw.send(MqttMessage.DISCONNECT);
            raw.readUntilClosed();
        }
        publish("news", 5); // QoS 1: past max-pending they wait in the log, never dropped
        for (int i = 0; i < 5; i++) {
            publisher.publish("news", ("q" + i).getBytes(), 0, false); // QoS 0: bounded by max-pending
        }
        await().until(() -> gw.meters.find("omnibus.subscription.overflow").counter() != null
                && gw.meters.find("omnibus.subscription.overflow").counter().count() == 2.0);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(connectPersistent("offline"));
            List<MqttMessage> got = raw.read(9);
            assertThat(got.subList(1, 9)).extracting(m -> ((MqttPublishMessage) m).payload()
                    .toString(java.nio.charset.StandardCharsets.UTF_8))
                    .containsExactly("m0", "m1", "m2", "m3", "m4", "q2", "q3", "q4");
        }
    }

    @Test
    void theClientsReceiveMaximumBoundsWhatIsInFlight() throws Exception {
        gw = new TestGateway();
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            MqttProperties props = new MqttProperties();
            props.add(new MqttProperties.IntegerProperty(MqttProperties.RECEIVE_MAXIMUM, 2));
            raw.send(RawMqtt.connect5("small-window", props));
            raw.read(1);
            raw.send(MqttMessageBuilders.subscribe().messageId(1).addSubscription(MqttQoS.AT_LEAST_ONCE, "work").build());
            raw.read(1);
            publish("work", 5);
            List<MqttMessage> firstTwo = raw.read(2);
            assertThat(firstTwo).allMatch(m -> m.fixedHeader().messageType() == MqttMessageType.PUBLISH);
            // [MQTT-3.3.4-9] no more than Receive Maximum unacknowledged: the third waits for an acknowledgement
            assertThat(raw.readWithin(500)).isEmpty();
            raw.send(pubAck(((MqttPublishMessage) firstTwo.get(0)).variableHeader().packetId()));
            List<MqttMessage> third = raw.read(1);
            assertThat(((MqttPublishMessage) third.get(0)).payload().toString(java.nio.charset.StandardCharsets.UTF_8))
                    .isEqualTo("m2");
        }
    }

    @Test
    void aSilentClientIsDisconnectedAfterOneAndAHalfKeepAlives() throws Exception {
        gw = new TestGateway();
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            long began = System.currentTimeMillis();
            raw.send(MqttMessageBuilders.connect().clientId("silent").protocolVersion(MqttVersion.MQTT_5)
                    .cleanSession(true).keepAlive(1).build());
            raw.read(1);
            List<MqttMessage> got = raw.readUntilClosed();
            long after = System.currentTimeMillis() - began;
            assertThat(got).hasSize(1);
            assertThat(((MqttReasonCodeAndPropertiesVariableHeader) got.get(0).variableHeader()).reasonCode() & 0xff)
                    .isEqualTo(0x8D); // keep alive timeout [MQTT-3.1.2-22]
            assertThat(after).isGreaterThanOrEqualTo(1_500);
        }
    }

    @Test
    void silentClientsAreAllDisconnectedWhenOthersOfTheirEventLoopLeftFirst() throws Exception {
        gw = new TestGateway();
        // more clients than event loops, so several share a loop's keep-alive sweep; every other one leaves at once,
        // out of the middle of its sweep, and each silent one left must still time out
        List<RawMqtt> silent = new ArrayList<>();
        try {
            for (int i = 0; i < 12; i++) {
                RawMqtt raw = new RawMqtt(gw.port);
                raw.send(MqttMessageBuilders.connect().clientId("silent-" + i).protocolVersion(MqttVersion.MQTT_5)
                        .cleanSession(true).keepAlive(1).build());
                raw.read(1);
                if (i % 2 == 1) {
                    raw.close();
                } else {
                    silent.add(raw);
                }
            }
            for (RawMqtt raw : silent) {
                List<MqttMessage> got = raw.readUntilClosed();
                assertThat(got).hasSize(1);
                assertThat(((MqttReasonCodeAndPropertiesVariableHeader) got.get(0).variableHeader()).reasonCode() & 0xff)
                        .isEqualTo(0x8D);
            }
        } finally {
            for (RawMqtt raw : silent) {
                raw.close();
            }
        }
    }

    @Test
    void retainHandlingAndRetainAsPublishedAreHonoured() throws Exception {
        gw = new TestGateway();
        publish("cfg/a", 0);
        publisher.publish("cfg/a", "v1".getBytes(), 1, true);
        try (RawMqtt raw = new RawMqtt(gw.port)) {
            raw.send(RawMqtt.connect5("rh", MqttProperties.NO_PROPERTIES));
            raw.read(1);
            // Retain Handling 2: no retained messages at subscribe [MQTT-3.3.1-11]
            raw.send(MqttMessageBuilders.subscribe().messageId(1).addSubscription("cfg/#",
                    new io.netty.handler.codec.mqtt.MqttSubscriptionOption(MqttQoS.AT_MOST_ONCE, false, true,
                            io.netty.handler.codec.mqtt.MqttSubscriptionOption.RetainedHandlingPolicy.DONT_SEND_AT_SUBSCRIBE))
                    .build());
            assertThat(raw.read(1).get(0).fixedHeader().messageType()).isEqualTo(MqttMessageType.SUBACK);
            assertThat(raw.readWithin(500)).isEmpty();
            // Retain As Published: a retained publish keeps RETAIN on the way out [MQTT-3.3.1-13]
            publisher.publish("cfg/a", "v2".getBytes(), 0, true);
            MqttPublishMessage m = (MqttPublishMessage) raw.read(1).get(0);
            assertThat(m.fixedHeader().isRetain()).isTrue();
        }
    }
}
