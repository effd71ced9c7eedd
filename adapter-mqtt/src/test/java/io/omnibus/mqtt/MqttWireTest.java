package io.omnibus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link MqttWire} against netty-codec-mqtt's encoder, byte for byte, for the packets it encodes by hand; and what it
 * leaves to that encoder.
 */
class MqttWireTest {

    @Test
    void publishesAreTheBytesNettysEncoderMakes() {
        for (boolean v5 : new boolean[] {false, true}) {
            for (MqttQoS qos : new MqttQoS[] {MqttQoS.AT_MOST_ONCE, MqttQoS.AT_LEAST_ONCE, MqttQoS.EXACTLY_ONCE}) {
                for (boolean flags : new boolean[] {false, true}) {
                    same(publish(qos, flags, "sensors/room-1/temp", MqttProperties.NO_PROPERTIES, 64), v5);
                    same(publish(qos, flags, "énergie/zähler/電力", MqttProperties.NO_PROPERTIES, 0), v5);
                    same(publish(qos, flags, "big", MqttProperties.NO_PROPERTIES, 300_000), v5); // 3-byte length
                }
            }
        }
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.IntegerProperty(MqttProperties.MqttPropertyType.PAYLOAD_FORMAT_INDICATOR.value(), 1));
        props.add(new MqttProperties.IntegerProperty(MqttProperties.MqttPropertyType.PUBLICATION_EXPIRY_INTERVAL.value(),
                3_600));
        props.add(new MqttProperties.StringProperty(MqttProperties.MqttPropertyType.CONTENT_TYPE.value(), "application/json"));
        props.add(new MqttProperties.StringProperty(MqttProperties.MqttPropertyType.RESPONSE_TOPIC.value(), "replies/ü"));
        props.add(new MqttProperties.BinaryProperty(MqttProperties.MqttPropertyType.CORRELATION_DATA.value(),
                new byte[] {1, 2, 3, 0, -1}));
        props.add(new MqttProperties.UserProperty("a", "1"));
        props.add(new MqttProperties.UserProperty("a", "2")); // repeated keys stay, in order
        props.add(new MqttProperties.UserProperty("ключ", ""));
        props.add(new MqttProperties.IntegerProperty(MqttProperties.MqttPropertyType.SUBSCRIPTION_IDENTIFIER.value(), 7));
        props.add(new MqttProperties.IntegerProperty(MqttProperties.MqttPropertyType.SUBSCRIPTION_IDENTIFIER.value(),
                268_435_455)); // the largest, four bytes
        props.add(new MqttProperties.IntegerProperty(MqttProperties.MqttPropertyType.TOPIC_ALIAS.value(), 65_535));
        same(publish(MqttQoS.AT_LEAST_ONCE, true, "", props, 10), true);

        MqttProperties users = new MqttProperties();
        users.add(new MqttProperties.UserProperty("only", "users"));
        same(publish(MqttQoS.AT_MOST_ONCE, false, "t", users, 1), true);
    }

    @Test
    void publishReleasesAndCompletionsAreTheBytesNettysEncoderMakes() {
        for (boolean v5 : new boolean[] {false, true}) {
            for (MqttMessageType type : new MqttMessageType[] {MqttMessageType.PUBACK, MqttMessageType.PUBREC,
                    MqttMessageType.PUBREL, MqttMessageType.PUBCOMP}) {
                for (byte reason : new byte[] {0, (byte) 0x10, (byte) 0x92}) {
                    MqttQoS qos = type == MqttMessageType.PUBREL ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
                    same(new MqttMessage(new MqttFixedHeader(type, false, qos, false, 0),
                            new MqttPubReplyMessageVariableHeader(65_000, reason, MqttProperties.NO_PROPERTIES)), v5);
                }
            }
        }
    }

    @Test
    void leavesToNettysEncoderWhatItDoesNotKnow() {
        MqttProperties reasonString = new MqttProperties();
        reasonString.add(new MqttProperties.StringProperty(MqttProperties.MqttPropertyType.REASON_STRING.value(), "no"));
        assertThat(MqttWire.remaining(new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBACK, false,
                MqttQoS.AT_MOST_ONCE, false, 0), new MqttPubReplyMessageVariableHeader(1, (byte) 0x80, reasonString)), true))
                .isEqualTo(-1);
        MqttProperties notForPublish = new MqttProperties();
        notForPublish.add(new MqttProperties.IntegerProperty(MqttProperties.MqttPropertyType.RECEIVE_MAXIMUM.value(), 5));
        assertThat(MqttWire.remaining(publish(MqttQoS.AT_MOST_ONCE, false, "t", notForPublish, 1), true)).isEqualTo(-1);
        assertThat(MqttWire.remaining(publish(MqttQoS.AT_MOST_ONCE, false, "t".repeat(65_536), MqttProperties.NO_PROPERTIES, 1),
                false)).as("a topic longer than a string can be").isEqualTo(-1);
        assertThat(MqttWire.remaining(MqttMessage.PINGRESP, false)).isEqualTo(-1);
        assertThat(MqttWire.remaining(MqttMessageBuilders.disconnect().build(), true)).isEqualTo(-1);
    }

    @Test
    void aRunOfPacketsInOneBufferDecodesAsTheRun() {
        ByteBuf run = Unpooled.buffer();
        List<MqttMessage> sent = new ArrayList<>();
        for (int i = 1; i <= 50; i++) {
            MqttMessage m = i % 3 == 0
                    ? new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                    new MqttPubReplyMessageVariableHeader(i, (byte) 0, MqttProperties.NO_PROPERTIES))
                    : publish(MqttQoS.AT_LEAST_ONCE, false, "run/" + i, MqttProperties.NO_PROPERTIES, i);
            sent.add(m);
            MqttWire.encode(m, false, MqttWire.remaining(m, false), run);
        }
        EmbeddedChannel decoding = new EmbeddedChannel(new MqttDecoder());
        decoding.writeInbound(run);
        for (int i = 1; i <= 50; i++) {
            MqttMessage got = decoding.readInbound();
            assertThat(got.decoderResult().isSuccess()).isTrue();
            assertThat(got.fixedHeader().messageType()).isEqualTo(sent.get(i - 1).fixedHeader().messageType());
            if (got instanceof MqttPublishMessage p) {
                assertThat(p.variableHeader().topicName()).isEqualTo("run/" + i);
                assertThat(p.variableHeader().packetId()).isEqualTo(4_242);
                assertThat(p.payload().readableBytes()).isEqualTo(i);
                p.release();
            }
        }
        assertThat((Object) decoding.readInbound()).isNull();
    }

    private static MqttPublishMessage publish(MqttQoS qos, boolean flags, String topic, MqttProperties props, int size) {
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++) {
            payload[i] = (byte) (i * 31);
        }
        return new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, flags && qos.value() > 0, qos, flags, 0),
                new MqttPublishVariableHeader(topic, qos.value() > 0 ? 4_242 : 0, props), Unpooled.wrappedBuffer(payload));
    }

    /** Ours and Netty's encoding of {@code m} for a connection of that version are the same bytes. */
    private static void same(MqttMessage m, boolean v5) {
        int remaining = MqttWire.remaining(m, v5);
        assertThat(remaining).as("%s encoded by hand", m.fixedHeader()).isPositive();
        ByteBuf ours = Unpooled.buffer();
        MqttWire.encode(m, v5, remaining, ours);
        assertThat(ours.readableBytes()).as("size of %s", m.fixedHeader()).isEqualTo(MqttWire.size(remaining));
        if (m instanceof MqttPublishMessage p) {
            p.retain(); // Netty's encoder releases it
        }
        ByteBuf netty = nettyEncoding(m, v5);
        assertThat(ByteBufUtil.hexDump(ours)).as("%s, MQTT %s", m, v5 ? "5" : "3.1.1").isEqualTo(ByteBufUtil.hexDump(netty));
        netty.release();
    }

    private static ByteBuf nettyEncoding(MqttMessage m, boolean v5) {
        // the encoder takes the version from the channel, which its decoder sets from a CONNECT
        MqttVersion version = v5 ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1;
        EmbeddedChannel connectBytes = new EmbeddedChannel(MqttEncoder.INSTANCE);
        connectBytes.writeOutbound(MqttMessageBuilders.connect().clientId("c").protocolVersion(version).build());
        ByteBuf connect = connectBytes.readOutbound();
        EmbeddedChannel ch = new EmbeddedChannel(new MqttDecoder(), MqttEncoder.INSTANCE);
        ch.writeInbound(connect);
        MqttMessage decoded = ch.readInbound();
        assertThat(decoded.fixedHeader().messageType()).isEqualTo(MqttMessageType.CONNECT);
        ch.writeOutbound(m);
        ByteBuf out = Unpooled.buffer();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            out.writeBytes(b);
            b.release();
        }
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).isNotEmpty();
        return out;
    }
}
