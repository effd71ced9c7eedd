package io.omnibus.core.spi;

/**
 * A port an adapter listens on: {@code name} as the adapter's status names it ({@code port}, {@code tls-port},
 * {@code websocket-port}, ...), the {@code host} it binds and the {@code port} configured (0: any free one).
 */
public record ListenerPort(String name, String host, int port) {
}
