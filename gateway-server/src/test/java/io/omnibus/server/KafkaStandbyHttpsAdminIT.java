package io.omnibus.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A standby's admin API answers for the cluster when the nodes' admin APIs speak HTTPS only, with users: two gateway
 * nodes on one Kafka store, each with the example server certificate and no plain HTTP port. The standby checks the
 * caller, then passes the request on over HTTPS, credentials included, checking the serving node's certificate (it
 * holds the same one) and its host name; the serving node checks the caller again and answers.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class KafkaStandbyHttpsAdminIT {
    @TempDir
    Path dir;

    private final HttpClient http;

    KafkaStandbyHttpsAdminIT() throws Exception {
        http = HttpClient.newBuilder().sslContext(SecureExampleIT.ssl(false)).connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** The node's admin API: HTTPS only, on the port its plain one would have had; users and the admin's rule. */
    private static void httpsOnly(ClusterNode n) throws Exception {
        String yaml = Files.readString(n.config());
        String plain = "admin:\n  host: 127.0.0.1\n  port: " + n.admin() + "\n";
        assertThat(yaml).contains(plain);
        Path tls = SecureExampleIT.TLS;
        String secure = String.join("\n", "admin:", "  host: 127.0.0.1", "  port: off", "  tls:", "    enabled: true",
                "    port: " + n.admin(), "    cert: " + tls.resolve("server.pem"), "    key: " + tls.resolve("server-key.pem"),
                "users:", "  - username: admin", "    password-hash: [\"" + ADMIN_HASH + "\"]",
                "acl:", "  - users: [admin]", "    admin: operate", "");
        Files.writeString(n.config(), yaml.replace(plain, secure));
    }

    /** admin-secret, as config/examples/secure.yaml has it. */
    private static final String ADMIN_HASH = "scram-sha-256$600000$8L0BHPsSe8JL+bq0zPpbKA==$sAPUzkKHbOhXfAYgLC3dEfrtGt3Wyb0WAq4Y2uy7xfs=$DHPZ3nhJqWsUAybe1QEYdfqBkWjg5dlixIUPiXAWeas=";

    private HttpResponse<String> send(ClusterNode n, String method, String path, String password) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + n.admin() + path))
                .timeout(Duration.ofSeconds(30)).method(method, HttpRequest.BodyPublishers.noBody());
        if (password != null) {
            b.header("Authorization", SecureExampleIT.basic("admin", password));
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aStandbyPassesAdminRequestsOnOverHttpsWithTheCallersCredentials() throws Exception {
        RemoteBroker kafka = RemoteBroker.kafka(dir.resolve("kafka"), RemoteBroker.freePort(), RemoteBroker.freePort());
        try {
            ClusterNode a = ClusterNode.make(dir, "node-a", "127.0.0.1:" + kafka.port, "replication-factor: 1");
            ClusterNode b = ClusterNode.make(dir, "node-b", "127.0.0.1:" + kafka.port, "replication-factor: 1");
            httpsOnly(a);
            httpsOnly(b);
            try (GatewayProcess gwA = a.run()) {
                gwA.awaitReady();
                try (GatewayProcess gwB = b.run()) {
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> "standby".equals(
                            new JsonObject(send(b, "GET", "/health", null).body()).getJsonObject("store").getString("role")));
                    // the first request may come before the standby learnt where the active node listens (503 then)
                    await().atMost(Duration.ofSeconds(30)).until(() -> send(b, "GET", "/api/connections", "admin-secret")
                            .statusCode() == 200);
                    HttpResponse<String> listed = send(b, "GET", "/api/connections", "admin-secret");
                    assertThat(listed.headers().firstValue(AdminForwarding.SERVED_BY)).hasValue("node-a");
                    assertThat(new JsonArray(listed.body())).isNotNull();
                    HttpResponse<String> gone = send(b, "DELETE", "/api/topics/no-such", "admin-secret");
                    assertThat(gone.statusCode()).as(gone.body()).isEqualTo(404); // an action, answered by node-a
                    assertThat(gone.headers().firstValue(AdminForwarding.SERVED_BY)).hasValue("node-a");
                    // the standby checks the caller itself first: nothing goes on without valid credentials
                    HttpResponse<String> anonymous = send(b, "GET", "/api/connections", null);
                    assertThat(anonymous.statusCode()).isEqualTo(401);
                    assertThat(anonymous.headers().firstValue(AdminForwarding.SERVED_BY)).isEmpty();
                    assertThat(send(b, "GET", "/api/connections", "wrong").statusCode()).isEqualTo(401);
                    assertThat(gwB.out).noneMatch(l -> l.startsWith("omnibus: ready"));
                }
            }
        } finally {
            kafka.close();
        }
    }
}
