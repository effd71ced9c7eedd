package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttProperties;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;

import java.nio.charset.StandardCharsets;

/** For the translation benchmark: the MQTT adapter's own translation, on a reference MQTT 5 publish. */
public final class BenchAccess {
    private static final Origin ORIGIN = new Origin("mqtt", "bench", "b-1");
    private static final byte[] PAYLOAD = "{\"temp\":21.5,\"unit\":\"C\"}".getBytes(StandardCharsets.UTF_8);

    private BenchAccess() {
    }

    /** A QoS 1 publish with a content type, correlation data, a response topic and two user properties. */
    public static Envelope in(Address address) {
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.IntegerProperty(MqttProperties.PAYLOAD_FORMAT_INDICATOR, 1));
        props.add(new MqttProperties.StringProperty(MqttProperties.CONTENT_TYPE, "application/json"));
        props.add(new MqttProperties.BinaryProperty(MqttProperties.CORRELATION_DATA, new byte[] {1, 2, 3, 4}));
        props.add(new MqttProperties.StringProperty(MqttProperties.RESPONSE_TOPIC, "replies/dev-1"));
        MqttProperties.UserProperties user = new MqttProperties.UserProperties();
        user.add("site", "plant-4");
        user.add("firmware", "2.1.7");
        props.add(user);
        return Translation.toEnvelope(address, PAYLOAD, 1, false, props, ORIGIN, System.currentTimeMillis());
    }

    /** What an MQTT 5 subscriber gets: the PUBLISH properties (the payload is the envelope's buffer). */
    public static Object out(Envelope e) {
        return Translation.properties(e, 0, System.currentTimeMillis());
    }
}
