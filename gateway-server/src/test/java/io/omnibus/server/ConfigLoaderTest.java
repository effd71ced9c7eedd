package io.omnibus.server;

import io.omnibus.core.spi.DispatchPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private GatewayConfig load(String yaml, Map<String, String> env) throws Exception {
        Path f = dir.resolve("g.yaml");
        Files.writeString(f, yaml);
        return new ConfigLoader(env, Adapters.discover(getClass().getClassLoader())).load(f, null);
    }

    @Test
    void theShippedFileLoadsWithTheDocumentedDefaults() {
        GatewayConfig c = new ConfigLoader(Map.of(), Adapters.discover(getClass().getClassLoader()))
                .load(Path.of("../config/gateway.yaml"), null);
        assertThat(c.adapters().get("mqtt").enabled()).isTrue();
        assertThat(c.admin().port()).isEqualTo(8080);
        assertThat(c.store().dir()).isEqualTo(Path.of("./data"));
        assertThat(c.store().fsync()).isEqualTo("group");
        assertThat(c.adapters().get("mqtt").port()).isEqualTo(1883);
        assertThat(c.adapters().get("amqp").port()).isEqualTo(5672);
        assertThat(c.adapters().get("kafka").port()).isEqualTo(9092);
        assertThat(c.adapters().get("kafka").section().getString("advertised-host", null)).isEqualTo("localhost");
        assertThat(c.adapters().get("openmessaging").port()).isEqualTo(9876);
        assertThat(c.broker().defaults().dispatch()).isEqualTo(DispatchPolicy.ROUND_ROBIN);
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void anEmptyFileMeansAllDefaults() throws Exception {
        GatewayConfig c = load("", Map.of());
        assertThat(c.admin().port()).isEqualTo(8080);
        assertThat(c.adapters().get("mqtt").enabled()).isFalse();
        assertThat(c.store().type()).isEqualTo("file");
    }

    @Test
    void environmentOverridesScalarKeysByTheDocumentedRule() throws Exception {
        GatewayConfig c = load("admin:\n  port: 9000\n", Map.of(
                "OMNIBUS_ADMIN_PORT", "9100",
                "OMNIBUS_KAFKA_ADVERTISED_HOST", "gw.example",
                "OMNIBUS_BROKER_DEFAULTS_MAX_DELIVERIES", "3",
                "OMNIBUS_STORE_FSYNC", "every-write",
                "OMNIBUS_HOME", "/opt/omnibus",
                "PATH", "/usr/bin"));
        assertThat(c.admin().port()).isEqualTo(9100);
        assertThat(c.adapters().get("kafka").section().getString("advertised-host", null)).isEqualTo("gw.example");
        assertThat(c.broker().defaults().maxDeliveries()).isEqualTo(3);
        assertThat(c.store().fsync()).isEqualTo("every-write");
    }

    @Test
    void unknownOverridesAreReportedNotApplied() throws Exception {
        Path f = dir.resolve("g.yaml");
        Files.writeString(f, "");
        ConfigLoader loader = new ConfigLoader(Map.of("OMNIBUS_ADMIN_PROT", "1"), Map.of());
        loader.load(f, null);
        assertThat(loader.warnings()).containsExactly("OMNIBUS_ADMIN_PROT is ignored: it names no configuration key");
    }

    @Test
    void dataDirOptionOverridesStoreDir() throws Exception {
        Path f = dir.resolve("g.yaml");
        Files.writeString(f, "store:\n  dir: /var/lib/x\n");
        GatewayConfig c = new ConfigLoader(Map.of(), Map.of()).load(f, Path.of("/tmp/d"));
        assertThat(c.store().dir()).isEqualTo(Path.of("/tmp/d"));
    }

    @Test
    void errorsNameTheFileAndTheKey() {
        assertThatThrownBy(() -> load("store:\n  fsync: sometimes\n", Map.of()))
                .isInstanceOf(ConfigFileException.class)
                .hasMessageContaining("g.yaml: store.fsync: expected one of [every-write, group, os], got 'sometimes'");
        assertThatThrownBy(() -> load("admin: 8080\n", Map.of()))
                .hasMessageContaining("admin: expected a mapping of keys, got '8080'");
        assertThatThrownBy(() -> load("line:\n  enabled: true\n  colour: red\n", Map.of()))
                .hasMessageContaining("line.colour: unknown key");
        assertThatThrownBy(() -> load("- a\n- b\n", Map.of()))
                .hasMessageContaining("expected a mapping of keys at the top of the file");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), Map.of()).load(dir.resolve("missing.yaml"), null))
                .hasMessageContaining("missing.yaml: file not found");
    }
}
