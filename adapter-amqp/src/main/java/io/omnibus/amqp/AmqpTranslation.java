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
import org.apache.qpid.proton.amqp.UnsignedShort;
import org.apache.qpid.proton.amqp.messaging.AmqpSequence;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Section;
import org.apache.qpid.proton.message.Message;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.omnibus.amqp.AmqpValues.bytes;
import static io.omnibus.amqp.AmqpValues.decodeSectionOrNull;
import static io.omnibus.amqp.AmqpValues.encodeSection;
import static io.omnibus.amqp.AmqpValues.idText;
import static io.omnibus.amqp.AmqpValues.idType;
import static io.omnibus.amqp.AmqpValues.scalarText;
import static io.omnibus.amqp.AmqpValues.scalarType;
import static io.omnibus.amqp.AmqpValues.toJson;
import static io.omnibus.amqp.AmqpValues.typed;
import static io.omnibus.amqp.AmqpValues.typedId;
import static io.omnibus.amqp.AmqpValues.utf8OrNull;

/**
 * AMQP 1.0 messages to envelopes and back (docs/amqp.md has the table). What the envelope has no field for
 * is kept in {@code amqp.*} headers, so a message that leaves by AMQP looks as it came in: typed
 * application-properties and message ids, message annotations, subject, user id, and bodies other than
 * Data / string / binary (kept as their AMQP encoding, with a JSON rendering as the payload every other
 * protocol receives, content type {@value #JSON}).
 */
final class AmqpTranslation {
    static final String PREFIX = "amqp.";
    static final String MESSAGE_ID_TYPE = "amqp.message-id-type";
    static final String CORRELATION_ID_TYPE = "amqp.correlation-id-type";
    static final String DURABLE = "amqp.durable";
    static final String SUBJECT = "amqp.subject";
    /** Every value of an application property name a message had more than once (MQTT 5 allows it): name to list. */
    static final Symbol REPEATED = Symbol.valueOf("x-opt-omnibus-repeated-properties");
    static final String USER_ID = "amqp.user-id";
    static final String CONTENT_ENCODING = "amqp.content-encoding";
    static final String GROUP_SEQUENCE = "amqp.group-sequence";
    static final String REPLY_TO_GROUP_ID = "amqp.reply-to-group-id";
    static final String PROPERTY_TYPES = "amqp.application-properties.types";
    /** An application property whose own name starts with {@code amqp.} travels under this prefix. */
    static final String ESCAPED_PROPERTY = "amqp.application-property.";
    static final String ANNOTATION = "amqp.message-annotations.";
    static final String ANNOTATION_TYPES = "amqp.message-annotations.types";
    static final String BODY = "amqp.body";
    static final String BODY_CONTENT_TYPE = "amqp.body.content-type";
    static final String JSON = "application/json; amqp-body=value";
    static final String JSON_SEQUENCE = "application/json; amqp-body=sequence";

    static final Symbol DELIVERY_TIME = Symbol.valueOf("x-opt-delivery-time");
    static final Symbol DELIVERY_DELAY = Symbol.valueOf("x-opt-delivery-delay");
    static final Symbol RETAIN = Symbol.valueOf("x-opt-retain");
    /** Qpid JMS: the type of the reply-to destination (1 = topic), so a JMS reply to an MQTT response topic is a topic. */
    static final Symbol JMS_REPLY_TO_TYPE = Symbol.valueOf("x-opt-jms-reply-to");
    static final byte JMS_TOPIC = 1;

    private AmqpTranslation() {
    }

    // ---- in: AMQP message -> envelope ----------------------------------------------------------------

    /**
     * @param address   the link's target address, or the message's {@code to} on an anonymous link
     * @param settled   whether the client sent it pre-settled (at most once): only then may it skip the fsync
     */
    static Envelope toEnvelope(Message m, Address address, boolean settled, Origin origin, long now) {
        Envelope.Builder b = Envelope.builder(address).origin(origin).createdAt(now);
        org.apache.qpid.proton.amqp.messaging.Header h = m.getHeader();
        boolean durable = h != null && Boolean.TRUE.equals(h.getDurable());
        // an unsettled transfer is accepted only once stored durably, whatever the header says; the header is kept
        b.durable(durable || !settled);
        if (!durable && !settled) {
            b.header(DURABLE, "false");
        }
        if (h != null) {
            if (h.getPriority() != null) {
                b.priority(Math.min(9, h.getPriority().intValue()));
            }
            if (h.getTtl() != null && h.getTtl().longValue() > 0) {
                b.expiresAt(now + h.getTtl().longValue());
            }
        }
        Properties p = m.getProperties();
        if (p != null) {
            if (p.getMessageId() != null) {
                b.messageId(idText(p.getMessageId()));
                String type = idType(p.getMessageId());
                if (!type.equals("string")) {
                    b.header(MESSAGE_ID_TYPE, type);
                }
            }
            if (p.getCorrelationId() != null) {
                Object c = p.getCorrelationId();
                b.correlation(c instanceof Binary bin ? bytes(bin) : idText(c).getBytes(StandardCharsets.UTF_8));
                b.header(CORRELATION_ID_TYPE, idType(c));
            }
            if (p.getReplyTo() != null) {
                b.replyTo(p.getReplyTo());
            }
            if (p.getContentType() != null) {
                b.contentType(p.getContentType().toString());
            }
            if (p.getContentEncoding() != null) {
                b.header(CONTENT_ENCODING, p.getContentEncoding().toString());
            }
            if (p.getCreationTime() != null) {
                b.createdAt(p.getCreationTime().getTime());
            }
            if (p.getAbsoluteExpiryTime() != null && p.getAbsoluteExpiryTime().getTime() > 0) {
                b.expiresAt(p.getAbsoluteExpiryTime().getTime());
            }
            if (p.getGroupId() != null) {
                b.key(p.getGroupId());
            }
            if (p.getGroupSequence() != null) {
                b.header(GROUP_SEQUENCE, p.getGroupSequence().toString());
            }
            if (p.getReplyToGroupId() != null) {
                b.header(REPLY_TO_GROUP_ID, p.getReplyToGroupId());
            }
            if (p.getSubject() != null) {
                b.header(SUBJECT, p.getSubject());
            }
            if (p.getUserId() != null) {
                b.header(Header.ofBytes(USER_ID, bytes(p.getUserId())));
            }
        }
        ApplicationProperties ap = m.getApplicationProperties();
        Map<Symbol, Object> annotated = m.getMessageAnnotations() == null ? null : m.getMessageAnnotations().getValue();
        Map<?, ?> repeated = annotated != null && annotated.get(REPEATED) instanceof Map<?, ?> r ? r : Map.of();
        if (ap != null && ap.getValue() != null) {
            JsonObject types = new JsonObject();
            for (Map.Entry<String, Object> e : ap.getValue().entrySet()) {
                Object v = e.getValue();
                // a property named like our own headers is kept apart, so it cannot pass for one
                String name = e.getKey().startsWith(PREFIX) ? ESCAPED_PROPERTY + e.getKey() : e.getKey();
                if (repeated.get(e.getKey()) instanceof List<?> all && !all.isEmpty() && all.get(0).equals(v)) {
                    for (Object one : all) { // a name an MQTT 5 message had several times, back as it was
                        b.header(name, String.valueOf(one));
                    }
                    continue;
                }
                typedHeader(b, name, v, types, name);
            }
            if (!types.isEmpty()) {
                b.header(PROPERTY_TYPES, types.encode());
            }
        }
        MessageAnnotations ma = m.getMessageAnnotations();
        if (ma != null && ma.getValue() != null) {
            JsonObject types = new JsonObject();
            for (Map.Entry<Symbol, Object> e : ma.getValue().entrySet()) {
                Object v = e.getValue();
                if (e.getKey().equals(DELIVERY_TIME) && (v instanceof Number || v instanceof Date)) {
                    long at = v instanceof Date d ? d.getTime() : ((Number) v).longValue();
                    if (at > now) {
                        b.deliverAt(at);
                    }
                    continue;
                }
                if (e.getKey().equals(DELIVERY_DELAY) && v instanceof Number n) {
                    if (n.longValue() > 0) {
                        b.deliverAt(now + Math.min(n.longValue(), Long.MAX_VALUE - now));
                    }
                    continue;
                }
                if (e.getKey().equals(RETAIN)) {
                    b.retain(Boolean.TRUE.equals(v));
                    continue;
                }
                if (e.getKey().equals(REPEATED)) {
                    continue; // read with the application properties
                }
                typedHeader(b, ANNOTATION + e.getKey(), v, types, e.getKey().toString());
            }
            if (!types.isEmpty()) {
                b.header(ANNOTATION_TYPES, types.encode());
            }
        }
        body(m.getBody(), b, p == null || p.getContentType() == null ? null : p.getContentType().toString());
        return b.build();
    }

    /** A value as a header (binary as bytes, the rest as text), its AMQP type noted in {@code types} unless obvious. */
    private static void typedHeader(Envelope.Builder b, String name, Object v, JsonObject types, String typeKey) {
        if (v instanceof Binary bin) {
            b.header(Header.ofBytes(name, bytes(bin)));
        } else {
            b.header(name, v == null ? "" : scalarText(v));
        }
        String type = scalarType(v);
        if (!type.equals("string") && !type.equals("binary")) {
            types.put(typeKey, type);
        }
    }

    private static void body(Section body, Envelope.Builder b, String contentType) {
        if (body == null) {
            return;
        }
        if (body instanceof Data d) {
            if (d.getValue() != null) {
                b.payload(ByteBuffer.wrap(d.getValue().getArray(), d.getValue().getArrayOffset(), d.getValue().getLength()));
            }
            return;
        }
        if (body instanceof AmqpValue v && v.getValue() instanceof String s) {
            b.payload(s).payloadUtf8(true);
            return;
        }
        if (body instanceof AmqpValue v && v.getValue() instanceof Binary bin) {
            b.payload(ByteBuffer.wrap(bin.getArray(), bin.getArrayOffset(), bin.getLength()));
            return;
        }
        // maps, lists, sequences, numbers, null: JSON for everyone else, the AMQP encoding kept for AMQP consumers
        Object json = body instanceof AmqpSequence seq ? toJson(seq.getValue()) : toJson(((AmqpValue) body).getValue());
        b.payload(io.vertx.core.json.Json.encode(json)).payloadUtf8(true)
                .contentType(body instanceof AmqpSequence ? JSON_SEQUENCE : JSON)
                .header(Header.ofBytes(BODY, encodeSection(body)));
        if (contentType != null) {
            b.header(BODY_CONTENT_TYPE, contentType);
        }
    }

    // ---- out: envelope -> AMQP message -------------------------------------------------------------------

    /** The message as an AMQP consumer receives it; {@code deliveryCount} is the number of earlier failed attempts. */
    static Message toMessage(Envelope e, int deliveryCount, long now) {
        Message m = Message.Factory.create();
        org.apache.qpid.proton.amqp.messaging.Header h = new org.apache.qpid.proton.amqp.messaging.Header();
        h.setDurable(e.durable() && !"false".equals(e.header(DURABLE)));
        if (e.priority() != Envelope.DEFAULT_PRIORITY) {
            h.setPriority(UnsignedByte.valueOf((byte) e.priority()));
        }
        if (e.expiresAt() != 0) {
            h.setTtl(UnsignedInteger.valueOf(Math.max(1, Math.min(0xFFFF_FFFFL, e.expiresAt() - now))));
        }
        if (deliveryCount > 0) {
            h.setDeliveryCount(UnsignedInteger.valueOf(deliveryCount));
            h.setFirstAcquirer(false);
        }
        m.setHeader(h);

        Properties p = new Properties();
        if (e.messageId() != null) {
            p.setMessageId(typedId(e.messageId(), e.header(MESSAGE_ID_TYPE)));
        }
        p.setTo(e.address().name());
        if (e.replyTo() != null) {
            p.setReplyTo(e.replyTo());
        }
        ByteBuffer corr = e.correlation();
        if (corr != null) {
            byte[] c = new byte[corr.remaining()];
            corr.get(c);
            String type = e.header(CORRELATION_ID_TYPE);
            if (type == null) { // not from AMQP: a string when the bytes are text (MQTT correlation data usually is)
                String text = utf8OrNull(c);
                p.setCorrelationId(text != null ? text : new Binary(c));
            } else {
                p.setCorrelationId(type.equals("binary") ? new Binary(c)
                        : typedId(new String(c, StandardCharsets.UTF_8), type));
            }
        }
        String bodyContentType = e.header(BODY_CONTENT_TYPE);
        boolean keptBody = e.headers(BODY).size() == 1 && !e.headers(BODY).get(0).isText();
        String contentType = keptBody ? bodyContentType : e.contentType();
        if (contentType != null) {
            p.setContentType(Symbol.valueOf(contentType));
        }
        if (e.header(CONTENT_ENCODING) != null) {
            p.setContentEncoding(Symbol.valueOf(e.header(CONTENT_ENCODING)));
        }
        p.setCreationTime(new Date(e.createdAt()));
        if (e.expiresAt() != 0) {
            p.setAbsoluteExpiryTime(new Date(e.expiresAt()));
        }
        if (e.hasKey()) {
            ByteBuffer k = e.key();
            byte[] kb = new byte[k.remaining()];
            k.get(kb);
            String text = utf8OrNull(kb);
            if (text != null) {
                p.setGroupId(text);
            }
        }
        if (e.header(GROUP_SEQUENCE) != null) {
            try {
                p.setGroupSequence(UnsignedInteger.valueOf(e.header(GROUP_SEQUENCE)));
            } catch (RuntimeException malformed) {
                // a header of that name set by another protocol: not a group sequence
            }
        }
        if (e.header(REPLY_TO_GROUP_ID) != null) {
            p.setReplyToGroupId(e.header(REPLY_TO_GROUP_ID));
        }
        if (e.header(SUBJECT) != null) {
            p.setSubject(e.header(SUBJECT));
        }
        List<Header> userId = e.headers(USER_ID);
        if (!userId.isEmpty()) {
            p.setUserId(new Binary(bytes(userId.get(0))));
        }
        m.setProperties(p);

        Map<String, String> propertyTypes = typesHeader(e, PROPERTY_TYPES);
        Map<String, String> annotationTypes = typesHeader(e, ANNOTATION_TYPES);
        Map<String, Object> props = new LinkedHashMap<>();
        Map<Symbol, Object> annotations = new LinkedHashMap<>();
        Map<String, List<String>> repeats = null;
        for (Header hd : e.headers()) {
            String name = hd.name();
            if (name.startsWith(ANNOTATION) && !name.equals(ANNOTATION_TYPES)) {
                String key = name.substring(ANNOTATION.length());
                annotations.putIfAbsent(Symbol.valueOf(key), typed(hd, annotationTypes.get(key)));
            } else if (name.startsWith(ESCAPED_PROPERTY)) {
                props.putIfAbsent(name.substring(ESCAPED_PROPERTY.length()), typed(hd, propertyTypes.get(name)));
            } else if (!name.startsWith(PREFIX)) {
                // MQTT allows a user property name twice; AMQP application-properties are a map: the first value is
                // the property, and all of them go in the annotation x-opt-omnibus-repeated-properties
                Object first = props.putIfAbsent(name, typed(hd, propertyTypes.get(name)));
                if (first != null && hd.isText()) {
                    if (repeats == null) {
                        repeats = new LinkedHashMap<>();
                    }
                    repeats.computeIfAbsent(name, k -> new ArrayList<>(List.of(String.valueOf(first))))
                            .add(hd.stringValue());
                }
            }
        }
        if (repeats != null) {
            annotations.put(REPEATED, repeats);
        }
        if (e.deliverAt() > now) {
            annotations.put(DELIVERY_TIME, e.deliverAt());
        }
        if (e.retain()) {
            annotations.put(RETAIN, true);
        }
        if (e.replyTo() != null && !e.origin().protocol().equals("amqp")) {
            annotations.putIfAbsent(JMS_REPLY_TO_TYPE, JMS_TOPIC); // MQTT response topics (and the like) are topics
        }
        if (!props.isEmpty()) {
            m.setApplicationProperties(new ApplicationProperties(props));
        }
        if (!annotations.isEmpty()) {
            m.setMessageAnnotations(new MessageAnnotations(annotations));
        }

        Section kept = keptBody ? decodeSectionOrNull(bytes(e.headers(BODY).get(0))) : null;
        if (kept != null) {
            m.setBody(kept);
        } else if (e.payloadUtf8()) {
            m.setBody(new AmqpValue(e.payloadAsString()));
        } else {
            m.setBody(new Data(new Binary(e.payloadBytes()))); // the envelope's payload is read-only: a copy
        }
        return m;
    }

    /** Encodes {@code m}, growing the buffer as needed: the encoding is {@code array()[0, limit())}, not copied again. */
    static ByteBuffer encode(Message m, int sizeHint) {
        byte[] buf = new byte[Math.max(256, sizeHint + 512)];
        while (true) {
            try {
                return ByteBuffer.wrap(buf, 0, m.encode(buf, 0, buf.length));
            } catch (BufferOverflowException e) {
                buf = new byte[buf.length * 2];
            }
        }
    }

    /**
     * AMQP's names in selectors: {@code JMSType} is the subject (Qpid JMS maps it there); the application properties
     * of a message an AMQP client sent compare as the types it sent them with (an untyped one is a string). Others
     * are the core's.
     */
    static Object selectorValue(Envelope e, String identifier) {
        if (identifier.equals("JMSType")) {
            return e.header(SUBJECT);
        }
        if (!e.origin().protocol().equals("amqp") || identifier.startsWith(PREFIX)) {
            return null;
        }
        List<Header> found = e.headers(identifier);
        if (found.isEmpty() || !found.get(0).isText()) {
            return null;
        }
        String type = propertyTypes(e).get(identifier);
        Object v = typed(found.get(0), type);
        if (v instanceof org.apache.qpid.proton.amqp.UnsignedByte
                || v instanceof org.apache.qpid.proton.amqp.UnsignedShort
                || v instanceof org.apache.qpid.proton.amqp.UnsignedInteger
                || v instanceof org.apache.qpid.proton.amqp.UnsignedLong) {
            return ((Number) v).longValue();
        }
        if (v instanceof Date d) {
            return d.getTime();
        }
        return v instanceof Number || v instanceof Boolean || v instanceof String ? v : v == null ? null : v.toString();
    }

    /** The last envelope a selector asked about on this thread, and its property types: parsed once per message. */
    private static final ThreadLocal<Object[]> LAST_TYPES = ThreadLocal.withInitial(() -> new Object[2]);

    @SuppressWarnings("unchecked")
    private static Map<String, String> propertyTypes(Envelope e) {
        Object[] last = LAST_TYPES.get();
        if (last[0] != e) {
            last[0] = e;
            last[1] = typesHeader(e, PROPERTY_TYPES);
        }
        return (Map<String, String>) last[1];
    }

    /**
     * Type headers parsed, by their text. An address's producers send the same few (one per set of property names
     * and types), and parsing one per delivery was a sixth of an AMQP delivery's translation. Bounded: headers up to
     * 1,024 characters, 1,024 of them, all dropped when full.
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, Map<String, String>> PARSED_TYPES =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int PARSED_TYPES_MAX = 1024;
    private static final int PARSED_TYPES_MAX_LENGTH = 1024;

    /** A header naming types (a JSON object of names to type names), read-only; empty when absent or malformed. */
    private static Map<String, String> typesHeader(Envelope e, String name) {
        String v = e.header(name);
        if (v == null) {
            return Map.of();
        }
        Map<String, String> parsed = PARSED_TYPES.get(v);
        if (parsed == null) {
            parsed = parseTypes(v);
            if (v.length() <= PARSED_TYPES_MAX_LENGTH) {
                if (PARSED_TYPES.size() >= PARSED_TYPES_MAX) {
                    PARSED_TYPES.clear();
                }
                PARSED_TYPES.put(v, parsed);
            }
        }
        return parsed;
    }

    private static Map<String, String> parseTypes(String v) {
        try {
            Map<String, String> types = new java.util.HashMap<>();
            for (Map.Entry<String, Object> t : new JsonObject(v)) {
                if (t.getValue() != null) {
                    types.put(t.getKey(), t.getValue().toString());
                }
            }
            return Map.copyOf(types);
        } catch (RuntimeException malformed) {
            return Map.of();
        }
    }
}
