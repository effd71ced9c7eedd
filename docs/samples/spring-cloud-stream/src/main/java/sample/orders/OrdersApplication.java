package sample.orders;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.cloud.stream.function.StreamBridge;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.messaging.Message;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The order service of the Spring Cloud Stream world, in the functional style: the supplier {@code orders} sends
 * placed orders to the destination {@code orders}, the consumer {@code orderListener} receives them in the group
 * {@code order-listeners}. Which broker: the profile {@code kafka} (the Kafka binder) or {@code rocketmq} (Spring
 * Cloud Alibaba's RocketMQ binder, with transactional orders). Nothing in it names the gateway: run against it, only
 * the broker address differs.
 */
@SpringBootApplication
public class OrdersApplication {

    public static void main(String[] args) {
        // run.sh's demo ends once it printed its summary; a service runs until stopped
        var context = SpringApplication.run(OrdersApplication.class, args);
        if (context.getEnvironment().containsProperty("orders.demo")) {
            System.exit(SpringApplication.exit(context));
        }
    }

    @Bean
    OrderDesk orderDesk(StreamBridge bridge, @Value("${orders.key-header:}") String keyHeader) {
        return new OrderDesk(bridge, keyHeader);
    }

    @Bean
    OrderBook orderBook() {
        return new OrderBook();
    }

    @Bean
    OrderRepository orderRepository() {
        return new OrderRepository();
    }

    @Bean
    OrderTransactions orderTransactions(OrderDesk desk, OrderRepository repository) {
        return new OrderTransactions(desk, repository);
    }

    /** run.sh's demo: {@code --orders.demo=N}. */
    @Bean
    @ConditionalOnProperty("orders.demo")
    OrderDemo orderDemo(OrderDesk desk, OrderBook book, OrderRepository repository, Environment env) {
        return new OrderDemo(desk, book, repository, env);
    }

    /** Polled by Spring Cloud Stream: each poll sends the next placed order, if any. */
    @Bean
    Supplier<Message<Order>> orders(OrderDesk desk) {
        return desk::next;
    }

    @Bean
    Consumer<Message<Order>> orderListener(OrderBook book) {
        return book::add;
    }
}
