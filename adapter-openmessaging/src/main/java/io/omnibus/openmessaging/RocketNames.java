package io.omnibus.openmessaging;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.NameMapping;

/**
 * The reversible rule between RocketMQ topic names and canonical addresses (docs/openmessaging.md, "Topic names").
 *
 * <p>RocketMQ names hold only {@code [a-zA-Z0-9_|%-]}, at most 127 characters. The level separator {@code /} is
 * {@code |}; letters, digits and {@code -} stay; everything else is escaped as {@code _xHH} per UTF-8 byte (the
 * Kafka adapter's rule with another separator): {@code sensors/kitchen} is {@code sensors|kitchen},
 * {@code v1.2/x} is {@code v1_x2e2|x}. {@code %} is RocketMQ's own: a group's retry topic {@code %RETRY%g} is the
 * address {@code $rocketmq/retry/g} and its dead-letter topic {@code %DLQ%g} is {@code $dlq/rocketmq/g}; any
 * other {@code %} (a client namespace) is refused.
 */
final class RocketNames {
    static final int MAX_LENGTH = 127;
    static final String RETRY_PREFIX = "%RETRY%";
    static final String DLQ_PREFIX = "%DLQ%";
    static final String RETRY_ADDRESS = "$rocketmq/retry/";
    static final String DLQ_ADDRESS = "$dlq/rocketmq/";
    private static final NameMapping RULE = new NameMapping("RocketMQ", '|', "-", MAX_LENGTH);

    private RocketNames() {
    }

    /** The RocketMQ name of an address, or null when it has none (too long). */
    static String toRocket(Address address) {
        String name = address.name();
        if (name.startsWith(RETRY_ADDRESS) && group(name.substring(RETRY_ADDRESS.length()))) {
            return RETRY_PREFIX + name.substring(RETRY_ADDRESS.length());
        }
        if (name.startsWith(DLQ_ADDRESS) && group(name.substring(DLQ_ADDRESS.length()))) {
            return DLQ_PREFIX + name.substring(DLQ_ADDRESS.length());
        }
        return RULE.toProtocol(address);
    }

    /**
     * The address a RocketMQ topic name stands for.
     *
     * @throws InvalidAddressException naming what is wrong
     */
    static Address toAddress(String topic) {
        if (topic != null && topic.startsWith(RETRY_PREFIX)) {
            return Address.of(RETRY_ADDRESS + checkedGroup(topic.substring(RETRY_PREFIX.length()), topic));
        }
        if (topic != null && topic.startsWith(DLQ_PREFIX)) {
            return Address.of(DLQ_ADDRESS + checkedGroup(topic.substring(DLQ_PREFIX.length()), topic));
        }
        if (topic != null && topic.indexOf('%') >= 0) {
            throw new InvalidAddressException("topic name '" + topic + "' holds '%', which the gateway keeps for "
                    + "%RETRY% and %DLQ% topics (client namespaces are not supported)");
        }
        return RULE.toAddress(topic);
    }

    static Address retryTopic(String group) {
        return Address.of(RETRY_ADDRESS + group);
    }

    static Address deadLetterTopic(String group) {
        return Address.of(DLQ_ADDRESS + group);
    }

    static boolean isRetry(Address address) {
        return address.name().startsWith(RETRY_ADDRESS);
    }

    /** Whether RocketMQ clients may read an address: not the gateway's {@code $} ones, except retry and dead letters. */
    static boolean readable(Address address) {
        return !address.isSystem() || isRetry(address) || address.name().startsWith("$dlq/");
    }

    /** Whether they may send to it: not the {@code $} ones, except retry topics (a consumer's fallback send-back). */
    static boolean writable(Address address) {
        return !address.isSystem() || isRetry(address);
    }

    /** Checks a consumer or producer group name against RocketMQ's rule. */
    static String checkGroup(String group) {
        if (group == null || group.isEmpty() || group.length() > 255 || !group(group)) {
            throw new InvalidAddressException("group name '" + group + "' must be 1 to 255 of [a-zA-Z0-9_|%-]");
        }
        return group;
    }

    private static String checkedGroup(String group, String topic) {
        if (group.isEmpty() || topic.length() > MAX_LENGTH || !group(group)) {
            throw new InvalidAddressException("topic name '" + topic + "' is not a valid retry or dead-letter topic");
        }
        return group;
    }

    private static boolean group(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '|'
                    || c == '%')) {
                return false;
            }
        }
        return true;
    }
}
