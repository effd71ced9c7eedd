package io.omnibus.openmessaging;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** RocketMQ properties that are envelope fields (docs/openmessaging.md, "Message mapping"). */
class TranslationTest {
    private static final Origin ORIGIN = new Origin("openmessaging", "c", "om-1");

    private static Envelope in(Map<String, String> props) {
        return Translation.toEnvelope(Address.of("orders"), 0, 1L, 0, props,
                ByteBuffer.wrap("{}".getBytes(StandardCharsets.UTF_8)), ORIGIN);
    }

    @Test
    void springsContentTypePropertyIsTheContentTypeWhenThereIsNoneAndStaysAHeader() {
        Map<String, String> spring = new LinkedHashMap<>();
        spring.put("contentType", "application/json");
        spring.put("KEYS", "1");
        Envelope e = in(spring);
        assertThat(e.contentType()).isEqualTo("application/json");
        assertThat(e.header("contentType")).isNotNull();

        Map<String, String> both = new LinkedHashMap<>(spring);
        both.put("content-type", "text/plain");
        assertThat(in(both).contentType()).as("content-type wins").isEqualTo("text/plain");
        assertThat(in(Map.of("KEYS", "1")).contentType()).isNull();
    }
}
