/**
 * The adapter SPI: the only package of {@code gateway-core} an adapter may use (a test checks it).
 *
 * <h2>Threading rules</h2>
 * <ol>
 *   <li><b>A connection lives on one context.</b> Vert.x owns the event loops. An adapter keeps all
 *       state of a connection on the event-loop context that accepted it and touches it nowhere
 *       else. No {@code synchronized}, no blocking call (file I/O, {@code Future.await},
 *       {@code Thread.sleep}, locks) on an event loop.</li>
 *   <li><b>Call from anywhere, hear back at home.</b> {@link io.omnibus.core.spi.Broker},
 *       {@link io.omnibus.core.spi.Subscription} and {@link io.omnibus.core.spi.Consumer} may be called
 *       from any thread. Every future they return completes on the context of the caller, and every
 *       {@link io.omnibus.core.spi.Delivery} is handed to the {@link io.omnibus.core.spi.DeliveryHandler}
 *       on the context that attached the consumer. So an adapter never hops threads itself and never
 *       sees its state from a foreign thread. (A caller with no context hears back on a broker thread.)</li>
 *   <li><b>Shared broker state is confined, not locked.</b> Each topic partition and each
 *       subscription belongs to one broker context; work for it is handed over as a task, in order.
 *       Store I/O runs on the store's own threads and completes back on the owner's context.</li>
 *   <li><b>Order.</b> Publishes from one context to one address are stored and routed in call
 *       order. Settlements (ack, nack, release, reject, credit) from one context take effect in call order.</li>
 *   <li><b>Durability before acknowledgement.</b> A publish future completes only once the store
 *       holds the message as durably as its fsync policy says; adapters acknowledge producers only then.</li>
 *   <li><b>No pooled buffers cross the SPI.</b> Payloads are read-only {@link java.nio.ByteBuffer}s owned
 *       by the envelope; no reference-counted Netty {@code ByteBuf} leaves an adapter.</li>
 *   <li><b>Back-pressure is the protocol's own.</b> Consumers receive only as much as their credit
 *       allows; a publisher waiting on publish futures stops reading its socket.</li>
 *   <li><b>What one read brings goes over together.</b> The messages a client pipelined arrive in one
 *       read; an adapter hands them to {@link io.omnibus.core.spi.Broker#publishAll} in runs
 *       ({@link io.omnibus.core.spi.PublishRuns}), stored in one append and routed in one hand-over per
 *       partition, rather than one publish each.</li>
 * </ol>
 * These rules are asserted by {@code BrokerThreadingTest}.
 */
package io.omnibus.core.spi;
