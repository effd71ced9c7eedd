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
 * encoder: {@link #remaining} answers -1 for it.
 */
final class MqttWire {
    private MqttWire() {
    }

    /** {@code m}'s Remaining Length [MQTT 2.1.4], or -1 when {@link #encode} does not encode it. */
    static int remaining(MqttMessage m, boolean v5) {
        MqttFixedHeader h = m.fixedHeader();
        MqttMessageType type = h.messageType();
        if (type == MqttMessageType.PUBLISH && m instanceof MqttPublishMessage p) {
            return publishRemaining(p, v5);
        }
        if ((type == MqttMessageType.PUBACK || type == MqttMessageType.PUBREC || type == MqttMessageType.PUBREL
                || type == MqttMessageType.PUBCOMP) && m.variableHeader() instanceof MqttPubReplyMessageVariableHeader r) {
            return r.properties().isEmpty() ? replyRemaining(r, v5) : -1;
        }
        return -1;
    }

    /** The bytes a packet of that Remaining Length takes on the wire, its fixed header included. */
    static int size(int remaining) {
        return 1 + PacketSize.varIntSize(remaining) + remaining;
    }

    /** Writes {@code m}, whose {@link #remaining} length is {@code remaining} (not -1), to {@code out}. */
    static void encode(MqttMessage m, boolean v5, int remaining, ByteBuf out) {
        MqttFixedHeader h = m.fixedHeader();
        out.writeByte(firstByte(h));
        if (h.messageType() == MqttMessageType.PUBLISH) {
            MqttPublishMessage p = (MqttPublishMessage) m;
            MqttPublishVariableHeader vh = p.variableHeader();
            writeVarInt(out, remaining);
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

    /** The remaining length of a PUBLISH ({@link PacketSize} sizes it), or -1 when this does not encode it. */
    private static int publishRemaining(MqttPublishMessage p, boolean v5) {
        MqttPublishVariableHeader vh = p.variableHeader();
        int topicBytes = ByteBufUtil.utf8Bytes(vh.topicName());
        if (topicBytes > MAX_STRING || v5 && !encodable(vh.properties())) {
            return -1;
        }
        return (int) PacketSize.publishRemaining(topicBytes, p.fixedHeader().qosLevel().value(), vh.properties(),
                p.payload().readableBytes(), v5);
    }

    // ---- MQTT 5 properties of a PUBLISH [MQTT 3.3.2.3] ----------------------------------------------------------

    private static final int MAX_STRING = 65_535;

    /**
     * Whether every property is one a PUBLISH carries, with a value of its type that fits its length field: what
     * {@link #writeProperties} writes (the sizes are {@link PacketSize}'s).
     */
    private static boolean encodable(MqttProperties props) {
        if (props.isEmpty()) {
            return true;
        }
        for (MqttProperties.MqttProperty<?> p : all(props)) {
            Object v = p.value();
            boolean ok = switch (p.propertyId()) {
                case 0x01, 0x02, 0x23, 0x0B -> v instanceof Integer; // format, expiry, alias, subscription id
                case 0x08, 0x03 -> v instanceof String s && ByteBufUtil.utf8Bytes(s) <= MAX_STRING; // response topic, type
                case 0x09 -> v instanceof byte[] b && b.length <= MAX_STRING; // correlation data
                case 0x26 -> v instanceof List<?> pairs && pairs.stream().allMatch(MqttWire::encodablePair); // user
                // properties: listAll gives them as one property holding the list
                default -> false;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean encodablePair(Object o) {
        return o instanceof MqttProperties.StringPair pair && ByteBufUtil.utf8Bytes(pair.key) <= MAX_STRING
                && ByteBufUtil.utf8Bytes(pair.value) <= MAX_STRING;
    }

    private static Collection<? extends MqttProperties.MqttProperty<?>> all(MqttProperties props) {
        @SuppressWarnings("unchecked")
        Collection<? extends MqttProperties.MqttProperty<?>> all =
                (Collection<? extends MqttProperties.MqttProperty<?>>) (Collection<?>) props.listAll();
        return all;
    }

    private static void writeProperties(ByteBuf out, MqttProperties props) {
        int size = props.isEmpty() ? 0 : (int) PacketSize.properties(props);
        writeVarInt(out, size);
        if (size == 0) {
            return;
        }
        for (MqttProperties.MqttProperty<?> p : all(props)) {
            int id = p.propertyId();
            Object v = p.value();
            if (id == 0x26) {
                for (Object o : (List<?>) v) {
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

    private static void writeString(ByteBuf out, String s) {
        int lengthAt = out.writerIndex();
        out.writeShort(0);
        int n = ByteBufUtil.writeUtf8(out, s);
        out.setShort(lengthAt, n);
    }

    static void writeVarInt(ByteBuf out, int value) {
        do {
            int digit = value & 0x7F;
            value >>>= 7;
            out.writeByte(value > 0 ? digit | 0x80 : digit);
        } while (value > 0);
    }
}
