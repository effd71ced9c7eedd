package io.omnibus.core.spi;

/**
 * Where a published message was stored: its partition and offset in the address's log, and how
 * many subscriptions it was routed to (0 is not an error: a topic may have no subscriber).
 */
public record PublishResult(Address address, int partition, long offset, int subscriptions) {
}
