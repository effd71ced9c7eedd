package io.omnibus.core.spi;

import java.util.Objects;

/** What the admin API shows about one client connection. */
public record ConnectionInfo(String protocol, String connectionId, String clientId, String remoteAddress, String user,
                             long connectedAt) {
    public ConnectionInfo {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(connectionId, "connectionId");
    }
}
