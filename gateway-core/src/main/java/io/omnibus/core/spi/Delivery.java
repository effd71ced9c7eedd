package io.omnibus.core.spi;

/**
 * One message handed to one consumer. {@code tag} identifies it for acknowledgement within its
 * subscription. {@code deliveryCount} is the number of earlier unsuccessful deliveries (AMQP's
 * delivery-count; MQTT sets DUP when it is above 0; RocketMQ's reconsume times).
 */
public record Delivery(long tag, String subscription, int partition, long offset, int deliveryCount, Envelope envelope) {
    public boolean redelivered() {
        return deliveryCount > 0;
    }
}
