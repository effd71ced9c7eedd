package io.omnibus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The size the gateway checks against a client's Maximum Packet Size is the size Netty's encoder writes. */
class PacketSizeTest {
    @ParameterizedTest
    @CsvSource({
            "5, a, 0, 0, false, false",
            "5, sensors/kitchen/temp, 1, 32, true, false",
            "5, sensors/kitchen/temp, 1, 300, true, true",
            "5, dévice/ünïcode/\uD83D\uDE00, 2, 20000, true, true",
            "3, sensors/kitchen/temp, 1, 32, false, false",
            "3, a, 0, 200, false, false"})
    void isWhatTheEncoderWrites(int version, String topic, int qos, int payload, boolean properties, boolean many) {
        MqttProperties props = new MqttProperties();
        if (properties) {
            props.add(new MqttProperties.IntegerProperty(MqttProperties.PAYLOAD_FORMAT_INDICATOR, 1));
            props.add(new MqttProperties.StringProperty(MqttProperties.CONTENT_TYPE, "text/plain; charset=ütf-8"));
            props.add(new MqttProperties.BinaryProperty(MqttProperties.CORRELATION_DATA, new byte[] {1, 2, 3}));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.PUBLICATION_EXPIRY_INTERVAL, 60));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, many ? 300_000 : 7));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS, 3));
            MqttProperties.UserProperties users = new MqttProperties.UserProperties();
            users.add("unit", "°C");
            if (many) {
                users.add("k", "v".repeat(200));
            }
            props.add(users);
        }
        EmbeddedChannel ch = new EmbeddedChannel(MqttEncoder.INSTANCE);
        // the CONNECT sets the version the encoder writes
        ch.writeOutbound(MqttMessageBuilders.connect().clientId("c")
                .protocolVersion(version == 5 ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1).build());
        ((ByteBuf) ch.readOutbound()).release();
        ch.writeOutbound(MqttMessageBuilders.publish().topicName(topic).qos(MqttQoS.valueOf(qos)).messageId(qos > 0 ? 1 : 0)
                .properties(version == 5 ? props : MqttProperties.NO_PROPERTIES)
                .payload(Unpooled.wrappedBuffer(new byte[payload])).build());
        long written = 0;
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            written += b.readableBytes();
            b.release();
        }
        ch.finishAndReleaseAll();
        assertThat(PacketSize.publish(topic, qos, version == 5 ? props : MqttProperties.NO_PROPERTIES, payload,
                version == 5)).isEqualTo(written);
    }
}
