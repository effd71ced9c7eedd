package sample.orders;

import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The order service on Spring Cloud Alibaba's RocketMQ binder (rocketmq-client 5.x over the remoting protocol),
 * against the gateway's RocketMQ port as name server and broker: the name server address is the only setting that
 * differs from a RocketMQ deployment.
 */
class RocketMqBinderIT extends BinderScenarios {

    @Override
    List<String> binder(Gateway gateway) {
        return List.of("--spring.profiles.active=rocketmq",
                "--spring.cloud.stream.rocketmq.binder.name-server=127.0.0.1:" + gateway.rocketmq);
    }

    @Test
    void aTransactionalOrderIsCommittedRolledBackOrResolvedByCheckBack() throws Exception {
        try (Gateway gateway = new Gateway(dir); Observers others = new Observers(gateway); Apps apps = new Apps()) {
            ConfigurableApplicationContext app = apps.start(args(gateway));
            OrderDesk desk = app.getBean(OrderDesk.class);
            OrderBook book = app.getBean(OrderBook.class);
            OrderRepository repository = app.getBean(OrderRepository.class);
            String now = Instant.now().toString();

            Order committed = new Order("t-1", now);
            assertThat(desk.placeInTransaction(committed, "alice", () -> {
                repository.save(committed);
                return true;
            })).isTrue();
            Order declined = new Order("t-2", now);
            assertThat(desk.placeInTransaction(declined, "alice", () -> {
                throw new IllegalStateException("payment declined");
            })).isTrue();
            // saved, but the local commit's outcome is not known when the send returns: the gateway asks later
            Order unknown = new Order("t-3", now);
            assertThat(desk.placeInTransaction(unknown, "alice", () -> {
                repository.save(unknown);
                return false;
            })).isTrue();

            await("the committed order").atMost(Duration.ofSeconds(30)).until(() -> book.ids().contains("t-1"));
            assertThat(book.ids()).as("t-3 waits for the check-back").doesNotContain("t-3");
            await("the order resolved by the check-back").atMost(Duration.ofSeconds(60))
                    .until(() -> book.ids().contains("t-3"));
            // t-2 was rolled back before t-3 was sent, and t-3 came only after its check-back
            assertThat(book.ids()).containsExactly("t-1", "t-3");
            await("the JMS consumer and the MQTT subscriber got the two committed orders").atMost(Duration.ofSeconds(30))
                    .until(() -> others.jms.size() == 2 && others.mqtt.size() == 2);
            assertThat(others.jms).extracting(Observers.JmsOrder::groupId).containsExactly("t-1", "t-3");
            assertThat(others.mqtt).extracting(o -> o.userProperties().get(OrderDesk.ORDER_ID))
                    .containsExactly("t-1", "t-3");
        }
    }

    /** The group's members split the topic's queues; the listener is orderly. */
    @Test
    void twoInstancesOfOneGroupShareTheOrdersEachOnceAndOneCustomersInOrder() throws Exception {
        twoInstancesShareTheGroup();
    }
}
