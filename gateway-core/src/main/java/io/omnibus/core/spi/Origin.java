package io.omnibus.core.spi;

import java.util.Objects;

/**
 * Who brought a message in, or who consumes: the protocol ({@code mqtt}, {@code amqp},
 * {@code kafka}, {@code openmessaging}, or {@code broker} for messages the broker makes itself),
 * the client's own identifier, and the gateway's connection id.
 */
public record Origin(String protocol, String clientId, String connectionId) {
    public static final Origin BROKER = new Origin("broker", "omnibus", "-");

    public Origin {
        Objects.requireNonNull(protocol, "protocol");
        clientId = clientId == null ? "" : clientId;
        connectionId = connectionId == null ? "" : connectionId;
    }
}
