package io.omnibus.core.spi;

/**
 * A port an adapter listens on: {@code name} as the adapter's status names it ({@code port}, {@code tls-port},
 * {@code websocket-port}, ...), the {@code host} it binds and the {@code port} configured (0: any free one).
 * {@code proxyProtocol}: its listener reads a PROXY protocol header from the sources it trusts (the shared TCP
 * listeners do, MQTT's WebSocket ports among them; an HTTP server of its own, as Vert.x's, would not).
 */
public record ListenerPort(String name, String host, int port, boolean proxyProtocol) {
    /** A port whose listener reads no PROXY header. */
    public ListenerPort(String name, String host, int port) {
        this(name, host, port, false);
    }
}
