package io.omnibus.core.internal;

/** A topic as {@code /api/topics} shows it. */
public record TopicView(String name, int partitions, boolean queue, long messages, long bytes, long startOffset,
                        long endOffset) {
}
