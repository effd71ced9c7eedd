package io.omnibus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;

import java.util.Collection;
import java.util.List;

/**
 * The packets of the delivery path encoded by hand, into a buffer that holds a run of them: PUBLISH and PUBACK,
 * PUBREC, PUBREL, PUBCOMP without properties [MQTT 3.3, 3.4–3.7]. netty-codec-mqtt's encoder makes a buffer and a
 * write per packet and checks the topic of every PUBLISH again, which a profile of one subscriber's delivery showed
 * as a fifth of the work of sending. Everything else (and a PUBLISH with a property this does not know) goes to that
 * encoder: {@link #size} answers -1 for it.
 */
final class MqttWire {
    private MqttWire() {
    }

    /** The bytes {@code m} takes on the wire, or -1 when {@link #encode} does not encode it. */
    static int size(MqttMessage m, boolean v5) {
        MqttFixedHeader h = m.fixedHeader();
        MqttMessageType type = h.messageType();
        if (type == MqttMessageType.PUBLISH && m instanceof MqttPublishMessage p) {
            int remaining = publishRemaining(p, v5);
            return remaining < 0 ? -1 : 1 + varIntSize(remaining) + remaining;
        }
        if ((type == MqttMessageType.PUBACK || type == MqttMessageType.PUBREC || type == MqttMessageType.PUBREL
                || type == MqttMessageType.PUBCOMP) && m.variableHeader() instanceof MqttPubReplyMessageVariableHeader r) {
            if (!r.properties().isEmpty()) {
                return -1;
            }
            return 2 + replyRemaining(r, v5);
        }
        return -1;
    }

    /** Writes {@code m}, whose {@link #size} was not -1, to {@code out}. */
    static void encode(MqttMessage m, boolean v5, ByteBuf out) {
        MqttFixedHeader h = m.fixedHeader();
        if (h.messageType() == MqttMessageType.PUBLISH) {
            MqttPublishMessage p = (MqttPublishMessage) m;
            MqttPublishVariableHeader vh = p.variableHeader();
            out.writeByte(firstByte(h));
            writeVarInt(out, publishRemaining(p, v5));
            writeString(out, vh.topicName());
            if (h.qosLevel().value() > 0) {
                out.writeShort(vh.packetId());
            }
            if (v5) {
                writeProperties(out, vh.properties());
            }
            ByteBuf payload = p.payload();
            out.writeBytes(payload, payload.readerIndex(), payload.readableBytes());
            return;
        }
        MqttPubReplyMessageVariableHeader r = (MqttPubReplyMessageVariableHeader) m.variableHeader();
        int remaining = replyRemaining(r, v5);
        out.writeByte(firstByte(h));
        out.writeByte(remaining);
        out.writeShort(r.messageId());
        if (remaining == 4) {
            out.writeByte(r.reasonCode());
            out.writeByte(0); // no properties
        }
    }

    /** Type, and the flags [MQTT 2.1.3]: PUBREL's are fixed (0010), PUBLISH's are DUP, QoS and RETAIN. */
    private static int firstByte(MqttFixedHeader h) {
        int first = h.messageType().value() << 4;
        if (h.messageType() == MqttMessageType.PUBLISH) {
            first |= (h.isDup() ? 0x08 : 0) | h.qosLevel().value() << 1 | (h.isRetain() ? 0x01 : 0);
        } else if (h.messageType() == MqttMessageType.PUBREL) {
            first |= 0x02;
        }
        return first;
    }

    /**
     * MQTT 5 leaves out a success reason with no properties [MQTT 3.4.2.1], and writes another reason with an empty
     * property length (as netty-codec-mqtt does: the shorter form is allowed, but not every client reads it);
     * MQTT 3.1.1 has no reason.
     */
    private static int replyRemaining(MqttPubReplyMessageVariableHeader r, boolean v5) {
        return v5 && r.reasonCode() != 0 ? 4 : 2;
    }

    private static int publishRemaining(MqttPublishMessage p, boolean v5) {
        MqttPublishVariableHeader vh = p.variableHeader();
        int topic = stringSize(vh.topicName());
        if (topic < 0) {
            return -1;
        }
        int n = topic;
        if (p.fixedHeader().qosLevel().value() > 0) {
            n += 2;
        }
        if (v5) {
            int props = propertiesSize(vh.properties());
            if (props < 0) {
                return -1;
            }
            n += varIntSize(props) + props;
        }
        return n + p.payload().readableBytes();
    }

    // ---- MQTT 5 properties of a PUBLISH [MQTT 3.3.2.3] ----------------------------------------------------------

    /** The properties' length, without its own length field; -1 when one of them is not a PUBLISH property. */
    private static int propertiesSize(MqttProperties props) {
        if (props.isEmpty()) {
            return 0;
        }
        int n = 0;
        for (MqttProperties.MqttProperty<?> p : all(props)) {
            int value = valueSize(p);
            if (value < 0) {
                return -1;
            }
            n += value;
        }
        return n;
    }

    private static Collection<? extends MqttProperties.MqttProperty<?>> all(MqttProperties props) {
        @SuppressWarnings("unchecked")
        Collection<? extends MqttProperties.MqttProperty<?>> all =
                (Collection<? extends MqttProperties.MqttProperty<?>>) (Collection<?>) props.listAll();
        return all;
    }

    /** One property with its identifier (one byte for all of them), or -1. */
    private static int valueSize(MqttProperties.MqttProperty<?> p) {
        Object v = p.value();
        return switch (p.propertyId()) {
            case 0x01 -> v instanceof Integer ? 2 : -1; // payload format indicator: byte
            case 0x02 -> v instanceof Integer ? 5 : -1; // message expiry interval: four bytes
            case 0x23 -> v instanceof Integer ? 3 : -1; // topic alias: two bytes
            case 0x0B -> v instanceof Integer i ? 1 + varIntSize(i) : -1; // subscription identifier
            case 0x08, 0x03 -> { // response topic, content type
                int n = v instanceof String s ? stringSize(s) : -1;
                yield n < 0 ? -1 : 1 + n;
            }
            case 0x09 -> v instanceof byte[] b && b.length <= 65_535 ? 3 + b.length : -1; // correlation data
            case 0x26 -> { // user properties: one pair per property
                int n = 0;
                for (Object o : pairs(v)) {
                    if (!(o instanceof MqttProperties.StringPair pair)) {
                        yield -1;
                    }
                    int key = stringSize(pair.key);
                    int value = stringSize(pair.value);
                    if (key < 0 || value < 0) {
                        yield -1;
                    }
                    n += 1 + key + value;
                }
                yield n;
            }
            default -> -1;
        };
    }

    /** listAll() gives the user properties as one property holding all pairs; one pair alone is taken too. */
    private static List<?> pairs(Object v) {
        return v instanceof List<?> list ? list : List.of(v);
    }

    private static void writeProperties(ByteBuf out, MqttProperties props) {
        int size = propertiesSize(props);
        writeVarInt(out, size);
        if (size == 0) {
            return;
        }
        for (MqttProperties.MqttProperty<?> p : all(props)) {
            int id = p.propertyId();
            Object v = p.value();
            if (id == 0x26) {
                for (Object o : pairs(v)) {
                    MqttProperties.StringPair pair = (MqttProperties.StringPair) o;
                    out.writeByte(id);
                    writeString(out, pair.key);
                    writeString(out, pair.value);
                }
                continue;
            }
            out.writeByte(id);
            switch (id) {
                case 0x01 -> out.writeByte((Integer) v);
                case 0x02 -> out.writeInt((Integer) v);
                case 0x23 -> out.writeShort((Integer) v);
                case 0x0B -> writeVarInt(out, (Integer) v);
                case 0x09 -> {
                    byte[] b = (byte[]) v;
                    out.writeShort(b.length);
                    out.writeBytes(b);
                }
                default -> writeString(out, (String) v);
            }
        }
    }

    // ---- data types [MQTT 1.5] ---------------------------------------------------------------------------------

    /** A UTF-8 string with its two-byte length [MQTT 1.5.4], or -1 when it does not fit one. */
    private static int stringSize(String s) {
        int n = ByteBufUtil.utf8Bytes(s);
        return n > 65_535 ? -1 : 2 + n;
    }

    private static void writeString(ByteBuf out, String s) {
        int lengthAt = out.writerIndex();
        out.writeShort(0);
        int n = ByteBufUtil.writeUtf8(out, s);
        out.setShort(lengthAt, n);
    }

    static int varIntSize(int value) {
        return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
    }

    static void writeVarInt(ByteBuf out, int value) {
        do {
            int digit = value & 0x7F;
            value >>>= 7;
            out.writeByte(value > 0 ? digit | 0x80 : digit);
        } while (value > 0);
    }
}
