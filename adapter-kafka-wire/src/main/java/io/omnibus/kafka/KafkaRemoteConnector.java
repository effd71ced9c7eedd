package io.omnibus.kafka;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.bridge.Remote;
import io.omnibus.core.spi.bridge.RemoteConnector;
import io.omnibus.core.spi.bridge.RemoteSpec;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Bridges to Apache Kafka clusters ({@code kafka://host:port,host:port}) with kafka-clients (docs/bridges.md). */
public final class KafkaRemoteConnector implements RemoteConnector {
    /**
     * @param client   kafka-clients settings every client of this remote gets (servers, TLS, SASL, {@code properties})
     * @param acks     the producer's acks
     * @param group    the consumer group of an inbound bridge
     * @param offsetReset where a new group starts: {@code earliest} or {@code latest}
     */
    record Settings(Map<String, Object> client, String acks, String group, String offsetReset) {
    }

    @Override
    public List<String> schemes() {
        return List.of("kafka", "kafka+ssl");
    }

    @Override
    public Set<String> keys() {
        return Set.of("acks", "group", "offset-reset", "sasl-mechanism", "properties");
    }

    @Override
    public Remote create(Vertx vertx, RemoteSpec spec) {
        return new KafkaRemote(vertx, spec, settings(spec));
    }

    @Override
    public void check(RemoteSpec spec) {
        settings(spec);
    }

    static Settings settings(RemoteSpec spec) {
        ConfigSection s = spec.section();
        Map<String, Object> client = new LinkedHashMap<>();
        client.put("bootstrap.servers", String.join(",", spec.hosts()));
        String mechanism = s.getChoice("sasl-mechanism", "PLAIN", List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"));
        boolean sasl = spec.username() != null;
        client.put("security.protocol", (sasl ? "SASL_" : "") + (spec.tls() ? "SSL" : "PLAINTEXT"));
        if (sasl) {
            String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            client.put("sasl.mechanism", mechanism);
            client.put("sasl.jaas.config", module + " required username=\"" + jaas(spec.username())
                    + "\" password=\"" + jaas(spec.password() == null ? "" : spec.password()) + "\";");
        }
        if (spec.tls()) {
            if (spec.caFile() != null) {
                client.put("ssl.truststore.type", "PEM");
                client.put("ssl.truststore.location", spec.caFile());
            }
            if (spec.certFile() != null) {
                client.put("ssl.keystore.type", "PEM");
                client.put("ssl.keystore.certificate.chain", read(spec.certFile()));
                client.put("ssl.keystore.key", read(spec.keyFile()));
            }
            if (!spec.verifyHost()) {
                client.put("ssl.endpoint.identification.algorithm", "");
            }
        }
        ConfigSection props = s.section("properties");
        for (String key : props.keys()) {
            client.put(key, props.getString(key, null));
        }
        String acks = s.getChoice("acks", "all", List.of("all", "1", "0"));
        return new Settings(Map.copyOf(client), acks, s.getString("group", "omnibus-bridge-" + spec.bridge()),
                s.getChoice("offset-reset", "earliest", List.of("earliest", "latest")));
    }

    private static String jaas(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file));
        } catch (IOException e) {
            throw new ConfigException("remote.tls", "cannot read " + file + ": " + e.getMessage());
        }
    }
}
