package io.omnibus.core.spi;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A reversible rule between canonical addresses and the topic names of a protocol whose names allow only
 * ASCII letters, digits and a few other characters (Kafka, RocketMQ).
 *
 * <p>Address → protocol name: the level separator {@code /} becomes the protocol's {@code separator}; letters,
 * digits and the protocol's other {@code plain} characters stay; every other character becomes {@code _x} and
 * two lower-case hex digits per UTF-8 byte; {@code _} stays, unless it would be read as such an escape, then it
 * is {@code _x5f}. Protocol name → address is the inverse. A name the rule would never produce (an escape of a
 * character that needs none, escapes that are not UTF-8, a character outside the alphabet) is refused, so each
 * protocol name means exactly one address and back.
 */
public final class NameMapping {
    private final String protocol;
    private final char separator;
    private final String plain;
    private final int maxLength;

    /**
     * @param protocol  named in error messages ("Kafka")
     * @param separator what {@code /} becomes
     * @param plain     characters besides ASCII letters and digits that stand for themselves (not {@code _})
     * @param maxLength longest protocol name, in characters
     */
    public NameMapping(String protocol, char separator, String plain, int maxLength) {
        this.protocol = protocol;
        this.separator = separator;
        this.plain = plain;
        this.maxLength = maxLength;
    }

    public int maxLength() {
        return maxLength;
    }

    /** The protocol's name of an address, or null when it is longer than the protocol allows. */
    public String toProtocol(Address address) {
        String name = address.name();
        StringBuilder out = new StringBuilder(name.length() + 8);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == Address.SEPARATOR) {
                out.append(separator);
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
        return out.length() > maxLength ? null : out.toString();
    }

    /**
     * The address a protocol topic name stands for.
     *
     * @throws InvalidAddressException naming what is wrong
     */
    public Address toAddress(String topic) {
        if (topic == null || topic.isEmpty()) {
            throw new InvalidAddressException("topic name is empty");
        }
        if (topic.length() > maxLength) {
            throw new InvalidAddressException("topic name is " + topic.length() + " characters; " + protocol + " allows "
                    + maxLength);
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
            if (c == separator) {
                out.append(Address.SEPARATOR);
            } else if (plain(c) || c == '_') {
                out.append(c);
            } else {
                throw new InvalidAddressException("topic name '" + topic + "' contains '" + c + "'; " + protocol
                        + " topic names hold only ASCII letters, digits, '_' and '" + separator + plain + "'");
            }
        }
        flush(escaped, out, topic);
        Address address = Address.of(out.toString());
        if (!topic.equals(toProtocol(address))) {
            throw new InvalidAddressException("topic name '" + topic + "' escapes a character that needs no escape; "
                    + "its canonical spelling is '" + toProtocol(address) + "'");
        }
        return address;
    }

    /** The text of {@code value} when it is well-formed UTF-8, else null. */
    public static String utf8(byte[] value) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(value)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private boolean plain(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || plain.indexOf(c) >= 0;
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
        String text = utf8(escaped.toByteArray());
        if (text == null) {
            throw new InvalidAddressException("topic name '" + topic + "' has escapes that are not UTF-8");
        }
        out.append(text);
        escaped.reset();
    }
}
