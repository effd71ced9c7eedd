package io.omnibus.core.store;

import io.omnibus.core.spi.DispatchPolicy;

/** A durable subscription as the store keeps it, so it comes back after a restart. */
public record SubscriptionRecord(String name, String filter, DispatchPolicy policy) {
}
