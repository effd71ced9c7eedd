package io.omnibus.core.config;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.DispatchPolicy;

import java.time.Duration;

/**
 * How one subscription delivers: dispatch, redelivery with backoff, dead-lettering and its bound.
 *
 * @param maxDeliveries      delivery attempts before a message is dead-lettered; 0 means never
 * @param redeliveryDelay    backoff before the first redelivery after a nack or an ack timeout
 * @param redeliveryMultiplier growth of the backoff per further attempt
 * @param maxRedeliveryDelay cap of the backoff
 * @param ackTimeout         an unacknowledged delivery older than this is redelivered; zero turns it off
 * @param deadLetterAddress  where dead letters go, with {@code {address}} and {@code {subscription}}
 *                           replaced; empty discards them (still counted)
 * @param maxPending         most non-durable messages (QoS 0, pre-settled) waiting in the subscription, past which
 *                           {@code overflow} applies; durable messages wait in the log whatever their number
 * @param overflow           what happens past {@code maxPending}: drop (non-durable messages only) or hold the
 *                           producers' acknowledgements until the backlog is below it
 * @param readAhead          most messages read from the log into memory ahead of the consumers' settlements
 */
public record DeliveryPolicy(DispatchPolicy dispatch, int maxDeliveries, Duration redeliveryDelay,
                             double redeliveryMultiplier, Duration maxRedeliveryDelay, Duration ackTimeout,
                             String deadLetterAddress, int maxPending, Overflow overflow, int readAhead) {

    public static final DeliveryPolicy DEFAULT = new DeliveryPolicy(DispatchPolicy.ROUND_ROBIN, 10,
            Duration.ofMillis(100), 2.0, Duration.ofSeconds(30), Duration.ZERO, "$dlq/{address}", 100_000,
            Overflow.DROP_OLDEST, 1000);

    /** Backoff before the attempt that follows {@code failedAttempts} failures (1 for the first redelivery). */
    public long backoffMillis(int failedAttempts) {
        double delay = redeliveryDelay.toMillis() * Math.pow(redeliveryMultiplier, Math.max(0, failedAttempts - 1));
        return (long) Math.min(delay, maxRedeliveryDelay.toMillis());
    }

    /** The dead-letter address for a message of {@code address} in {@code subscription}, or null to discard. */
    public Address deadLetterAddressFor(Address address, String subscription) {
        if (deadLetterAddress.isEmpty()) {
            return null;
        }
        return Address.of(deadLetterAddress.replace("{address}", address.name()).replace("{subscription}", subscription));
    }

    public DeliveryPolicy withDispatch(DispatchPolicy d) {
        return new DeliveryPolicy(d, maxDeliveries, redeliveryDelay, redeliveryMultiplier, maxRedeliveryDelay,
                ackTimeout, deadLetterAddress, maxPending, overflow, readAhead);
    }
}
