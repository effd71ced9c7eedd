package io.omnibus.mqtt;

import io.omnibus.core.spi.ConfigSection;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MqttConfigTest {
    private static MqttConfig websocketOrigins(Object origins) {
        return MqttConfig.read(new ConfigSection("mqtt", Map.of("websocket", Map.of("allowed-origins", origins))));
    }

    @Test
    void allowedOriginsComeAsAListOrAsOneValueSeparatedByCommasOrSpaces() {
        List<String> expected = List.of("https://a.example", "https://b.example");
        assertThat(websocketOrigins(List.of("https://a.example", "HTTPS://B.example")).webSocketOrigins()).isEqualTo(expected);
        // as an environment variable gives it (OMNIBUS_MQTT_WEBSOCKET_ALLOWED_ORIGINS)
        assertThat(websocketOrigins("https://a.example, https://b.example").webSocketOrigins()).isEqualTo(expected);
        assertThat(websocketOrigins("https://a.example https://b.example").webSocketOrigins()).isEqualTo(expected);
    }

    @Test
    void theListenersWriteBufferAndTheQos0QueueAreReadWithinTheirBounds() {
        MqttConfig defaults = MqttConfig.read(new ConfigSection("mqtt", Map.of()));
        assertThat(defaults.listeners().writeBuffer()).isEqualTo(64 * 1024);
        assertThat(defaults.maxQueuedQos0()).isEqualTo(1000);
        MqttConfig set = MqttConfig.read(new ConfigSection("mqtt", Map.of("write-buffer", "1MiB", "max-queued-qos0", 50)));
        assertThat(set.listeners().writeBuffer()).isEqualTo(1 << 20);
        assertThat(set.maxQueuedQos0()).isEqualTo(50);
        assertThatThrownBy(() -> MqttConfig.read(new ConfigSection("mqtt", Map.of("write-buffer", "1KiB"))))
                .hasMessageContaining("write-buffer");
        assertThatThrownBy(() -> MqttConfig.read(new ConfigSection("mqtt", Map.of("max-queued-qos0", 0))))
                .hasMessageContaining("max-queued-qos0");
    }

    @Test
    void theAuthenticationTimeoutIsThirtySecondsByDefaultAndBetweenASecondAndADay() {
        assertThat(MqttConfig.read(new ConfigSection("mqtt", Map.of())).authenticationTimeout())
                .isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(MqttConfig.read(new ConfigSection("mqtt", Map.of("authentication-timeout", "2m")))
                .authenticationTimeout()).isEqualTo(java.time.Duration.ofMinutes(2));
        for (String bad : List.of("0s", "500ms", "2d")) {
            assertThatThrownBy(() -> MqttConfig.read(new ConfigSection("mqtt", Map.of("authentication-timeout", bad))))
                    .hasMessageContaining("authentication-timeout").hasMessageContaining("between 1000 ms and 86400000 ms");
        }
    }
}
