package io.omnibus.core.store;

/** A durable subscription's cursor state for one partition, written as part of an atomic append. */
public record CursorChange(String subscription, TopicPartition partition, CursorState state) {
}
