package io.omnibus.core.internal;

import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.SelectorVocabulary;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.selector.filter.BooleanExpression;
import org.apache.activemq.artemis.selector.filter.FilterException;
import org.apache.activemq.artemis.selector.filter.Filterable;
import org.apache.activemq.artemis.selector.impl.SelectorParser;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The selector engine of the core: JMS message selectors (AMQP's {@code apache.org:selector-filter:string}) and
 * RocketMQ's SQL92 filters, one grammar, parsed by Apache ActiveMQ Artemis's selector parser and evaluated against
 * envelopes through the protocols' {@link SelectorVocabulary vocabularies}, then the core's own.
 */
final class Selectors {
    private static final Pattern INTEGER = Pattern.compile("-?(0|[1-9][0-9]{0,17})");
    private static final Pattern DECIMAL = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

    private final List<SelectorVocabulary> vocabularies = new CopyOnWriteArrayList<>();

    void add(SelectorVocabulary vocabulary) {
        vocabularies.add(vocabulary);
    }

    /** The predicate of a selector; fails with {@code INVALID_SELECTOR} saying what is wrong with it. */
    Predicate<Envelope> compile(String expression) {
        BooleanExpression parsed;
        try {
            parsed = SelectorParser.parse(expression);
        } catch (FilterException | RuntimeException e) {
            throw new BrokerException(BrokerException.Reason.INVALID_SELECTOR, "invalid selector '" + expression + "': "
                    + e.getMessage());
        }
        return envelope -> {
            try {
                return parsed.matches(new View(envelope));
            } catch (FilterException | RuntimeException e) {
                return false; // a value the expression cannot compare: the message is not selected
            }
        };
    }

    /** An envelope as the parser's expressions see it. */
    private final class View implements Filterable {
        private final Envelope envelope;

        View(Envelope envelope) {
            this.envelope = envelope;
        }

        @Override
        public <T> T getBodyAs(Class<T> type) {
            return null; // XPath over bodies is not supported
        }

        @Override
        public Object getProperty(SimpleString name) {
            String id = name.toString();
            for (SelectorVocabulary v : vocabularies) {
                Object value = v.value(envelope, id);
                if (value != null) {
                    return value;
                }
            }
            return coreValue(envelope, id);
        }

        @Override
        public Object getLocalConnectionId() {
            return null;
        }
    }

    /** The core's vocabulary: the JMS header fields from the envelope, then headers by name. */
    static Object coreValue(Envelope e, String id) {
        switch (id) {
            case "JMSMessageID":
                return e.messageId();
            case "JMSCorrelationID":
                return text(e.correlation());
            case "JMSPriority":
                return e.priority();
            case "JMSDeliveryMode":
                return e.durable() ? "PERSISTENT" : "NON_PERSISTENT";
            case "JMSTimestamp":
                return e.createdAt() > 0 ? e.createdAt() : null;
            case "JMSExpiration":
                return e.expiresAt() > 0 ? e.expiresAt() : 0L;
            case "JMSXGroupID":
                return e.hasKey() ? text(e.key()) : null;
            default:
                break;
        }
        List<Header> headers = e.headers(id);
        if (!headers.isEmpty()) {
            return headers.get(0).isText() ? guess(headers.get(0).stringValue()) : null;
        }
        return field(e, id.replace('_', '-'));
    }

    /**
     * The envelope's fields by the names docs/translation.md gives them ({@code content-type}, or {@code content_type}
     * where the selector grammar allows no hyphen), for names no header has.
     */
    private static Object field(Envelope e, String name) {
        return switch (name) {
            case "address" -> e.address().name();
            case "message-id" -> e.messageId();
            case "key" -> e.hasKey() ? text(e.key()) : null;
            case "payload-utf8" -> e.payloadUtf8();
            case "content-type" -> e.contentType();
            case "correlation" -> text(e.correlation());
            case "reply-to" -> e.replyTo();
            case "created-at" -> e.createdAt() > 0 ? e.createdAt() : null;
            case "expires-at" -> e.expiresAt() > 0 ? e.expiresAt() : null;
            case "deliver-at" -> e.deliverAt() > 0 ? e.deliverAt() : null;
            case "priority" -> e.priority();
            case "durable" -> e.durable();
            case "retain" -> e.retain();
            case "delivery-count" -> e.deliveryCount();
            default -> null;
        };
    }

    /** Text read as a boolean or a number where it is one, else kept as text. */
    static Object guess(String s) {
        if (s.equals("true") || s.equals("false")) {
            return Boolean.valueOf(s);
        }
        if (INTEGER.matcher(s).matches()) {
            return Long.parseLong(s);
        }
        if (DECIMAL.matcher(s).matches()) {
            double d = Double.parseDouble(s);
            if (Double.isFinite(d)) {
                return d;
            }
        }
        return s;
    }

    /** Bytes as text when they are UTF-8; else null (NULL to the selector: binary compares as nothing). */
    private static String text(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        ByteBuffer d = b.duplicate();
        byte[] bytes = new byte[d.remaining()];
        d.get(bytes);
        return io.omnibus.core.spi.NameMapping.utf8(bytes);
    }
}
