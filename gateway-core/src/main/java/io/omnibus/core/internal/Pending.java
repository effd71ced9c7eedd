package io.omnibus.core.internal;

import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.StoredMessage;

import java.nio.ByteBuffer;
import java.util.Set;

/** A message a subscription took into memory and that is not acknowledged yet; in the subscription's mailbox. */
final class Pending {
    final StoredMessage msg;
    /** The order it was taken in: given back, it goes in line by it. */
    final long seq;
    /** Its key, under key-ordered dispatch; null otherwise. */
    final ByteBuffer key;
    int failures;
    /** Non-durable: counted in the subscription's max-pending until handed out or settled. */
    boolean countedVolatile;
    /** Consumers that gave it back as undeliverable to them (AMQP's undeliverable-here); null: none. */
    Set<ConsumerState> notHere;
    /** Not to go out before this time (deliver-at, redelivery backoff), while scheduled. */
    long readyAt;

    Pending(StoredMessage msg, long seq, ByteBuffer key) {
        this.msg = msg;
        this.seq = seq;
        this.key = key;
    }

    Envelope envelope() {
        return msg.envelope();
    }
}
