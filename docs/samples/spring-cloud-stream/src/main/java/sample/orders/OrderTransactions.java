package sample.orders;

import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RocketMQ binder's transaction listener ({@code producer.transaction-listener=orderTransactions}): runs the
 * order's local transaction while its half message waits, and answers the broker's check-back from the order
 * service's own database.
 */
public final class OrderTransactions implements TransactionListener {
    private static final Logger LOG = LoggerFactory.getLogger(OrderTransactions.class);
    private final OrderDesk desk;
    private final OrderRepository repository;

    OrderTransactions(OrderDesk desk, OrderRepository repository) {
        this.desk = desk;
        this.repository = repository;
    }

    @Override
    public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
        String orderId = msg.getUserProperty(OrderDesk.ORDER_ID);
        OrderDesk.LocalWork work = desk.work(orderId);
        if (work == null) {
            return LocalTransactionState.ROLLBACK_MESSAGE;
        }
        try {
            LocalTransactionState state = work.run() ? LocalTransactionState.COMMIT_MESSAGE : LocalTransactionState.UNKNOW;
            LOG.info("order {}: local transaction {}", orderId, state);
            return state;
        } catch (Exception e) {
            LOG.info("order {}: local transaction failed ({}), rolled back", orderId, e.getMessage());
            return LocalTransactionState.ROLLBACK_MESSAGE;
        }
    }

    @Override
    public LocalTransactionState checkLocalTransaction(MessageExt msg) {
        String orderId = msg.getUserProperty(OrderDesk.ORDER_ID);
        LocalTransactionState state = repository.contains(orderId) ? LocalTransactionState.COMMIT_MESSAGE
                : LocalTransactionState.ROLLBACK_MESSAGE;
        LOG.info("order {}: checked back by the broker, {}", orderId, state);
        return state;
    }
}
