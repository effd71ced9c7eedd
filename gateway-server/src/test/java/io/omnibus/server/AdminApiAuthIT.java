package io.omnibus.server;

import io.omnibus.core.config.StaticUsers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin API under access rules: who may read, who may act, with passwords or bearer tokens. */
class AdminApiAuthIT {
    private Gateway gateway;
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private int status(String method, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readersReadOperatorsActAndStrangersNeither(@TempDir Path dir) throws Exception {
        String token = "monitor-token-0123456789";
        Path config = dir.resolve("gateway.yaml");
        Files.writeString(config, """
                admin: {host: 127.0.0.1, port: 0, tokens: [{user: monitor, token-sha256: "%s"}]}
                users:
                  - {username: ops, password-hash: "%s"}
                  - {username: dev, password-hash: "%s"}
                acl:
                  - {users: [monitor, dev], admin: read}
                  - {users: [ops], admin: operate}
                """.formatted(AdminServer.sha256(token), StaticUsers.hash("ops-pw", 1000), StaticUsers.hash("dev-pw", 1000)));
        var factories = Adapters.discover(getClass().getClassLoader());
        gateway = Gateway.start(new ConfigLoader(Map.of(), factories).load(config, dir.resolve("data")), factories)
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(status("GET", "/api/connections", null)).isEqualTo(401);
        assertThat(status("GET", "/api/connections", "Bearer wrong-token")).isEqualTo(401);
        assertThat(status("GET", "/api/connections", "Bearer " + token)).isEqualTo(200);
        assertThat(status("GET", "/api/bridges", basic("dev", "dev-pw"))).isEqualTo(200);
        assertThat(status("GET", "/api/bridges", basic("dev", "wrong"))).isEqualTo(401);
        // readers may not act
        assertThat(status("POST", "/api/bridges/out/pause", "Bearer " + token)).isEqualTo(403);
        assertThat(status("POST", "/api/bridges/out/pause", basic("dev", "dev-pw"))).isEqualTo(403);
        // an operator gets past the rules: to the action's own answer (there is no such bridge)
        assertThat(status("POST", "/api/bridges/out/pause", basic("ops", "ops-pw"))).isEqualTo(404);
        assertThat(status("GET", "/health", null)).isEqualTo(200); // probes need no credentials
    }
}
