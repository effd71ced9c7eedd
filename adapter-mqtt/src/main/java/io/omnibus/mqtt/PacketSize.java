package io.omnibus.mqtt;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.mqtt.MqttProperties;

import java.util.List;

/**
 * The exact encoded size of an outgoing PUBLISH, for the client's Maximum Packet Size [MQTT-3.1.2-24]: the whole
 * packet, fixed header included, as MQTT 5 §2 encodes it.
 */
final class PacketSize {
    private PacketSize() {
    }

    /** {@code v5}: MQTT 5 packets carry a properties length (and properties); 3.1.1 packets none. */
    static long publish(String topic, int qos, MqttProperties props, int payload, boolean v5) {
        long remaining = publishRemaining(topic, qos, props, payload, v5);
        return 1 + varIntSize(remaining) + remaining;
    }

    /** The same PUBLISH without its fixed header: what its Remaining Length says. */
    static long publishRemaining(String topic, int qos, MqttProperties props, int payload, boolean v5) {
        return publishRemaining(ByteBufUtil.utf8Bytes(topic), qos, props, payload, v5);
    }

    /** The same, for a topic of {@code topicBytes} in UTF-8. */
    static long publishRemaining(int topicBytes, int qos, MqttProperties props, int payload, boolean v5) {
        long properties = v5 && !props.isEmpty() ? properties(props) : 0;
        return 2 + topicBytes + (qos > 0 ? 2 : 0) + (v5 ? varIntSize(properties) + properties : 0) + payload;
    }

    /** The properties' bytes, without their length prefix (MQTT 5 §2.2.2.2: each is an identifier and a value). */
    static long properties(MqttProperties props) {
        long n = 0;
        for (MqttProperties.MqttProperty<?> p : props.listAll()) {
            Object v = p.value();
            if (v instanceof String str) {
                n += 1 + 2 + ByteBufUtil.utf8Bytes(str);
            } else if (v instanceof byte[] b) {
                n += 1 + 2 + b.length;
            } else if (v instanceof List<?> pairs) { // user properties: one identifier per pair
                for (Object pair : pairs) {
                    MqttProperties.StringPair sp = (MqttProperties.StringPair) pair;
                    n += 1 + 2 + ByteBufUtil.utf8Bytes(sp.key) + 2 + ByteBufUtil.utf8Bytes(sp.value);
                }
            } else if (v instanceof Integer i) {
                n += 1 + integerSize(p.propertyId(), i);
            }
        }
        return n;
    }

    private static int integerSize(int id, int value) {
        if (id == MqttProperties.SUBSCRIPTION_IDENTIFIER) {
            return varIntSize(value);
        }
        if (id == MqttProperties.PAYLOAD_FORMAT_INDICATOR) {
            return 1;
        }
        if (id == MqttProperties.TOPIC_ALIAS) {
            return 2;
        }
        return 4; // Message Expiry Interval
    }

    static int varIntSize(long value) {
        return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
    }
}
