package sample.orders;

import org.springframework.cloud.stream.function.StreamBridge;
import org.springframework.messaging.Message;
import org.springframework.messaging.support.MessageBuilder;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Where the order service places orders. Plain orders go out through the {@code orders} supplier (polled by Spring
 * Cloud Stream); a transactional order is sent at once through {@link StreamBridge} to the binding
 * {@code transactionalOrders-out-0}, whose RocketMQ producer makes the send part of a local transaction
 * ({@link OrderTransactions}).
 */
public final class OrderDesk {
    /** The header that carries the customer: the partition key, so one customer's orders stay in order. */
    public static final String CUSTOMER = "customer";
    /** The header that carries the order id: the Kafka binder's record key ({@code message-key-expression}). */
    public static final String ORDER_ID = "orderId";

    /** The local transaction of a transactional order: saving it. */
    @FunctionalInterface
    public interface LocalWork {
        /**
         * @return true once committed locally; false when its outcome is not known yet (the broker asks later)
         * @throws Exception when it failed: the order is rolled back
         */
        boolean run() throws Exception;
    }

    private final Queue<Message<Order>> outbox = new ConcurrentLinkedQueue<>();
    private final Map<String, LocalWork> pending = new ConcurrentHashMap<>();
    private final StreamBridge bridge;
    private final String keyHeader;

    OrderDesk(StreamBridge bridge, String keyHeader) {
        this.bridge = bridge;
        this.keyHeader = keyHeader;
    }

    /** Places an order: the supplier sends it on its next poll. */
    public void place(Order order, String customer) {
        outbox.add(message(order, customer));
    }

    /**
     * Sends an order as a transactional message: the broker keeps it invisible while {@code work} runs, then commits
     * or rolls it back by its outcome, or asks {@link OrderTransactions#checkLocalTransaction} when it is unknown.
     *
     * @return whether the half message was sent
     */
    public boolean placeInTransaction(Order order, String customer, LocalWork work) {
        pending.put(order.id(), work);
        try {
            return bridge.send("transactionalOrders-out-0", message(order, customer));
        } finally {
            pending.remove(order.id());
        }
    }

    Message<Order> next() {
        return outbox.poll();
    }

    LocalWork work(String orderId) {
        return pending.get(orderId);
    }

    private Message<Order> message(Order order, String customer) {
        MessageBuilder<Order> m = MessageBuilder.withPayload(order).setHeader(CUSTOMER, customer)
                .setHeader(ORDER_ID, order.id());
        if (!keyHeader.isEmpty()) {
            m.setHeader(keyHeader, order.id());
        }
        return m.build();
    }
}
