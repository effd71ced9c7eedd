package io.omnibus.core.spi;

/**
 * A broker operation that failed for a reason an adapter turns into its protocol's error
 * (a CONNACK/PUBACK reason code, an AMQP error condition, a Kafka error code, a RocketMQ response code).
 */
public final class BrokerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why an operation failed; each maps to one protocol error per adapter. */
    public enum Reason {
        /** The address or filter breaks the naming rules. */
        INVALID_ADDRESS,
        /** The address does not exist and auto-creation is off. */
        UNKNOWN_ADDRESS,
        /** The message is larger than {@code broker.max-message-size}. */
        MESSAGE_TOO_LARGE,
        /** The store could not make the message durable (I/O error, disk full). */
        STORE_FAILURE,
        /** A subscription of that name exists with a different filter (or selector). */
        SUBSCRIPTION_CONFLICT,
        /** No such subscription, consumer or delivery. */
        NOT_FOUND,
        /** The broker is stopping and takes no new work. */
        SHUTTING_DOWN,
        /** A message selector (JMS selector, SQL92 filter) that does not parse. */
        INVALID_SELECTOR,
        /** The request does not fit what the target is (an operator's action on a cursor that follows a group). */
        CONFLICT
    }

    private final Reason reason;

    public BrokerException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public BrokerException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
