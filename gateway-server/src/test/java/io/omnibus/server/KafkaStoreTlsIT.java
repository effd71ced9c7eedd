package io.omnibus.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka store against a Kafka broker that speaks TLS only (a certificate for 127.0.0.1 from a test CA, the
 * broker's own replication over TLS too): with the CA as its truststore ({@code store.kafka.properties}, PEM) every
 * client the store makes connects and a new node gets the backlog back; without it the gateway stops at start with
 * the handshake's reason.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class KafkaStoreTlsIT {
    @TempDir
    Path dir;

    /** {@code tlsProperties}: more Kafka client properties, one {@code key: value} per line. */
    private Path config(String name, int kafkaPort, int mqttPort, String tlsProperties) throws Exception {
        StringBuilder properties = new StringBuilder("properties:\n  security.protocol: SSL");
        tlsProperties.lines().forEach(l -> properties.append("\n  ").append(l));
        return GatewayYaml.kafkaStore("127.0.0.1:" + kafkaPort, properties.toString()).mqtt(mqttPort)
                .write(dir.resolve(name));
    }

    @Test
    void withTheCaAsTruststoreEveryKafkaClientConnectsOverTlsAndWithoutItTheStartStops() throws Exception {
        Path tls = TestCertificates.make(dir.resolve("tls"));
        Process p12 = new ProcessBuilder("openssl", "pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key",
                "-name", "broker", "-out", "server.p12", "-passout", "pass:broker-secret").directory(tls.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p12.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p12.waitFor()).as(out).isZero();
        int port = RemoteBroker.freePort();
        List<RemoteBroker> kafka = RemoteBroker.kafkaCluster(dir.resolve("kafka"), new int[] {port},
                new int[] {RemoteBroker.freePort()}, Map.of(
                        "listeners", "SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
                        "advertised.listeners", "SSL://127.0.0.1:{port}",
                        "listener.security.protocol.map", "SSL:SSL,CONTROLLER:PLAINTEXT",
                        "inter.broker.listener.name", "SSL",
                        "ssl.keystore.type", "PKCS12",
                        "ssl.keystore.location", tls.resolve("server.p12").toString(),
                        "ssl.keystore.password", "broker-secret",
                        "ssl.key.password", "broker-secret",
                        "ssl.truststore.type", "PEM",
                        "ssl.truststore.location", tls.resolve("ca.pem").toString()));
        try {
            int mqtt = GatewayProcess.freePort();
            try (GatewayProcess untrusting = GatewayProcess.run(Map.of(), "start", "--config",
                    config("untrusting", port, mqtt, "").toString(), "--data-dir", dir.resolve("d1").toString())) {
                assertThat(untrusting.waitForExit(120)).as("exit status; stderr " + untrusting.stderr()).isEqualTo(1);
                assertThat(untrusting.stderr()).contains("omnibus: could not start").contains("SSL handshake failed");
            }
            String trusting = "ssl.truststore.type: PEM\nssl.truststore.location: " + tls.resolve("ca.pem");
            NewNodeBacklog.check(config("trusting", port, mqtt, trusting), mqtt, dir.resolve("data"), "tls", 100);
        } finally {
            for (RemoteBroker k : kafka) {
                k.close();
            }
        }
    }
}
