package io.omnibus.core.config;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.TopicFilter;

/**
 * One entry of {@code addresses:}: the addresses its {@code match} filter covers, how many
 * partitions their logs have, whether they are queues (a shared subscription named after the
 * address exists from the first message on, so nothing sent before the first consumer is lost),
 * how long the store keeps their messages ({@code retention-age}, {@code retention-bytes} per
 * partition; unset means the store's defaults), and delivery keys.
 */
public record AddressRule(TopicFilter match, Integer partitions, Boolean queue, java.time.Duration retentionAge,
                          Long retentionBytes, PolicyRule delivery) {

    public static AddressRule read(ConfigSection s) {
        s.requireOnly(PolicyRule.with(PolicyRule.KEYS, "match", "partitions", "queue", "retention-age", "retention-bytes"));
        TopicFilter match;
        try {
            match = TopicFilter.of(s.requireString("match"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(s.keyOf("match"), e.getMessage());
        }
        return new AddressRule(match,
                s.has("partitions") ? s.getInt("partitions", 1, 1, 1024) : null,
                s.has("queue") ? s.getBoolean("queue", false) : null,
                s.has("retention-age") ? s.getDuration("retention-age", null) : null,
                s.has("retention-bytes") ? s.getSize("retention-bytes", 0, 0, Long.MAX_VALUE) : null,
                PolicyRule.read(s));
    }
}
