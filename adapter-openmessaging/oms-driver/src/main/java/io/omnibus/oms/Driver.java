package io.omnibus.oms;

import io.openmessaging.api.transaction.LocalTransactionChecker;

import java.util.Properties;

/** The driver behind an access point: its attributes, and the client instance its producers and consumers share. */
public final class Driver {
    public static final String VERSION = "2.2.1-pubsub";
    /** Producer and consumer group properties, in the order they are looked for. */
    static final String[] GROUP_KEYS = {"GROUP_ID", "groupId", "ProducerId", "ConsumerId"};

    private final Properties attributes;
    private ClientInstance instance;

    public Driver(Properties attributes) {
        this.attributes = new Properties();
        this.attributes.putAll(attributes);
    }

    public Properties attributes() {
        Properties copy = new Properties();
        copy.putAll(attributes);
        return copy;
    }

    /** The shared client instance, made on first use (a bad endpoint fails here, with its reason). */
    synchronized ClientInstance instance() {
        if (instance == null) {
            instance = new ClientInstance(attributes);
        }
        return instance;
    }

    public ProducerImpl producer(Properties properties, LocalTransactionChecker checker) {
        return new ProducerImpl(instance(), group(properties, "DEFAULT_PRODUCER"), properties, checker);
    }

    /** A transaction producer: its own default group, as check-backs go to a group's producers. */
    public ProducerImpl transactionProducer(Properties properties, LocalTransactionChecker checker) {
        return new ProducerImpl(instance(), group(properties, "DEFAULT_TRANSACTION_PRODUCER"), properties, checker);
    }

    public PushConsumerImpl pushConsumer(Properties properties, boolean orderly) {
        return new PushConsumerImpl(instance(), group(properties, null), properties, orderly);
    }

    public PullConsumerImpl pullConsumer(Properties properties) {
        return new PullConsumerImpl(instance(), group(properties, null), properties);
    }

    static String group(Properties p, String fallback) {
        for (String k : GROUP_KEYS) {
            String g = p.getProperty(k);
            if (g != null && !g.isBlank()) {
                return g.trim();
            }
        }
        if (fallback == null) {
            throw Errors.badParameter("a consumer needs a group: set the property GROUP_ID");
        }
        return fallback;
    }
}
