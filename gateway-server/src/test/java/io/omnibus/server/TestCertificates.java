package io.omnibus.server;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Certificates for tests, made with openssl: a test CA, a server certificate for 127.0.0.1 and a client one. */
final class TestCertificates {
    private TestCertificates() {
    }

    /**
     * Writes into {@code tls}: {@code ca.pem} (and its key), {@code server.pem} with {@code server.key} (subject
     * alternative name IP 127.0.0.1) and {@code client.pem} with {@code client.key}, all signed by the CA; keys
     * unencrypted PKCS#8.
     */
    static Path make(Path tls) throws Exception {
        Files.createDirectories(tls);
        openssl(tls, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
                "-keyout", "ca.key", "-out", "ca.pem");
        Files.writeString(tls.resolve("server.ext"), "subjectAltName=IP:127.0.0.1\n");
        for (String who : List.of("server", "client")) {
            openssl(tls, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + who, "-keyout", who + ".key",
                    "-out", who + ".csr");
            List<String> sign = new ArrayList<>(List.of("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey",
                    "ca.key", "-CAcreateserial", "-days", "2", "-out", who + ".pem"));
            if (who.equals("server")) {
                sign.addAll(List.of("-extfile", "server.ext"));
            }
            openssl(tls, sign.toArray(String[]::new));
        }
        return tls;
    }

    /** Runs openssl in {@code dir}; fails the test when it fails. */
    private static void openssl(Path in, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(in.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }
}
