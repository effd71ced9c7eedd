package sample.orders;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.util.ArrayList;
import java.util.List;

/** Instances of the order service, each a Spring Boot application context in this JVM, closed at the end. */
final class Apps implements AutoCloseable {
    private final List<ConfigurableApplicationContext> running = new ArrayList<>();

    ConfigurableApplicationContext start(String... args) {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(OrdersApplication.class).run(args);
        running.add(context);
        return context;
    }

    @Override
    public void close() {
        for (int i = running.size() - 1; i >= 0; i--) {
            running.get(i).close();
        }
    }
}
