package io.omnibus.amqp;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.Origin;
import io.vertx.core.json.JsonObject;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedByte;
import org.apache.qpid.proton.amqp.UnsignedInteger;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.AmqpSequence;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each row of the AMQP mapping table (docs/amqp.md), in and out, and the lossless AMQP round trip. */
class AmqpTranslationTest {
    private static final Origin AMQP = new Origin("amqp", "c", "amqp-1");
    private static final Origin MQTT = new Origin("mqtt", "dev", "mqtt-1");
    private static final long NOW = 1_700_000_000_000L;

    private static Message full() {
        Message m = Message.Factory.create();
        org.apache.qpid.proton.amqp.messaging.Header h = new org.apache.qpid.proton.amqp.messaging.Header();
        h.setDurable(true);
        h.setPriority(UnsignedByte.valueOf((byte) 7));
        h.setTtl(UnsignedInteger.valueOf(60_000));
        m.setHeader(h);
        Properties p = new Properties();
        p.setMessageId(UnsignedLong.valueOf(42));
        p.setCorrelationId(UUID.fromString("5c1e8b7a-0000-4000-8000-000000000001"));
        p.setReplyTo("replies/here");
        p.setContentType(Symbol.valueOf("text/plain"));
        p.setContentEncoding(Symbol.valueOf("identity"));
        p.setCreationTime(new Date(NOW - 5));
        p.setGroupId("order-7");
        p.setGroupSequence(UnsignedInteger.valueOf(3));
        p.setSubject("reading");
        p.setUserId(new Binary("svc".getBytes(StandardCharsets.UTF_8)));
        m.setProperties(p);
        Map<String, Object> ap = new LinkedHashMap<>();
        ap.put("site", "north");
        ap.put("count", 7);
        ap.put("ratio", 0.5d);
        ap.put("raw", new Binary(new byte[]{1, 2}));
        ap.put("when", new Date(NOW));
        m.setApplicationProperties(new ApplicationProperties(ap));
        Map<Symbol, Object> ma = new LinkedHashMap<>();
        ma.put(Symbol.valueOf("x-opt-custom"), 9L);
        m.setMessageAnnotations(new MessageAnnotations(ma));
        m.setBody(new AmqpValue("héllo"));
        return m;
    }

    @Test
    void everySectionMapsToItsEnvelopeField() {
        Envelope e = AmqpTranslation.toEnvelope(full(), Address.of("in/q"), false, AMQP, NOW);
        assertThat(e.durable()).isTrue();
        assertThat(e.priority()).isEqualTo(7);
        assertThat(e.expiresAt()).isEqualTo(NOW + 60_000);
        assertThat(e.messageId()).isEqualTo("42");
        assertThat(new String(e.payloadBytes(), StandardCharsets.UTF_8)).isEqualTo("héllo");
        assertThat(e.payloadUtf8()).isTrue(); // AmqpValue(string) is text
        assertThat(e.contentType()).isEqualTo("text/plain");
        assertThat(e.replyTo()).isEqualTo("replies/here");
        assertThat(e.createdAt()).isEqualTo(NOW - 5);
        assertThat(new String(e.payloadBytes(), StandardCharsets.UTF_8)).isEqualTo("héllo");
        assertThat(e.key()).isEqualTo(java.nio.ByteBuffer.wrap("order-7".getBytes(StandardCharsets.UTF_8)));
        assertThat(e.header("site")).isEqualTo("north");
        assertThat(e.header("count")).isEqualTo("7"); // text for everyone, the type kept aside
        assertThat(e.header(AmqpTranslation.SUBJECT)).isEqualTo("reading");
        assertThat(e.header(AmqpTranslation.ANNOTATION + "x-opt-custom")).isEqualTo("9");
    }

    @Test
    void aMessageLeavingByAmqpLooksAsItCameIn() {
        Message in = full();
        Envelope e = AmqpTranslation.toEnvelope(in, Address.of("in/q"), false, AMQP, NOW);
        Message out = AmqpTranslation.toMessage(e, 0, NOW);
        assertThat(out.getProperties().getMessageId()).isEqualTo(UnsignedLong.valueOf(42));
        assertThat(out.getProperties().getCorrelationId()).isEqualTo(in.getProperties().getCorrelationId());
        assertThat(out.getProperties().getGroupId()).isEqualTo("order-7");
        assertThat(out.getProperties().getGroupSequence()).isEqualTo(UnsignedInteger.valueOf(3));
        assertThat(out.getProperties().getSubject()).isEqualTo("reading");
        assertThat(out.getProperties().getUserId()).isEqualTo(new Binary("svc".getBytes(StandardCharsets.UTF_8)));
        assertThat(out.getProperties().getContentEncoding().toString()).isEqualTo("identity");
        assertThat(out.getProperties().getCreationTime()).isEqualTo(new Date(NOW - 5));
        assertThat(out.getApplicationProperties().getValue()).isEqualTo(in.getApplicationProperties().getValue());
        assertThat(out.getMessageAnnotations().getValue()).containsEntry(Symbol.valueOf("x-opt-custom"), 9L);
        assertThat(out.getHeader().getPriority()).isEqualTo(UnsignedByte.valueOf((byte) 7));
        assertThat(out.getHeader().getDurable()).isTrue();
        assertThat(((AmqpValue) out.getBody()).getValue()).isEqualTo("héllo");
    }

    @Test
    void eachMessageGetsItsOwnPropertyTypesBackThoughTheParsedTypeHeadersAreShared() {
        Message asInt = Message.Factory.create();
        asInt.setApplicationProperties(new ApplicationProperties(Map.of("n", 5)));
        Message asLong = Message.Factory.create();
        asLong.setApplicationProperties(new ApplicationProperties(Map.of("n", 5L)));
        Envelope i = AmqpTranslation.toEnvelope(asInt, Address.of("q"), false, AMQP, NOW);
        Envelope l = AmqpTranslation.toEnvelope(asLong, Address.of("q"), false, AMQP, NOW);
        for (int round = 0; round < 3; round++) { // the second and third rounds read the parsed headers kept
            assertThat(AmqpTranslation.toMessage(i, 0, NOW).getApplicationProperties().getValue().get("n")).isEqualTo(5);
            assertThat(AmqpTranslation.toMessage(l, 0, NOW).getApplicationProperties().getValue().get("n")).isEqualTo(5L);
        }
        // a malformed type header (from anywhere) leaves the values as they are, as text
        Envelope malformed = Envelope.builder("q").payload(new byte[0]).header("n", "5")
                .header(AmqpTranslation.PROPERTY_TYPES, "{not json").origin(MQTT).build();
        assertThat(AmqpTranslation.toMessage(malformed, 0, NOW).getApplicationProperties().getValue().get("n"))
                .isEqualTo("5");
    }

    @Test
    void anApplicationPropertyNamedLikeOurHeadersIsKeptApartAndComesBackAsItWas() {
        Message in = Message.Factory.create();
        in.setApplicationProperties(new ApplicationProperties(Map.of("amqp.group-sequence", "not a number")));
        Envelope e = AmqpTranslation.toEnvelope(in, Address.of("q"), false, AMQP, NOW);
        assertThat(e.header(AmqpTranslation.GROUP_SEQUENCE)).isNull();
        Message out = AmqpTranslation.toMessage(e, 0, NOW);
        assertThat(out.getApplicationProperties().getValue()).containsEntry("amqp.group-sequence", "not a number");
        // and a stray header of that name from another protocol does not break the delivery
        Envelope stray = Envelope.builder("q").payload(new byte[0]).header(AmqpTranslation.GROUP_SEQUENCE, "x")
                .header(AmqpTranslation.BODY, "not a section").origin(MQTT).build();
        assertThat(AmqpTranslation.toMessage(stray, 0, NOW).getProperties().getGroupSequence()).isNull();
    }

    @Test
    void mapsListsAndSequencesBecomeJsonForOthersAndStayThemselvesForAmqp() {
        Message in = Message.Factory.create();
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("unit", "C");
        map.put("value", 21.5d);
        map.put("tags", List.of("a", "b"));
        in.setBody(new AmqpValue(map));
        Envelope e = AmqpTranslation.toEnvelope(in, Address.of("m"), false, AMQP, NOW);
        assertThat(new JsonObject(e.payloadAsString())).isEqualTo(new JsonObject()
                .put("unit", "C").put("value", 21.5).put("tags", new io.vertx.core.json.JsonArray().add("a").add("b")));
        assertThat(e.contentType()).isEqualTo(AmqpTranslation.JSON);
        assertThat(e.payloadUtf8()).isTrue();
        assertThat(((AmqpValue) AmqpTranslation.toMessage(e, 0, NOW).getBody()).getValue()).isEqualTo(map);

        Message seq = Message.Factory.create();
        seq.setBody(new AmqpSequence(List.of(1, 2, 3)));
        Envelope s = AmqpTranslation.toEnvelope(seq, Address.of("m"), false, AMQP, NOW);
        assertThat(s.payloadAsString()).isEqualTo("[1,2,3]");
        assertThat(s.contentType()).isEqualTo(AmqpTranslation.JSON_SEQUENCE);
        assertThat(((AmqpSequence) AmqpTranslation.toMessage(s, 0, NOW).getBody()).getValue()).isEqualTo(List.of(1, 2, 3));
    }

    /** Sections as a client may send them, encoded one after the other. */
    private static byte[] sections(Object... sections) {
        org.apache.qpid.proton.codec.DecoderImpl dec = new org.apache.qpid.proton.codec.DecoderImpl();
        org.apache.qpid.proton.codec.EncoderImpl enc = new org.apache.qpid.proton.codec.EncoderImpl(dec);
        org.apache.qpid.proton.codec.AMQPDefinedTypes.registerAllTypes(dec, enc);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096);
        enc.setByteBuffer(b);
        for (Object s : sections) {
            enc.writeObject(s);
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    @Test
    void severalDataSectionsAreOnePayloadAndSeveralSequencesOneSequence() {
        Properties p = new Properties();
        p.setSubject("parts");
        byte[] data = sections(p, new Data(new Binary("one-".getBytes(StandardCharsets.UTF_8))),
                new Data(new Binary("two".getBytes(StandardCharsets.UTF_8))));
        Message m = Sections.decode(data, data.length);
        assertThat(m.getProperties().getSubject()).isEqualTo("parts");
        Envelope e = AmqpTranslation.toEnvelope(m, Address.of("a"), false, AMQP, NOW);
        assertThat(e.payloadAsString()).isEqualTo("one-two");

        byte[] seqs = sections(new AmqpSequence(List.of(1, 2)), new AmqpSequence(List.of("three")));
        Message s = Sections.decode(seqs, seqs.length);
        assertThat(((AmqpSequence) s.getBody()).getValue()).containsExactly(1, 2, "three");
        assertThat(AmqpTranslation.toEnvelope(s, Address.of("a"), false, AMQP, NOW).payloadAsString())
                .isEqualTo("[1,2,\"three\"]");
    }

    @Test
    void sectionsOutOfOrderOrABodyMixingKindsAreRefused() {
        Properties p = new Properties();
        byte[] late = sections(new Data(new Binary(new byte[] {1})), p);
        assertThatThrownBy(() -> Sections.decode(late, late.length))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("after the body");
        byte[] mixed = sections(new Data(new Binary(new byte[] {1})), new AmqpValue("x"));
        assertThatThrownBy(() -> Sections.decode(mixed, mixed.length))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("AmqpValue after the body");
    }

    @Test
    void aUserPropertyNamedTwiceKeepsAllItsValuesAndComesBackAsItWas() {
        Envelope e = Envelope.builder("a").payload("x").header("tag", "red").header("unit", "C").header("tag", "blue")
                .origin(MQTT).build();
        Message m = AmqpTranslation.toMessage(e, 0, NOW);
        assertThat(m.getApplicationProperties().getValue()).containsEntry("tag", "red").containsEntry("unit", "C");
        assertThat(m.getMessageAnnotations().getValue().get(AmqpTranslation.REPEATED))
                .isEqualTo(Map.of("tag", List.of("red", "blue")));
        Envelope back = AmqpTranslation.toEnvelope(m, Address.of("a"), false, AMQP, NOW);
        assertThat(back.headers("tag")).extracting(Header::stringValue).containsExactly("red", "blue");
        assertThat(back.headers()).extracting(Header::name).doesNotContain("amqp.message-annotations."
                + AmqpTranslation.REPEATED);
    }

    @Test
    void dataAndBinaryBodiesAreThePayloadBytes() {
        Message d = Message.Factory.create();
        d.setBody(new Data(new Binary(new byte[]{0, (byte) 0xff})));
        Envelope e = AmqpTranslation.toEnvelope(d, Address.of("b"), true, AMQP, NOW);
        assertThat(e.payloadBytes()).containsExactly(0, 0xff);
        assertThat(e.payloadUtf8()).isFalse();
        assertThat(e.durable()).isFalse(); // pre-settled and not durable: may skip the fsync
        Message v = Message.Factory.create();
        v.setBody(new AmqpValue(new Binary(new byte[]{5})));
        assertThat(AmqpTranslation.toEnvelope(v, Address.of("b"), false, AMQP, NOW).payloadBytes()).containsExactly(5);
        assertThat(((Data) AmqpTranslation.toMessage(e, 0, NOW).getBody()).getValue().getArray()).contains((byte) 0xff);
    }

    @Test
    void anUnsettledTransferIsStoredDurablyEvenWhenTheHeaderSaysOtherwiseAndTheHeaderIsKept() {
        Message m = Message.Factory.create();
        m.setBody(new AmqpValue("x"));
        Envelope e = AmqpTranslation.toEnvelope(m, Address.of("q"), false, AMQP, NOW);
        assertThat(e.durable()).isTrue();
        assertThat(AmqpTranslation.toMessage(e, 0, NOW).getHeader().getDurable()).isFalse();
    }

    @Test
    void deliveryTimeAndRetainAnnotationsSetTheirFields() {
        Message m = Message.Factory.create();
        Map<Symbol, Object> ma = new LinkedHashMap<>();
        ma.put(AmqpTranslation.DELIVERY_TIME, NOW + 10_000);
        ma.put(AmqpTranslation.RETAIN, true);
        m.setMessageAnnotations(new MessageAnnotations(ma));
        Envelope e = AmqpTranslation.toEnvelope(m, Address.of("q"), false, AMQP, NOW);
        assertThat(e.deliverAt()).isEqualTo(NOW + 10_000);
        assertThat(e.retain()).isTrue();
        Message delay = Message.Factory.create();
        delay.setMessageAnnotations(new MessageAnnotations(Map.of(AmqpTranslation.DELIVERY_DELAY, 500L)));
        assertThat(AmqpTranslation.toEnvelope(delay, Address.of("q"), false, AMQP, NOW).deliverAt()).isEqualTo(NOW + 500);
    }

    @Test
    void anMqttMessageArrivesAsDesignMdsTableSays() {
        Envelope e = Envelope.builder("sensors/dev-17/temp").payload("{\"t\":1}".getBytes(StandardCharsets.UTF_8))
                .contentType("application/json")
                .correlation("req-1".getBytes(StandardCharsets.UTF_8)).replyTo("devices/dev-17/replies")
                .header("site", "north").header("site", "south").header(Header.ofBytes("blob", new byte[]{1}))
                .retain(true).durable(true).expiresAt(NOW + 30_000).origin(MQTT).build();
        Message m = AmqpTranslation.toMessage(e, 2, NOW);
        assertThat(m.getProperties().getTo()).isEqualTo("sensors/dev-17/temp");
        assertThat(m.getProperties().getCorrelationId()).isEqualTo("req-1"); // UTF-8 correlation data: a string id
        assertThat(m.getProperties().getReplyTo()).isEqualTo("devices/dev-17/replies");
        assertThat(m.getProperties().getContentType().toString()).isEqualTo("application/json");
        assertThat(m.getApplicationProperties().getValue()).containsEntry("site", "north") // a map: the first wins
                .containsEntry("blob", new Binary(new byte[]{1}));
        assertThat(m.getMessageAnnotations().getValue()).containsEntry(AmqpTranslation.RETAIN, true)
                .containsEntry(AmqpTranslation.JMS_REPLY_TO_TYPE, AmqpTranslation.JMS_TOPIC);
        assertThat(m.getHeader().getTtl()).isEqualTo(UnsignedInteger.valueOf(30_000));
        assertThat(m.getHeader().getDeliveryCount()).isEqualTo(UnsignedInteger.valueOf(2));
        assertThat(m.getBody()).isInstanceOf(Data.class); // no payload format indicator: bytes
        Envelope binaryCorrelation = e.toBuilder().correlation(new byte[]{(byte) 0xc3, 0x28}).build();
        assertThat(AmqpTranslation.toMessage(binaryCorrelation, 0, NOW).getProperties().getCorrelationId())
                .isEqualTo(new Binary(new byte[]{(byte) 0xc3, 0x28}));
    }
}
