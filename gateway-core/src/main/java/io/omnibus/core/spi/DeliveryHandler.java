package io.omnibus.core.spi;

/** Receives pushed deliveries, always on the context that attached the consumer. */
@FunctionalInterface
public interface DeliveryHandler {
    void onDelivery(Delivery delivery);
}
