package io.omnibus.core.spi;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.List;

/**
 * One consumer attached to a subscription. Methods may be called from any thread; they take
 * effect on the subscription's context in call order. Deliveries and futures arrive on the
 * context that attached the consumer.
 *
 * <p>Settling a delivery: {@link #ack} consumes it; {@link #nack} is a failed attempt (delivered
 * again after backoff with its count raised, dead-lettered past the maximum); {@link #release}
 * gives it back unchanged (its count stays); {@link #reject} dead-letters it at once.
 */
public interface Consumer {
    /** Adds credit: how many more messages may be pushed before the next call. */
    void credit(int messages);

    void ack(Delivery delivery);

    /**
     * {@link #ack} then {@link #credit}: a client that holds one delivery at a time per slot of its window (an MQTT
     * session settling what it wrote or what its client acknowledged) makes room for the next in the same step, one
     * hand-over to the subscription rather than two.
     */
    default void ackAndCredit(Delivery delivery, int messages) {
        ack(delivery);
        credit(messages);
    }

    /** Acknowledges every message of one partition of {@code address} up to and including {@code offset}. */
    void ackUpTo(Address address, int partition, long offset);

    void nack(Delivery delivery);

    void release(Delivery delivery);

    /**
     * Gives it back unchanged, not to be delivered to this consumer again (AMQP's {@code undeliverable-here}): other
     * consumers get it; with none but this one it waits for another to attach. Round-robin and fair subscriptions;
     * under key-ordered and pull dispatch it is a plain {@link #release}.
     */
    void releaseNotHere(Delivery delivery);

    /** A failed attempt, as {@link #nack}, and the message is not to be delivered to this consumer again. */
    void nackNotHere(Delivery delivery);

    void reject(Delivery delivery, String reason);

    /**
     * Takes up to {@code max} messages, waiting up to {@code wait} for at least one (long poll).
     * Completes with an empty list when nothing arrived in time.
     */
    Future<List<Delivery>> pull(int max, Duration wait);

    /**
     * Hands out at once what is ready within the consumer's credit (also under the {@code pull} policy, where
     * nothing is pushed otherwise), then drops the credit left. Completes, after those deliveries reached the
     * handler, with the credit dropped: AMQP's drain.
     */
    Future<Integer> drain();

    /** Detaches; deliveries not yet settled are delivered again to other consumers. */
    Future<Void> close();
}
