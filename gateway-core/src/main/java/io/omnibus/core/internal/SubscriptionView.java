package io.omnibus.core.internal;

/** A subscription as {@code /api/subscriptions} shows it. */
public record SubscriptionView(String name, String filter, String dispatch, boolean durable, int consumers,
                               long backlog, int unacknowledged, long delivered, long acknowledged, long redelivered,
                               long deadLettered, long expired, long dropped,
                               long lostToRetention, boolean paused, String deadLetterAddress) {
}
