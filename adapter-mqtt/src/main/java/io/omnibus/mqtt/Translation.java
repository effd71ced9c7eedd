package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttProperties;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.Origin;

import java.nio.ByteBuffer;

/**
 * MQTT ↔ envelope. MQTT 5 properties map to envelope fields (DESIGN.md §2): user properties ↔
 * headers, Content Type, Payload Format Indicator ↔ payload is UTF-8, Correlation Data, Response
 * Topic ↔ reply-to, Message Expiry Interval ↔ expires at, RETAIN, QoS &gt; 0 ↔ durable. QoS 2 is kept
 * in the header {@code mqtt.qos} so it survives a round trip; {@code mqtt.*} headers are never sent
 * as user properties.
 */
final class Translation {
    static final String QOS_HEADER = "mqtt.qos";

    private Translation() {
    }

    static Envelope toEnvelope(Address address, byte[] payload, int qos, boolean retain, MqttProperties props,
                               Origin origin, long now) {
        Envelope.Builder b = Envelope.builder(address).payload(payload).durable(qos > 0).retain(retain).origin(origin)
                .createdAt(now);
        if (qos == 2) {
            b.header(QOS_HEADER, "2");
        }
        if (props != null && !props.isEmpty()) {
            for (MqttProperties.MqttProperty<?> p : props.listAll()) {
                switch (p.propertyId()) {
                    case MqttProperties.PAYLOAD_FORMAT_INDICATOR -> b.payloadUtf8(((Integer) p.value()) == 1);
                    case MqttProperties.CONTENT_TYPE -> b.contentType((String) p.value());
                    case MqttProperties.RESPONSE_TOPIC -> b.replyTo((String) p.value());
                    case MqttProperties.CORRELATION_DATA -> b.correlation(((byte[]) p.value()).clone());
                    case MqttProperties.PUBLICATION_EXPIRY_INTERVAL ->
                            b.expiresAt(now + 1000L * Integer.toUnsignedLong((Integer) p.value()));
                    case MqttProperties.USER_PROPERTY -> {
                        if (p instanceof MqttProperties.UserProperties ups) {
                            for (MqttProperties.StringPair pair : ups.value()) {
                                b.header(pair.key, pair.value);
                            }
                        } else if (p.value() instanceof MqttProperties.StringPair pair) {
                            b.header(pair.key, pair.value);
                        }
                    }
                    default -> {
                        // topic alias and subscription identifiers are per connection, not message fields
                    }
                }
            }
        }
        return b.build();
    }

    /** The QoS the message was published with. */
    static int qosOf(Envelope e) {
        String q = e.header(QOS_HEADER);
        if (q != null) {
            return q.equals("2") ? 2 : q.equals("1") ? 1 : 0;
        }
        return e.durable() ? 1 : 0;
    }

    /** MQTT 5 PUBLISH properties for an envelope. */
    static MqttProperties properties(Envelope e, int subscriptionId, long now) {
        MqttProperties props = new MqttProperties();
        if (e.payloadUtf8()) {
            props.add(new MqttProperties.IntegerProperty(MqttProperties.PAYLOAD_FORMAT_INDICATOR, 1));
        }
        if (e.contentType() != null) {
            props.add(new MqttProperties.StringProperty(MqttProperties.CONTENT_TYPE, e.contentType()));
        }
        if (e.replyTo() != null) {
            props.add(new MqttProperties.StringProperty(MqttProperties.RESPONSE_TOPIC, e.replyTo()));
        }
        ByteBuffer correlation = e.correlation();
        if (correlation != null) {
            byte[] c = new byte[correlation.remaining()];
            correlation.get(c);
            props.add(new MqttProperties.BinaryProperty(MqttProperties.CORRELATION_DATA, c));
        }
        if (e.expiresAt() != 0) {
            long left = Math.max(1, (e.expiresAt() - now + 999) / 1000);
            props.add(new MqttProperties.IntegerProperty(MqttProperties.PUBLICATION_EXPIRY_INTERVAL,
                    (int) Math.min(Integer.MAX_VALUE, left)));
        }
        if (!e.headers().isEmpty()) {
            MqttProperties.UserProperties ups = new MqttProperties.UserProperties();
            for (Header h : e.headers()) {
                // bytes headers (another protocol's binary fields) cannot be UTF-8 user properties
                if (!h.name().startsWith("mqtt.") && h.isText()) {
                    ups.add(h.name(), h.stringValue());
                }
            }
            if (!ups.value().isEmpty()) {
                props.add(ups);
            }
        }
        if (subscriptionId > 0) {
            props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, subscriptionId));
        }
        return props;
    }

    static int intProperty(MqttProperties props, int id, int absent) {
        if (props == null) {
            return absent;
        }
        MqttProperties.MqttProperty<?> p = props.getProperty(id);
        return p == null ? absent : (Integer) p.value();
    }
}
