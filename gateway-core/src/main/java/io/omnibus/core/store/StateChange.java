package io.omnibus.core.store;

/** A change to durable key-value state ({@link MessageStore#putState}) made as part of an atomic append. */
public record StateChange(String namespace, String key, byte[] value) {
}
