package io.omnibus.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * ops/grafana/omnibus.json and ops/prometheus/alerts.yaml query only metrics the gateway exports: every
 * {@code omnibus_*}, {@code jvm_*} and {@code process_*} name they use is in a running gateway's {@code /metrics},
 * once it has had traffic, a subscription and a bridge.
 */
@Timeout(120)
class OpsMetricsIT {
    private static final Pattern METRIC = Pattern.compile("\\b((?:omnibus|jvm|process)_[a-z0-9_]+)");
    @TempDir
    static Path dir;
    private static Gateway gateway;
    private static final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        // a bridge to a remote that is not there: its meters exist (and show it failing to connect)
        gateway = ShippedGateway.startWith(dir.resolve("data"), """
                bridges:
                  - name: to-nowhere
                    direction: out
                    local: "plant/#"
                    remote:
                      url: mqtt://127.0.0.1:1
                """);
        MqttClient subscriber = new MqttClient("tcp://127.0.0.1:" + gateway.port("mqtt"), "ops-dashboard", new MemoryPersistence());
        CountDownLatch received = new CountDownLatch(20);
        subscriber.setCallback(PahoCallback.onMessage((topic, message) -> received.countDown()));
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(600L);
        subscriber.connect(o);
        clients.add(subscriber::close);
        clients.add(subscriber::disconnect);
        subscriber.subscribe("plant/#", 1);
        MqttClient publisher = ShippedGateway.mqtt(gateway, "ops-press", clients);
        for (int i = 0; i < 20; i++) {
            publisher.publish("plant/press", ("reading " + i).getBytes(StandardCharsets.UTF_8), 1, false);
        }
        assertThat(received.await(30, TimeUnit.SECONDS)).isTrue();
        System.gc(); // the JVM's GC pause meter appears at the first collection
    }

    @AfterAll
    static void stop() throws Exception {
        ShippedGateway.stop(gateway, clients);
    }

    private static Set<String> exported() throws Exception {
        String text = new AdminHttp(gateway.adminPort()).send("GET", "/metrics").body();
        Set<String> names = new TreeSet<>();
        for (String line : text.split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }

    private static Set<String> queried(Path file) throws Exception {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(Files.readString(file));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void everyMetricTheDashboardAndTheAlertsQueryIsExported() throws Exception {
        Set<String> used = new TreeSet<>(queried(GatewayProcess.ROOT.resolve("ops/grafana/omnibus.json")));
        used.addAll(queried(GatewayProcess.ROOT.resolve("ops/prometheus/alerts.yaml")));
        assertThat(used).contains("omnibus_publish_latency_seconds_bucket", "omnibus_store_fsync_seconds_bucket",
                "omnibus_subscription_lag", "omnibus_bridge_connected", "omnibus_authentication_failures_total");
        // the subscription's lag gauge is chosen every few seconds: wait for the scrape that has it
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(exported()).containsAll(used));
    }

    /** The value of the first sample of {@code name} whose labels contain {@code labels}. */
    private static double sample(String name, String labels) throws Exception {
        for (String line : new AdminHttp(gateway.adminPort()).send("GET", "/metrics").body().split("\n")) {
            if (line.startsWith(name + "{") && line.contains(labels) || line.startsWith(name + " ") && labels.isEmpty()) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }

    @Test
    void theLatencyHistogramsCountWhatWasPublishedAndDelivered() throws Exception {
        // 20 QoS 1 publishes stored, 20 first deliveries to the subscriber, fsyncs of the file store
        assertThat(sample("omnibus_publish_latency_seconds_count", "protocol=\"mqtt\"")).isGreaterThanOrEqualTo(20);
        assertThat(sample("omnibus_delivery_latency_seconds_count", "")).isGreaterThanOrEqualTo(20);
        assertThat(sample("omnibus_store_fsync_seconds_count", "")).isPositive();
        assertThat(sample("omnibus_store_appended_bytes_total", "")).isPositive();
        assertThat(sample("omnibus_store_disk_total_bytes", "")).isPositive();
    }

    @Test
    void theDashboardAndTheAlertsAreWellFormed() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(GatewayProcess.ROOT.resolve("ops/grafana/omnibus.json").toFile());
        assertThat(dashboard.path("panels").size()).isGreaterThan(10);
        JsonNode alerts = new ObjectMapper(new YAMLFactory()).readTree(GatewayProcess.ROOT.resolve("ops/prometheus/alerts.yaml").toFile());
        List<String> names = new ArrayList<>();
        for (JsonNode group : alerts.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                assertThat(rule.path("expr").asText()).as(rule.path("alert").asText()).isNotBlank();
                assertThat(rule.path("annotations").path("summary").asText()).isNotBlank();
                names.add(rule.path("alert").asText());
            }
        }
        assertThat(names).contains("OmnibusSubscriptionLagGrowing", "OmnibusDiskNearlyFull", "OmnibusFsyncSlow",
                "OmnibusBridgeFailing", "OmnibusAuthenticationFailures");
    }
}
