package io.omnibus.core.transport;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The {@code tls} section of a listener: where its key material is, whether clients must show a certificate,
 * and how a client certificate names its holder. Every adapter reads its listener's section with
 * {@link #read}, so the keys are the same on every protocol (docs/security.md).
 *
 * @param port          the TLS port (the plain {@code port} is separate; it may be {@code off})
 * @param advertisedPort the TLS port clients are told to use where the protocol tells them one (0: the port bound)
 * @param cert          PEM certificate chain, server certificate first (with {@code key})
 * @param key           PEM private key, PKCS#8 (what {@code openssl genpkey} writes)
 * @param keystore      a PKCS#12 keystore instead of {@code cert} and {@code key}
 * @param ca            PEM certificates that client certificates must chain to (mutual TLS); null: none asked
 * @param clientAuth    none, request (a certificate is checked when given) or require
 * @param identity      which part of a client certificate is the client's identity: cn, san or dn
 * @param reloadCheck   how often the files are checked for changes (new connections get the new files); 0: never
 */
public record TlsConfig(int port, int advertisedPort, Path cert, Path key, Path keystore, String keystorePassword,
                        Path ca, String clientAuth, List<String> protocols, String identity, Duration reloadCheck,
                        Duration handshakeTimeout) {
    public static final Set<String> KEYS = Set.of("enabled", "port", "advertised-port", "cert", "key", "keystore",
            "keystore-password", "ca", "client-auth", "protocols", "identity", "reload-check", "handshake-timeout");
    static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** The section's TLS listener, or null when {@code enabled} is not true. */
    public static TlsConfig read(ConfigSection s, int defaultPort) {
        s.requireOnly(KEYS);
        if (!s.getBoolean("enabled", false)) {
            return null;
        }
        Path keystore = file(s, "keystore");
        Path cert = file(s, "cert");
        Path key = file(s, "key");
        if (keystore == null && (cert == null || key == null)) {
            throw new ConfigException(s.keyOf("cert"), "TLS needs 'cert' and 'key' (PEM) or 'keystore' (PKCS#12)");
        }
        if (keystore != null && (cert != null || key != null)) {
            throw new ConfigException(s.keyOf("keystore"), "give either 'keystore' or 'cert' and 'key', not both");
        }
        Path ca = file(s, "ca");
        String clientAuth = s.getChoice("client-auth", ca == null ? "none" : "request", List.of("none", "request", "require"));
        if (!clientAuth.equals("none") && ca == null) {
            throw new ConfigException(s.keyOf("client-auth"), "client certificates need 'ca', the certificates they must chain to");
        }
        List<String> protocols = Arrays.stream(s.getString("protocols", String.join(" ", PROTOCOLS)).split("[\\s,]+"))
                .filter(p -> !p.isEmpty()).toList();
        for (String p : protocols) {
            if (!PROTOCOLS.contains(p)) {
                throw new ConfigException(s.keyOf("protocols"), "supported are " + PROTOCOLS + ", got '" + p + "'");
            }
        }
        return new TlsConfig(s.getPort("port", defaultPort), s.getPort("advertised-port", 0), cert, key, keystore,
                s.getString("keystore-password", ""), ca, clientAuth, protocols,
                s.getChoice("identity", "cn", List.of("cn", "san", "dn")),
                s.getDuration("reload-check", Duration.ofSeconds(30)),
                s.getDuration("handshake-timeout", Duration.ofSeconds(10)));
    }

    private static Path file(ConfigSection s, String key) {
        String name = s.getString(key, null);
        if (name == null || name.isBlank()) {
            return null;
        }
        Path p = Path.of(name);
        if (!Files.isReadable(p)) {
            throw new ConfigException(s.keyOf(key), "cannot read '" + p.toAbsolutePath() + "'");
        }
        return p;
    }
}
