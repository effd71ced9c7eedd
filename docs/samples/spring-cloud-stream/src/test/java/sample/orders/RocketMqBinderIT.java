package sample.orders;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;
import static org.awaitility.Awaitility.await;

/**
 * The order service on Spring Cloud Alibaba's RocketMQ binder (rocketmq-client 5.x over the remoting protocol),
 * against the gateway's RocketMQ port as name server and broker: the name server address is the only setting that
 * differs from a RocketMQ deployment.
 */
@Timeout(240)
class RocketMqBinderIT {
    @TempDir
    Path dir;

    private static String[] rocketmq(Gateway gateway, String... more) {
        List<String> args = new ArrayList<>(List.of("--spring.profiles.active=rocketmq",
                "--spring.cloud.stream.rocketmq.binder.name-server=127.0.0.1:" + gateway.rocketmq));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void ordersReachTheListenerAndJmsAndMqttClients() throws Exception {
        try (Gateway gateway = new Gateway(dir); Observers others = new Observers(gateway); Apps apps = new Apps()) {
            ConfigurableApplicationContext app = apps.start(rocketmq(gateway));
            OrderDesk desk = app.getBean(OrderDesk.class);
            OrderBook book = app.getBean(OrderBook.class);
            desk.place(new Order("1", "2021-06-01T10:30:00Z"), "alice");
            desk.place(new Order("2", "2021-06-01T10:31:00Z"), "bob");

            await("the listener got both orders").atMost(Duration.ofSeconds(60))
                    .until(() -> book.ids().size() == 2);
            assertThat(book.received()).extracting(r -> r.order().id(), OrderBook.Received::customer,
                    r -> r.order().orderTime()).containsExactlyInAnyOrder(tuple("1", "alice", "2021-06-01T10:30:00Z"),
                    tuple("2", "bob", "2021-06-01T10:31:00Z"));

            await("the JMS consumer and the MQTT subscriber got both").atMost(Duration.ofSeconds(30))
                    .until(() -> others.jms.size() == 2 && others.mqtt.size() == 2);
            Observers.JmsOrder jms = others.jms.stream().filter(o -> o.body().contains("\"id\":\"1\"")).findFirst()
                    .orElseThrow();
            assertThat(jms.body()).isEqualTo("{\"id\":\"1\",\"orderTime\":\"2021-06-01T10:30:00Z\"}");
            assertThat(jms.contentType()).as(jms.toString()).isEqualTo("application/json");
            assertThat(jms.groupId()).as("the message's KEYS, the order id").isEqualTo("1");
            assertThat(jms.properties()).containsEntry("customer", "alice");
            Observers.MqttOrder mqtt = others.mqtt.stream().filter(o -> o.body().contains("\"id\":\"1\"")).findFirst()
                    .orElseThrow();
            assertThat(mqtt.body()).isEqualTo(jms.body());
            assertThat(mqtt.contentType()).as(mqtt.toString()).isEqualTo("application/json");
            assertThat(mqtt.userProperties()).containsEntry("customer", "alice");

            // and the other way: an order an MQTT client publishes reaches the Spring listener
            others.publishOverMqtt("{\"id\":\"m-1\",\"orderTime\":\"2021-06-01T10:32:00Z\"}");
            await("the listener got the MQTT client's order").atMost(Duration.ofSeconds(30))
                    .until(() -> book.ids().contains("m-1"));
            assertThat(book.received()).filteredOn(r -> r.order().id().equals("m-1"))
                    .extracting(r -> r.order().orderTime()).containsExactly("2021-06-01T10:32:00Z");
        }
    }

    @Test
    void aTransactionalOrderIsCommittedRolledBackOrResolvedByCheckBack() throws Exception {
        try (Gateway gateway = new Gateway(dir); Observers others = new Observers(gateway); Apps apps = new Apps()) {
            ConfigurableApplicationContext app = apps.start(rocketmq(gateway));
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

    @Test
    void twoInstancesOfOneGroupShareTheOrdersEachOnceAndOneCustomersInOrder() throws Exception {
        try (Gateway gateway = new Gateway(dir); Apps apps = new Apps()) {
            ConfigurableApplicationContext first = apps.start(rocketmq(gateway,
                    "--spring.cloud.stream.instance-count=2", "--spring.cloud.stream.instance-index=0"));
            ConfigurableApplicationContext second = apps.start(rocketmq(gateway,
                    "--spring.cloud.stream.instance-count=2", "--spring.cloud.stream.instance-index=1"));
            OrderBook a = first.getBean(OrderBook.class);
            OrderBook b = second.getBean(OrderBook.class);
            OrderDesk desk = first.getBean(OrderDesk.class);
            List<String> customers = List.of("alice", "bob", "carol", "dave");
            int orders = 40;
            for (int i = 0; i < orders; i++) {
                desk.place(new Order(customers.get(i % 4) + "-" + i, Instant.now().toString()), customers.get(i % 4));
            }
            await("every order received").atMost(Duration.ofSeconds(90))
                    .until(() -> new HashSet<>(KafkaBinderIT.concat(a.ids(), b.ids())).size() == orders);
            assertThat(KafkaBinderIT.concat(a.ids(), b.ids())).as("each order once").hasSize(orders)
                    .doesNotHaveDuplicates();
            assertThat(a.ids()).as("instance 0 got its share").isNotEmpty();
            assertThat(b.ids()).as("instance 1 got its share").isNotEmpty();
            for (OrderBook book : List.of(a, b)) {
                for (String customer : customers) {
                    List<Integer> seq = book.received().stream().filter(r -> r.customer().equals(customer))
                            .map(r -> Integer.parseInt(r.order().id().substring(customer.length() + 1))).toList();
                    assertThat(seq).as(customer + "'s orders in order").isSorted();
                }
            }
        }
    }
}
