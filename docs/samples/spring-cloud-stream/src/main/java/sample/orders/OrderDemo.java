package sample.orders;

import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.env.Environment;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * What {@code run.sh} runs ({@code --orders.demo=N}): places N orders for four customers, and on the RocketMQ binder
 * three transactional orders (committed, rolled back, resolved by the broker's check-back); waits until the listener
 * has every order it should get, prints a summary and returns.
 */
final class OrderDemo implements ApplicationRunner {
    private static final List<String> CUSTOMERS = List.of("alice", "bob", "carol", "dave");
    private final OrderDesk desk;
    private final OrderBook book;
    private final OrderRepository repository;
    private final Environment env;

    OrderDemo(OrderDesk desk, OrderBook book, OrderRepository repository, Environment env) {
        this.desk = desk;
        this.book = book;
        this.repository = repository;
        this.env = env;
    }

    @Override
    public void run(ApplicationArguments args) throws Exception {
        int count = env.getRequiredProperty("orders.demo", Integer.class);
        String binder = env.getProperty("spring.cloud.stream.default-binder", "?");
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            String customer = CUSTOMERS.get(i % CUSTOMERS.size());
            Order order = new Order(binder + "-" + i, Instant.now().toString());
            desk.place(order, customer);
            expected.add(order.id());
        }
        List<String> rolledBack = new ArrayList<>();
        if (binder.equals("rocketmq")) {
            Order committed = new Order("tx-commit", Instant.now().toString());
            desk.placeInTransaction(committed, "alice", () -> {
                repository.save(committed);
                return true;
            });
            expected.add(committed.id());
            desk.placeInTransaction(new Order("tx-rollback", Instant.now().toString()), "alice", () -> {
                throw new IllegalStateException("payment declined");
            });
            rolledBack.add("tx-rollback");
            Order checked = new Order("tx-check-back", Instant.now().toString());
            desk.placeInTransaction(checked, "alice", () -> {
                repository.save(checked);
                return false;
            });
            expected.add(checked.id());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!book.ids().containsAll(expected)) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the listener got " + book.ids() + ", expected " + expected);
            }
            Thread.sleep(50);
        }
        System.out.printf("%n== %s binder: %d orders placed, %d delivered to the listener (group order-listeners)%s%n",
                binder, expected.size() + rolledBack.size(), expected.size(), book.ids().size() > expected.size()
                        ? ", which also read the " + (book.ids().size() - expected.size()) + " orders already on the topic"
                        : "");
        for (OrderBook.Received r : book.received()) {
            System.out.printf("   %-16s customer %-6s partition %s  %s%n", r.order().id(), r.customer(), r.partition(),
                    r.order().orderTime());
        }
        if (!rolledBack.isEmpty()) {
            System.out.printf("   rolled back, never delivered: %s (received: %s)%n", rolledBack,
                    book.ids().stream().anyMatch(rolledBack::contains));
        }
    }
}
