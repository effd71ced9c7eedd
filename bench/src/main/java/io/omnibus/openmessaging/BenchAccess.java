package io.omnibus.openmessaging;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** For the translation benchmark: the RocketMQ adapter's own translation, on a reference sent message. */
public final class BenchAccess {
    private static final Origin ORIGIN = new Origin("openmessaging", "bench", "b-1");
    private static final byte[] BODY = "{\"temp\":21.5,\"unit\":\"C\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] HOST = {127, 0, 0, 1};

    private BenchAccess() {
    }

    /** A message with tag, keys, its id, a correlation id and two user properties. */
    public static Envelope in(Address address) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("TAGS", "reading");
        props.put("KEYS", "dev-1");
        props.put("UNIQ_KEY", "7F0000010A2B18B4AAC27A5E3C1D0000");
        props.put("CORRELATION_ID", "c-1234");
        props.put("site", "plant-4");
        props.put("firmware", "2.1.7");
        props.put("WAIT", "true");
        return Translation.toEnvelope(address, 0, System.currentTimeMillis(), 0, props, ByteBuffer.wrap(BODY), ORIGIN);
    }

    /** What a RocketMQ consumer gets: the stored layout of a pull answer (head, body view, tail). */
    public static Object out(Envelope e) {
        return Translation.toWire("bench|x", 0, 41, 41, e, () -> { }).encodeStored(HOST, 9876);
    }
}
