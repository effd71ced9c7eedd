package io.omnibus.openmessaging;

import io.omnibus.core.harness.TestGateway;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.MessageListener;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.protocol.heartbeat.MessageModel;
import org.junit.jupiter.api.AfterEach;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A gateway with the OpenMessaging adapter on an ephemeral port, and RocketMQ's own client (4.9.x) against it,
 * every client shut down after each test. Each client gets an instance name of its own: RocketMQ shares one
 * client instance per JVM and instance name, which would carry a previous test's name server address.
 */
abstract class RocketTestBase {
    static {
        System.setProperty("rocketmq.client.logUseSlf4j", "true");
        // the client rebalances every 20 s unless told to sooner (the gateway tells it when a group changes)
        System.setProperty("rocketmq.client.rebalance.waitInterval", "1000");
        // the client logs every pull a shutdown interrupts, with its stack
        for (String name : new String[] {"RocketmqClient", "RocketmqRemoting", "RocketmqCommon"}) {
            ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(name)).setLevel(ch.qos.logback.classic.Level.ERROR);
        }
    }

    protected TestGateway gw;
    private final List<Runnable> shutdowns = new ArrayList<>();

    TestGateway start(Map<String, Object> config) {
        Map<String, Object> cfg = new HashMap<>(config);
        cfg.putIfAbsent("queues", 4);
        gw = TestGateway.builder().adapter(new OpenMessagingAdapterFactory(), cfg).start();
        return gw;
    }

    String nameServer() {
        return "127.0.0.1:" + gw.port("openmessaging");
    }

    DefaultMQProducer producer(String group) throws MQClientException {
        DefaultMQProducer p = new DefaultMQProducer(group);
        configure(p);
        p.start();
        return p;
    }

    TransactionMQProducer transactionProducer(String group, TransactionListener listener) throws MQClientException {
        TransactionMQProducer p = new TransactionMQProducer(group);
        p.setTransactionListener(listener);
        configure(p);
        p.start();
        return p;
    }

    private void configure(DefaultMQProducer p) {
        p.setNamesrvAddr(nameServer());
        p.setInstanceName(UUID.randomUUID().toString());
        p.setSendMsgTimeout(10_000);
        shutdowns.add(p::shutdown);
    }

    DefaultLitePullConsumer litePullConsumer(String group) {
        DefaultLitePullConsumer c = new DefaultLitePullConsumer(group);
        c.setNamesrvAddr(nameServer());
        c.setInstanceName(UUID.randomUUID().toString());
        shutdowns.add(c::shutdown);
        return c;
    }

    DefaultMQPushConsumer pushConsumer(String group, String topic, String tags, MessageModel model, MessageListener listener)
            throws MQClientException {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(nameServer());
        c.setInstanceName(UUID.randomUUID().toString());
        c.setMessageModel(model);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, tags);
        c.setMessageListener(listener);
        c.setPersistConsumerOffsetInterval(1000);
        shutdowns.add(c::shutdown);
        return c;
    }

    @AfterEach
    void stopAll() {
        for (int i = shutdowns.size() - 1; i >= 0; i--) {
            try {
                shutdowns.get(i).run();
            } catch (RuntimeException e) {
                // shutting down twice is harmless
            }
        }
        shutdowns.clear();
        if (gw != null) {
            gw.close();
        }
    }
}
