package io.omnibus.mqtt;

import io.omnibus.core.spi.ConfigSection;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

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
}
