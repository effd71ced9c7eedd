package sample.backend;

import jakarta.jms.ConnectionFactory;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A back end as teams write them: a Spring Boot application whose {@code @JmsListener} ({@link ReadingListener})
 * takes the readings MQTT devices publish to the gateway and answers each on its reply-to, which is the device's
 * MQTT response topic. Spring Boot's default listener container factory is used as it comes: transacted. The one
 * broker-specific piece is Qpid JMS's connection factory, pointed at the gateway's AMQP port
 * ({@code gateway.amqp-url}).
 */
@SpringBootApplication
public class ReadingsBackend {
    public static void main(String[] args) {
        SpringApplication.run(ReadingsBackend.class, args);
    }

    @Bean
    ConnectionFactory connectionFactory(@Value("${gateway.amqp-url:amqp://localhost:5672}") String url) {
        return new JmsConnectionFactory(url);
    }
}
