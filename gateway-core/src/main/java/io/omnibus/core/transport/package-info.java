/**
 * Plumbing adapters may share for their sockets (a TCP port on the gateway's event loops). Unlike
 * {@code io.omnibus.core.spi}, it speaks Netty: an adapter whose codec is a Netty pipeline uses it; what
 * reaches the broker still goes through the SPI, and no {@code ByteBuf} crosses it.
 */
package io.omnibus.core.transport;
