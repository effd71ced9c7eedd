package io.omnibus.core.spi;

import java.util.Map;

/**
 * A prepared transaction ({@link Transaction#prepare}) not yet resolved: its id, when it was prepared, the attributes
 * its protocol gave it (a RocketMQ producer group, say) and how many messages it holds
 * ({@link Broker#preparedMessages}).
 */
public record PreparedTransaction(String id, long preparedAt, Map<String, String> attributes, int messages) {
    /** A staged message as it will be published, with the partition it was staged for (negative: where it chooses). */
    public record Staged(Envelope envelope, int partition) {
    }
}
