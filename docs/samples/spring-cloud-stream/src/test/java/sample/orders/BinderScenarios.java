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
 * What the order service does on either binder, against a gateway of its own: a subclass names the binder's profile
 * and broker address, and adds what only its binder has.
 */
@Timeout(240)
abstract class BinderScenarios {
    @TempDir
    Path dir;

    /** The application's arguments for this binder against the gateway, then {@code more}. */
    abstract List<String> binder(Gateway gateway);

    final String[] args(Gateway gateway, String... more) {
        List<String> args = new ArrayList<>(binder(gateway));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void ordersReachTheListenerAndJmsAndMqttClients() throws Exception {
        try (Gateway gateway = new Gateway(dir); Observers others = new Observers(gateway); Apps apps = new Apps()) {
            ConfigurableApplicationContext app = apps.start(args(gateway));
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
            assertThat(jms.groupId()).as("the key (Kafka record key, RocketMQ KEYS): the order id").isEqualTo("1");
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
     * Two instances of the listener in one group ({@code instance-count=2}, {@code instance-index} 0 and 1, and
     * {@code more}): each order reaches one of them, both get some, and one customer's orders (one partition)
     * arrive in order.
     */
    final void twoInstancesShareTheGroup(String... more) throws Exception {
        try (Gateway gateway = new Gateway(dir); Apps apps = new Apps()) {
            List<OrderBook> books = new ArrayList<>();
            List<OrderDesk> desks = new ArrayList<>();
            for (int index = 0; index < 2; index++) {
                List<String> instance = new ArrayList<>(List.of("--spring.cloud.stream.instance-count=2",
                        "--spring.cloud.stream.instance-index=" + index));
                instance.addAll(List.of(more));
                ConfigurableApplicationContext app = apps.start(args(gateway, instance.toArray(String[]::new)));
                books.add(app.getBean(OrderBook.class));
                desks.add(app.getBean(OrderDesk.class));
            }
            List<String> customers = List.of("alice", "bob", "carol", "dave");
            int orders = 40;
            for (int i = 0; i < orders; i++) {
                String customer = customers.get(i % 4);
                desks.get(0).place(new Order(customer + "-" + i, Instant.now().toString()), customer);
            }
            await("every order received").atMost(Duration.ofSeconds(90))
                    .until(() -> new HashSet<>(allIds(books)).size() == orders);
            assertThat(allIds(books)).as("each order once").hasSize(orders).doesNotHaveDuplicates();
            for (int index = 0; index < 2; index++) {
                OrderBook book = books.get(index);
                assertThat(book.ids()).as("instance " + index + " got its share").isNotEmpty();
                for (String customer : customers) {
                    List<Integer> seq = book.received().stream().filter(r -> r.customer().equals(customer))
                            .map(r -> Integer.parseInt(r.order().id().substring(customer.length() + 1))).toList();
                    assertThat(seq).as(customer + "'s orders in order").isSorted();
                }
            }
        }
    }

    private static List<String> allIds(List<OrderBook> books) {
        List<String> all = new ArrayList<>();
        books.forEach(b -> all.addAll(b.ids()));
        return all;
    }
}
