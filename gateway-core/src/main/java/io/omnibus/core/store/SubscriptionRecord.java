package io.omnibus.core.store;

import io.omnibus.core.spi.DispatchPolicy;

/**
 * A durable subscription as the store keeps it, so it comes back after a restart: with its selector and no-local
 * publisher ({@link io.omnibus.core.spi.SubscriptionSpec}), each null when it has none.
 */
public record SubscriptionRecord(String name, String filter, DispatchPolicy policy, String selector, String noLocal) {
    public SubscriptionRecord(String name, String filter, DispatchPolicy policy) {
        this(name, filter, policy, null, null);
    }
}
