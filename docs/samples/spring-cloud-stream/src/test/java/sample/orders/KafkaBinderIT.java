package sample.orders;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

/**
 * The order service on Spring Cloud Stream's Kafka binder, against the gateway's Kafka port: the broker address is
 * the only setting that differs from a Kafka deployment.
 */
class KafkaBinderIT extends BinderScenarios {

    @Override
    List<String> binder(Gateway gateway) {
        return List.of("--spring.profiles.active=kafka",
                "--spring.cloud.stream.kafka.binder.brokers=127.0.0.1:" + gateway.kafka);
    }

    /**
     * With the binder's default, Kafka's group protocol assigns the two instances the partitions; with
     * {@code auto-rebalance-enabled=false} each takes the partitions its instance index gives it and commits the
     * group's offsets without joining it.
     */
    @ParameterizedTest(name = "auto-rebalance-enabled={0}")
    @ValueSource(booleans = {true, false})
    void twoInstancesOfOneGroupShareTheOrdersEachOnceAndOneCustomersInOrder(boolean autoRebalance) throws Exception {
        twoInstancesShareTheGroup(
                "--spring.cloud.stream.kafka.bindings.orderListener-in-0.consumer.auto-rebalance-enabled=" + autoRebalance);
    }
}
