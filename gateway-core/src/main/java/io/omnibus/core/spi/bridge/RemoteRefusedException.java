package io.omnibus.core.spi.bridge;

/**
 * The remote broker refused one message for good (AMQP {@code rejected}, an MQTT 5 PUBACK reason code of 0x80 or
 * more, a Kafka error that retrying cannot cure): the bridge dead-letters it with {@link #getMessage()} as the
 * reason, and goes on with the next. Any other failure of a send is the connection's: the message is sent again.
 */
public final class RemoteRefusedException extends RuntimeException {
    public RemoteRefusedException(String reason) {
        super(reason, null, false, false);
    }
}
