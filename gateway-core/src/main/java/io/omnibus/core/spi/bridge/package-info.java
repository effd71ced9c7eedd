/**
 * What a protocol module gives the gateway's bridges (docs/bridges.md): a {@link io.omnibus.core.spi.bridge.RemoteConnector},
 * found with {@link java.util.ServiceLoader}, opens a {@link io.omnibus.core.spi.bridge.Remote}: one connection to a
 * broker the gateway does not host, made with that protocol's own client library and its translation. The bridge
 * engine (store-and-forward on a durable cursor, reconnects, dead letters, meters) is written once, in the gateway.
 */
package io.omnibus.core.spi.bridge;
