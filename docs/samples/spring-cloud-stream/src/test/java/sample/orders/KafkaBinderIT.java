package sample.orders;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The order service on Spring Cloud Stream's Kafka binder, against the gateway's Kafka port: the broker address is
 * the only setting that differs from a Kafka deployment.
 */
@Timeout(240)
class KafkaBinderIT {
    @TempDir
    Path dir;

    private static String[] kafka(Gateway gateway, String... more) {
        List<String> args = new ArrayList<>(List.of("--spring.profiles.active=kafka",
                "--spring.cloud.stream.kafka.binder.brokers=127.0.0.1:" + gateway.kafka));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void ordersReachTheListenerAndJmsAndMqttClients() throws Exception {
        try (Gateway gateway = new Gateway(dir); Observers others = new Observers(gateway); Apps apps = new Apps()) {
            ConfigurableApplicationContext app = apps.start(kafka(gateway));
            OrderDesk desk = app.getBean(OrderDesk.class);
            OrderBook book = app.getBean(OrderBook.class);
            desk.place(new Order("1", "2021-06-01T10:30:00Z"), "alice");
            desk.place(new Order("2", "2021-06-01T10:31:00Z"), "bob");

            await("the listener got both orders").atMost(Duration.ofSeconds(60))
                    .until(() -> book.ids().size() == 2);
            assertThat(book.received()).extracting(r -> r.order().id(), OrderBook.Received::customer)
                    .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("1", "alice"),
                            org.assertj.core.groups.Tuple.tuple("2", "bob"));
            assertThat(book.received().get(0).order().orderTime()).isNotNull();

            await("the JMS consumer and the MQTT subscriber got both").atMost(Duration.ofSeconds(30))
                    .until(() -> others.jms.size() == 2 && others.mqtt.size() == 2);
            Observers.JmsOrder jms = others.jms.stream().filter(o -> o.body().contains("\"id\":\"1\"")).findFirst()
                    .orElseThrow();
            assertThat(jms.body()).isEqualTo("{\"id\":\"1\",\"orderTime\":\"2021-06-01T10:30:00Z\"}");
            assertThat(jms.contentType()).as(jms.toString()).isEqualTo("application/json");
            assertThat(jms.groupId()).as("the record key, the order id").isEqualTo("1");
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

    /**
     * Two instances of the listener in one group. With the binder's default, Kafka's group protocol assigns them
     * the partitions; with {@code auto-rebalance-enabled=false} each takes the partitions its instance index gives
     * it ({@code instance-count} / {@code instance-index}) and commits the group's offsets without joining it.
     */
    @ParameterizedTest(name = "auto-rebalance-enabled={0}")
    @ValueSource(booleans = {true, false})
    void twoInstancesOfOneGroupShareTheOrdersEachOnceAndOneCustomersInOrder(boolean autoRebalance) throws Exception {
        try (Gateway gateway = new Gateway(dir); Apps apps = new Apps()) {
            String rebalance = "--spring.cloud.stream.kafka.bindings.orderListener-in-0.consumer.auto-rebalance-enabled="
                    + autoRebalance;
            ConfigurableApplicationContext first = apps.start(kafka(gateway, "--spring.cloud.stream.instance-count=2",
                    "--spring.cloud.stream.instance-index=0", rebalance));
            ConfigurableApplicationContext second = apps.start(kafka(gateway, "--spring.cloud.stream.instance-count=2",
                    "--spring.cloud.stream.instance-index=1", rebalance));
            OrderDesk desk = first.getBean(OrderDesk.class);
            List<String> customers = List.of("alice", "bob", "carol", "dave");
            int orders = 40;
            for (int i = 0; i < orders; i++) {
                desk.place(new Order(customers.get(i % 4) + "-" + i, Instant.now().toString()), customers.get(i % 4));
            }
            OrderBook a = first.getBean(OrderBook.class);
            OrderBook b = second.getBean(OrderBook.class);
            await("every order received").atMost(Duration.ofSeconds(90))
                    .until(() -> new HashSet<>(concat(a.ids(), b.ids())).size() == orders);
            assertThat(concat(a.ids(), b.ids())).as("each order once").hasSize(orders).doesNotHaveDuplicates();
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

    static List<String> concat(List<String> x, List<String> y) {
        List<String> all = new ArrayList<>(x);
        all.addAll(y);
        return all;
    }
}
