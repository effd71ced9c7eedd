package io.omnibus.core.spi;

import java.util.Objects;

/**
 * A consumer to attach: who it is, its handler, the credit it starts with, and whether its
 * deliveries count as acknowledged when sent (at-most-once: MQTT QoS 0, AMQP pre-settled).
 * A {@code null} handler makes a pull-only consumer.
 *
 * @param selects what this consumer takes of its subscription's messages (a JMS selector on a queue receiver,
 *                {@link Broker#selector}); the others stay for the other consumers. Null: everything. Round-robin and
 *                fair dispatch only: attaching one to a key-ordered or pull subscription fails (INVALID_SELECTOR)
 */
public record ConsumerSpec(Origin owner, DeliveryHandler handler, int initialCredit, boolean autoAck,
                           java.util.function.Predicate<Envelope> selects) {
    public ConsumerSpec {
        Objects.requireNonNull(owner, "owner");
        if (initialCredit < 0) {
            throw new IllegalArgumentException("initialCredit must not be negative: " + initialCredit);
        }
    }

    public ConsumerSpec(Origin owner, DeliveryHandler handler, int initialCredit, boolean autoAck) {
        this(owner, handler, initialCredit, autoAck, null);
    }

    public ConsumerSpec withSelector(java.util.function.Predicate<Envelope> selects) {
        return new ConsumerSpec(owner, handler, initialCredit, autoAck, selects);
    }

    public static ConsumerSpec push(Origin owner, int credit, DeliveryHandler handler) {
        return new ConsumerSpec(owner, handler, credit, false);
    }

    public static ConsumerSpec pullOnly(Origin owner) {
        return new ConsumerSpec(owner, null, 0, false);
    }

    public ConsumerSpec withAutoAck(boolean autoAck) {
        return new ConsumerSpec(owner, handler, initialCredit, autoAck, selects);
    }
}
