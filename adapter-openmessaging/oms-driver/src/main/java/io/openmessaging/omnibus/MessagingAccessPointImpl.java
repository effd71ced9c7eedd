package io.openmessaging.omnibus;

import io.omnibus.oms.Driver;
import io.openmessaging.api.Consumer;
import io.openmessaging.api.MessagingAccessPoint;
import io.openmessaging.api.Producer;
import io.openmessaging.api.PullConsumer;
import io.openmessaging.api.batch.BatchConsumer;
import io.openmessaging.api.order.OrderConsumer;
import io.openmessaging.api.order.OrderProducer;
import io.openmessaging.api.transaction.LocalTransactionChecker;
import io.openmessaging.api.transaction.TransactionProducer;

import java.util.Properties;

/**
 * The omnibus driver's access point, found by {@code OMS.builder().driver("omnibus")} (OpenMessaging loads
 * {@code io.openmessaging.<driver>.MessagingAccessPointImpl}). Nothing connects until a producer or consumer
 * starts, so a bad endpoint is reported then, with its cause, rather than swallowed by the API's loader.
 */
public final class MessagingAccessPointImpl implements MessagingAccessPoint {
    private final Driver driver;

    public MessagingAccessPointImpl(Properties attributes) {
        this.driver = new Driver(attributes);
    }

    @Override
    public String version() {
        return Driver.VERSION;
    }

    @Override
    public Properties attributes() {
        return driver.attributes();
    }

    @Override
    public Producer createProducer(Properties properties) {
        return driver.producer(properties, null);
    }

    @Override
    public OrderProducer createOrderProducer(Properties properties) {
        return driver.producer(properties, null);
    }

    @Override
    public TransactionProducer createTransactionProducer(Properties properties, LocalTransactionChecker checker) {
        return driver.transactionProducer(properties, checker);
    }

    @Override
    public TransactionProducer createTransactionProducer(Properties properties) {
        return driver.transactionProducer(properties, null);
    }

    @Override
    public Consumer createConsumer(Properties properties) {
        return driver.pushConsumer(properties, false);
    }

    @Override
    public PullConsumer createPullConsumer(Properties properties) {
        return driver.pullConsumer(properties);
    }

    @Override
    public BatchConsumer createBatchConsumer(Properties properties) {
        return driver.pushConsumer(properties, false);
    }

    @Override
    public OrderConsumer createOrderedConsumer(Properties properties) {
        return driver.pushConsumer(properties, true);
    }
}
