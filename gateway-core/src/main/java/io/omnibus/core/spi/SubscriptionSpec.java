package io.omnibus.core.spi;

import java.util.Objects;

/**
 * What a subscription is: its unique name, the filter it takes messages from, whether it survives
 * a restart, and optionally a dispatch policy the protocol needs (Kafka and RocketMQ pull). When
 * {@code policy} is null the configuration decides (per subscription name, then per address).
 */
public record SubscriptionSpec(String name, TopicFilter filter, boolean durable, DispatchPolicy policy) {
    public SubscriptionSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(filter, "filter");
        if (name.isBlank()) {
            throw new IllegalArgumentException("subscription name is blank");
        }
    }

    public static SubscriptionSpec of(String name, String filter) {
        return new SubscriptionSpec(name, TopicFilter.of(filter), false, null);
    }

    public SubscriptionSpec withDurable(boolean durable) {
        return new SubscriptionSpec(name, filter, durable, policy);
    }

    public SubscriptionSpec withPolicy(DispatchPolicy policy) {
        return new SubscriptionSpec(name, filter, durable, policy);
    }
}
