package io.omnibus.core.transport;

import io.omnibus.core.spi.ConfigSection;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.TrustOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Whom a node trusts when it calls another node over HTTPS (a standby passing an admin request on): real handshakes
 * with a Vert.x server that shows the example server certificate (it names 127.0.0.1 and localhost). Linux: a server
 * binds 127.0.0.2, which the certificate does not name.
 */
class PeerTrustTest {
    private static final Path EXAMPLES = Path.of(System.getProperty("omnibus.root", ".."))
            .resolve("config/examples/tls").toAbsolutePath().normalize();
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** A listener's TLS material: {@code cert} with its key, and the example CA as its {@code ca} when asked. */
    private Tls material(String cert, String key, boolean withCa) {
        return material(cert, key, withCa, null);
    }

    /** The same, with {@code client-auth} set when not null. */
    private Tls material(String cert, String key, boolean withCa, String clientAuth) {
        Map<String, Object> keys = new HashMap<>(Map.of("enabled", true, "port", 0,
                "cert", EXAMPLES.resolve(cert).toString(), "key", EXAMPLES.resolve(key).toString()));
        if (withCa) {
            keys.put("ca", EXAMPLES.resolve("ca.pem").toString());
        }
        if (clientAuth != null) {
            keys.put("client-auth", clientAuth);
        }
        return Tls.start(vertx, TlsConfig.read(new ConfigSection("admin.tls", keys), 0), "admin.tls");
    }

    /** An HTTPS server on {@code host} with the example server certificate; its port. */
    private int server(String host) throws Exception {
        Tls tls = material("server.pem", "server-key.pem", false);
        HttpServer s = vertx.createHttpServer(tls.applyTo(new HttpServerOptions()))
                .requestHandler(r -> r.response().end("served"));
        return s.listen(0, host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
    }

    /** GET / at {@code host:port} over HTTPS trusting {@code trust}, checking the host name; the body. */
    private String get(PeerTrust trust, String host, int port) throws Exception {
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(true)
                .setTrustOptions(TrustOptions.wrap(trust)));
        try {
            return client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port).setURI("/"))
                    .compose(r -> r.send()).compose(r -> r.body()).map(Object::toString)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            client.close();
        }
    }

    @Test
    void aNodeTrustsAPeerThatShowsItsOwnCertificateAtAHostTheCertificateNames() throws Exception {
        int port = server("127.0.0.1");
        PeerTrust sameCertificate = PeerTrust.of(material("server.pem", "server-key.pem", false));
        assertThat(get(sameCertificate, "127.0.0.1", port)).isEqualTo("served");
        assertThat(get(sameCertificate, "localhost", port)).isEqualTo("served");
        // the same certificate at an address it does not name: refused
        int elsewhere = server("127.0.0.2");
        assertThatThrownBy(() -> get(sameCertificate, "127.0.0.2", elsewhere)).isInstanceOf(ExecutionException.class)
                .hasRootCauseInstanceOf(java.security.cert.CertificateException.class)
                .rootCause().hasMessageContaining("No subject alternative names matching IP address 127.0.0.2");
    }

    @Test
    void aPeerWhoseCertificateChainsToTheNodesCaIsTrustedOthersAreNot() throws Exception {
        int port = server("127.0.0.1");
        // this node's own certificate is another one (alice's): only its ca, the example CA, makes the peer trusted
        assertThat(get(PeerTrust.of(material("alice.pem", "alice-key.pem", true)), "127.0.0.1", port))
                .isEqualTo("served");
        assertThatThrownBy(() -> get(PeerTrust.of(material("alice.pem", "alice-key.pem", false)), "127.0.0.1", port))
                .isInstanceOf(ExecutionException.class).hasRootCauseInstanceOf(java.security.GeneralSecurityException.class)
                .rootCause().hasMessageContaining("unable to find valid certification path");
        assertThat(material("alice.pem", "alice-key.pem", true).heldCertificates()).hasSize(2); // alice's, the CA
        // a cluster CA as ca without asking admin clients for certificates (docs/cluster.md): trusted all the same
        assertThat(get(PeerTrust.of(material("alice.pem", "alice-key.pem", true, "none")), "127.0.0.1", port))
                .isEqualTo("served");
    }

    @Test
    void whenTheNodesOwnFilesChangeItTrustsWhatTheNewOnesHold(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        int port = server("127.0.0.1");
        Path cert = dir.resolve("own.pem");
        Path key = dir.resolve("own.key");
        java.nio.file.Files.copy(EXAMPLES.resolve("alice.pem"), cert);
        java.nio.file.Files.copy(EXAMPLES.resolve("alice-key.pem"), key);
        Tls own = Tls.start(vertx, TlsConfig.read(new ConfigSection("admin.tls", Map.of("enabled", true, "port", 0,
                "cert", cert.toString(), "key", key.toString(), "reload-check", "100ms")), 0), "admin.tls");
        PeerTrust trust = PeerTrust.of(own);
        assertThatThrownBy(() -> get(trust, "127.0.0.1", port)).isInstanceOf(ExecutionException.class);
        // the node's certificate replaced by the one its peers show: the same PeerTrust trusts them once reloaded
        java.nio.file.Files.copy(EXAMPLES.resolve("server.pem"), cert, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        java.nio.file.Files.copy(EXAMPLES.resolve("server-key.pem"), key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> "served".equals(get(trust, "127.0.0.1", port)));
        own.close();
    }

    @Test
    void itChecksServersOnly() throws Exception {
        PeerTrust trust = PeerTrust.of(material("server.pem", "server-key.pem", true));
        assertThatThrownBy(() -> trust.checkClientTrusted(material("alice.pem", "alice-key.pem", false)
                .heldCertificates().toArray(java.security.cert.X509Certificate[]::new), "RSA"))
                .isInstanceOf(java.security.cert.CertificateException.class);
    }
}
