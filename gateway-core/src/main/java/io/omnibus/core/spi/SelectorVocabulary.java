package io.omnibus.core.spi;

/**
 * What a protocol adds to the selector language (JMS message selectors, RocketMQ's SQL92 filters: the same
 * grammar): the value an identifier has in an envelope, by that protocol's names. AMQP answers {@code JMSType}
 * with the message's subject and types application properties as their sender typed them; RocketMQ answers
 * {@code TAGS} with the message's tags. Null leaves the identifier to the next vocabulary and finally to the
 * core's: the JMS header fields ({@code JMSMessageID}, {@code JMSCorrelationID}, {@code JMSPriority},
 * {@code JMSDeliveryMode}, {@code JMSTimestamp}, {@code JMSExpiration}, {@code JMSXGroupID}) from the envelope,
 * then headers by name, their text read as a boolean or number where it is one (protocols whose properties are
 * text, MQTT user properties and RocketMQ properties, compare as numbers that way), then the envelope's fields by
 * the translation table's names ({@code address}, {@code content_type} or, with Artemis's {@code hyphenated_props:}
 * prefix, {@code content-type}, ...).
 *
 * <p>Values are {@link String}, {@link Boolean}, or {@link Number} ({@code Integer}, {@code Long}, {@code Float},
 * {@code Double}...). Called on subscription contexts for every message a selector looks at: no blocking.
 */
public interface SelectorVocabulary {
    Object value(Envelope envelope, String identifier);
}
