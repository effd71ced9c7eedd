package io.omnibus.core.spi;

import java.util.Objects;

/**
 * What a subscription is: its unique name, the filter it takes messages from, whether it survives
 * a restart, and optionally a dispatch policy the protocol needs (Kafka and RocketMQ pull). When
 * {@code policy} is null the configuration decides (per subscription name, then per address).
 *
 * @param selector a message selector (JMS selector grammar, {@link SelectorVocabulary}): the subscription takes
 *                 only the messages it selects; the others count as consumed. Null: all
 * @param noLocal  a publisher, {@code protocol/client-id}, whose own messages the subscription does not take (JMS
 *                 no-local); null: none
 */
public record SubscriptionSpec(String name, TopicFilter filter, boolean durable, DispatchPolicy policy, String selector,
                               String noLocal) {
    public SubscriptionSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(filter, "filter");
        if (name.isBlank()) {
            throw new IllegalArgumentException("subscription name is blank");
        }
        if (selector != null && selector.isBlank()) {
            selector = null;
        }
    }

    public SubscriptionSpec(String name, TopicFilter filter, boolean durable, DispatchPolicy policy) {
        this(name, filter, durable, policy, null, null);
    }

    /** The spec with a selector and a no-local publisher (either may be null). */
    public SubscriptionSpec withSelection(String selector, String noLocal) {
        return new SubscriptionSpec(name, filter, durable, policy, selector, noLocal);
    }

    /** The {@code noLocal} key of messages published by {@code origin}. */
    public static String publisher(Origin origin) {
        return origin.protocol() + "/" + origin.clientId();
    }

    /** No-local: the messages not published by {@code publisher} (a {@link #publisher} key). */
    public static java.util.function.Predicate<Envelope> notFrom(String publisher) {
        return e -> !publisher.equals(publisher(e.origin()));
    }

    public static SubscriptionSpec of(String name, String filter) {
        return new SubscriptionSpec(name, TopicFilter.of(filter), false, null);
    }

    public SubscriptionSpec withDurable(boolean durable) {
        return new SubscriptionSpec(name, filter, durable, policy, selector, noLocal);
    }

    public SubscriptionSpec withPolicy(DispatchPolicy policy) {
        return new SubscriptionSpec(name, filter, durable, policy, selector, noLocal);
    }
}
