package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.NameMapping;


/**
 * The reversible rule between Kafka topic names and canonical addresses (docs/kafka.md, "Topic names").
 *
 * <p>Kafka names hold only {@code [a-zA-Z0-9._-]}, at most 249 characters. Canonical address → Kafka name:
 * {@code /} becomes {@code .}; letters, digits and {@code -} stay; every other character (a {@code .} of an
 * MQTT level, a space, unicode, {@code $}) becomes {@code _x} and two lower-case hex digits per UTF-8 byte;
 * {@code _} stays, unless it would be read as such an escape, then it is {@code _x5f}. So
 * {@code sensors/kitchen/temp} is {@code sensors.kitchen.temp}, {@code v1.2/x} is {@code v1_x2e2.x}, and
 * {@code my_topic} stays {@code my_topic}. Kafka name → address is the inverse. A Kafka name that this rule
 * would never produce (an escape of a character that needs none, bytes that are not UTF-8) is refused, so
 * each Kafka name means exactly one address and back.
 */
final class KafkaNames {
    static final int MAX_LENGTH = 249;
    private static final NameMapping RULE = new NameMapping("Kafka", '.', "-", MAX_LENGTH);

    private KafkaNames() {
    }

    /** The Kafka name of an address, or null when it is longer than Kafka allows. */
    static String toKafka(Address address) {
        return RULE.toProtocol(address);
    }

    /**
     * The address a Kafka topic name stands for.
     *
     * @throws InvalidAddressException naming what is wrong (Kafka's INVALID_TOPIC_EXCEPTION)
     */
    static Address toAddress(String topic) {
        if (".".equals(topic) || "..".equals(topic)) {
            throw new InvalidAddressException("topic name cannot be '.' or '..'");
        }
        return RULE.toAddress(topic);
    }

    /**
     * Whether Kafka clients may read an address: not the gateway's own {@code $} addresses, except dead
     * letters ({@code $dlq/...}, read to inspect or replay them).
     */
    static boolean readable(Address address) {
        return !address.isSystem() || address.name().startsWith("$dlq/");
    }

    /** Whether Kafka clients may write, create or delete an address: none of the {@code $} ones. */
    static boolean writable(Address address) {
        return !address.isSystem();
    }
}
