package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

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

    private KafkaNames() {
    }

    /** The Kafka name of an address, or null when it is longer than Kafka allows. */
    static String toKafka(Address address) {
        String name = address.name();
        StringBuilder out = new StringBuilder(name.length() + 8);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == Address.SEPARATOR) {
                out.append('.');
            } else if (plain(c)) {
                out.append(c);
            } else if (c == '_') {
                out.append(escapeAt(name, i + 1) ? "_x5f" : "_");
            } else {
                int end = Character.isHighSurrogate(c) && i + 1 < name.length() ? i + 2 : i + 1;
                for (byte b : name.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                    out.append("_x").append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
                }
                i = end - 1;
            }
        }
        return out.length() > MAX_LENGTH ? null : out.toString();
    }

    /**
     * The address a Kafka topic name stands for.
     *
     * @throws InvalidAddressException naming what is wrong (Kafka's INVALID_TOPIC_EXCEPTION)
     */
    static Address toAddress(String topic) {
        if (topic == null || topic.isEmpty()) {
            throw new InvalidAddressException("topic name is empty");
        }
        if (topic.length() > MAX_LENGTH) {
            throw new InvalidAddressException("topic name is " + topic.length() + " characters; Kafka allows " + MAX_LENGTH);
        }
        if (topic.equals(".") || topic.equals("..")) {
            throw new InvalidAddressException("topic name cannot be '.' or '..'");
        }
        StringBuilder out = new StringBuilder(topic.length());
        ByteArrayOutputStream escaped = new ByteArrayOutputStream();
        for (int i = 0; i < topic.length(); i++) {
            char c = topic.charAt(i);
            if (c == '_' && escapeAt(topic, i + 1)) {
                escaped.write(Integer.parseInt(topic.substring(i + 2, i + 4), 16));
                i += 3;
                continue;
            }
            flush(escaped, out, topic);
            if (c == '.') {
                out.append(Address.SEPARATOR);
            } else if (plain(c) || c == '_') {
                out.append(c);
            } else {
                throw new InvalidAddressException("topic name '" + topic + "' contains '" + c
                        + "'; Kafka topic names hold only ASCII letters, digits, '.', '_' and '-'");
            }
        }
        flush(escaped, out, topic);
        Address address = Address.of(out.toString());
        if (!topic.equals(toKafka(address))) {
            throw new InvalidAddressException("topic name '" + topic + "' escapes a character that needs no escape; "
                    + "its canonical spelling is '" + toKafka(address) + "'");
        }
        return address;
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

    private static boolean plain(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-';
    }

    /** Whether {@code s} has {@code x} and two lower-case hex digits at {@code i} (what follows an escaping '_'). */
    private static boolean escapeAt(String s, int i) {
        return i + 2 < s.length() && s.charAt(i) == 'x' && hex(s.charAt(i + 1)) && hex(s.charAt(i + 2));
    }

    private static boolean hex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f';
    }

    private static void flush(ByteArrayOutputStream escaped, StringBuilder out, String topic) {
        if (escaped.size() == 0) {
            return;
        }
        String text = RecordTranslation.utf8(escaped.toByteArray());
        if (text == null) {
            throw new InvalidAddressException("topic name '" + topic + "' has escapes that are not UTF-8");
        }
        out.append(text);
        escaped.reset();
    }
}
