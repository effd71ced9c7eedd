package io.omnibus.core.config;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.spi.TopicFilter;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BrokerConfigTest {
    private static BrokerConfig read(Map<String, Object> root) {
        return BrokerConfig.read(new ConfigSection("", root));
    }

    @Test
    void layersSubscriptionOverAddressOverDefaults() {
        BrokerConfig c = read(Map.of(
                "broker", Map.of("defaults", Map.of("max-deliveries", 5, "ack-timeout", "30s")),
                "addresses", List.of(Map.of("match", "orders/#", "dispatch", "fair", "partitions", 4)),
                "subscriptions", List.of(Map.of("name", "billing-*", "max-deliveries", 2))));
        DeliveryPolicy p = c.policyFor("billing-eu", TopicFilter.of("orders/eu"), null);
        assertThat(p.dispatch()).isEqualTo(DispatchPolicy.FAIR);
        assertThat(p.maxDeliveries()).isEqualTo(2);
        assertThat(p.ackTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.partitionsFor(Address.of("orders/eu"))).isEqualTo(4);
        DeliveryPolicy other = c.policyFor("x", TopicFilter.of("telemetry/1"), null);
        assertThat(other.dispatch()).isEqualTo(DispatchPolicy.ROUND_ROBIN);
        assertThat(other.maxDeliveries()).isEqualTo(5);
        assertThat(c.isQueue(Address.of("$dlq/orders"))).as("built-in rule stays").isTrue();
    }

    @Test
    void errorsNameTheKey() {
        assertThatThrownBy(() -> read(Map.of("broker", Map.of("defaults", Map.of("dispatch", "random")))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("broker.defaults.dispatch")
                .hasMessageContaining("round-robin");
        assertThatThrownBy(() -> read(Map.of("addresses", List.of(Map.of("match", "a/#/b")))))
                .hasMessageContaining("addresses[0].match").hasMessageContaining("[MQTT-4.7.1-2]");
        assertThatThrownBy(() -> read(Map.of("addresses", List.of(Map.of("match", "a", "partitons", 2)))))
                .hasMessageContaining("addresses[0].partitons: unknown key");
        assertThatThrownBy(() -> read(Map.of("broker", Map.of("max-message-size", "lots"))))
                .hasMessageContaining("broker.max-message-size").hasMessageContaining("64KiB");
        assertThatThrownBy(() -> read(Map.of("subscriptions", List.of(Map.of("dispatch", "fair")))))
                .hasMessageContaining("subscriptions[0].name: is required");
    }

    @Test
    void backoffGrowsAndIsCapped() {
        DeliveryPolicy p = read(Map.of("broker", Map.of("defaults", Map.of("redelivery-delay", "100ms",
                "redelivery-multiplier", 2, "max-redelivery-delay", "1s")))).defaults();
        assertThat(p.backoffMillis(1)).isEqualTo(100);
        assertThat(p.backoffMillis(2)).isEqualTo(200);
        assertThat(p.backoffMillis(3)).isEqualTo(400);
        assertThat(p.backoffMillis(10)).isEqualTo(1000);
    }
}
