package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.InvalidAddressException;

/**
 * The headers a dead letter carries (why, from where, from which subscription, after how many attempts), put on by a
 * subscription that gives a message up and taken off by a redrive that sends it back.
 */
final class DeadLetters {
    static final String REASON = "omnibus.dead-letter.reason";
    static final String ORIGINAL_ADDRESS = "omnibus.dead-letter.original-address";
    static final String SUBSCRIPTION = "omnibus.dead-letter.subscription";
    static final String DELIVERY_COUNT = "omnibus.dead-letter.delivery-count";

    private DeadLetters() {
    }

    /** Whether {@code env} is a dead letter already: one that fails again is not dead-lettered a second time. */
    static boolean isLetter(Envelope env) {
        return env.header(REASON) != null;
    }

    /** The letter for {@code env}, given up by {@code subscription} after {@code attempts}, addressed to {@code target}. */
    static Envelope letter(Envelope env, Address target, String reason, String subscription, int attempts) {
        return env.toBuilder()
                .address(target)
                .deliverAt(0)
                .header(REASON, reason)
                .header(ORIGINAL_ADDRESS, env.address().name())
                .header(SUBSCRIPTION, subscription)
                .header(DELIVERY_COUNT, Integer.toString(attempts))
                .build();
    }

    /** The address {@code letter} was given up at, or null (not a letter, or a name no longer valid). */
    static Address original(Envelope letter) {
        String original = letter.header(ORIGINAL_ADDRESS);
        try {
            return original == null ? null : Address.of(original);
        } catch (InvalidAddressException e) {
            return null;
        }
    }

    /** {@code letter} sent back to {@code to}, without the dead-letter headers. */
    static Envelope back(Envelope letter, Address to) {
        return letter.toBuilder().address(to)
                .removeHeaders(REASON).removeHeaders(ORIGINAL_ADDRESS)
                .removeHeaders(SUBSCRIPTION).removeHeaders(DELIVERY_COUNT)
                .build();
    }
}
