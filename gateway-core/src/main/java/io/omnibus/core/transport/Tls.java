package io.omnibus.core.transport;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.AttributeKey;
import io.omnibus.core.spi.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.TCPSSLOptions;
import io.vertx.core.net.TrustOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One TLS listener's key material, shared by its connections, and the rules for its client certificates. The
 * key and trust managers delegate to what the files held when last read: a timer checks the files every
 * {@link TlsConfig#reloadCheck()}, and new handshakes use new files at once (a bad file is logged and the old
 * material kept). Netty listeners get an {@link SslHandler} per channel; Vert.x HTTP servers get options
 * wrapping the same managers.
 */
public final class Tls {
    private static final Logger LOG = LoggerFactory.getLogger(Tls.class);
    static final AttributeKey<Tls> ATTRIBUTE = AttributeKey.valueOf("omnibus.tls");

    private final TlsConfig config;
    private final String name;
    private final DelegatingKeyManager keys = new DelegatingKeyManager();
    private final DelegatingTrustManager trust;
    private final SslContext netty;
    private volatile String stamp;
    /** The certificates the material last loaded holds: the listener's own chains, then its {@code ca}. */
    private volatile List<X509Certificate> held = List.of();
    private Vertx vertx;
    private long timer = -1;

    private Tls(TlsConfig config, String name) {
        this.config = config;
        this.name = name;
        this.trust = config.ca() == null ? null : new DelegatingTrustManager();
        load();
        try {
            SslContextBuilder b = SslContextBuilder.forServer(keys).sslProvider(SslProvider.JDK)
                    .protocols(config.protocols())
                    .clientAuth(switch (config.clientAuth()) {
                        case "require" -> ClientAuth.REQUIRE;
                        case "request" -> ClientAuth.OPTIONAL;
                        default -> ClientAuth.NONE;
                    });
            if (trust != null) {
                b.trustManager(trust);
            }
            netty = b.build();
        } catch (IOException e) {
            throw new ConfigException(name, "TLS setup failed: " + e.getMessage());
        }
    }

    /** Reads the files (failing with the listener's key in the message) and starts checking them for changes. */
    public static Tls start(Vertx vertx, TlsConfig config, String name) {
        Tls tls = new Tls(config, name);
        tls.vertx = vertx;
        long every = config.reloadCheck().toMillis();
        if (every > 0) {
            tls.timer = vertx.setPeriodic(every, t -> vertx.executeBlocking(() -> {
                tls.reloadIfChanged();
                return null;
            }, false));
        }
        return tls;
    }

    public TlsConfig config() {
        return config;
    }

    public void close() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    /**
     * The certificates this listener's material holds, as last loaded: its own certificate chains, then the
     * certificates of its {@code ca}. What {@link PeerTrust} trusts in another node of the cluster.
     */
    public List<X509Certificate> heldCertificates() {
        return held;
    }

    /** This listener's key material, for a client of this node's to show (a node calling another node). */
    public KeyCertOptions keyCertOptions() {
        return KeyCertOptions.wrap(keys);
    }

    /** A handler for one accepted channel, first in its pipeline; the channel remembers this listener. */
    public SslHandler newHandler(Channel ch, ByteBufAllocator alloc) {
        ch.attr(ATTRIBUTE).set(this);
        SslHandler h = netty.newHandler(alloc);
        h.setHandshakeTimeout(config.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        return h;
    }

    /** Sets a Vert.x server's TLS options to this listener's material and rules. */
    public <O extends TCPSSLOptions> O applyTo(O options) {
        options.setSsl(true).setKeyCertOptions(KeyCertOptions.wrap(keys));
        if (trust != null) {
            options.setTrustOptions(TrustOptions.wrap(trust));
        }
        options.setEnabledSecureTransportProtocols(new java.util.LinkedHashSet<>(config.protocols()));
        options.setSslHandshakeTimeout(config.handshakeTimeout().toMillis()).setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
        if (options instanceof io.vertx.core.net.NetServerOptions server) {
            server.setClientAuth(switch (config.clientAuth()) {
                case "require" -> io.vertx.core.http.ClientAuth.REQUIRED;
                case "request" -> io.vertx.core.http.ClientAuth.REQUEST;
                default -> io.vertx.core.http.ClientAuth.NONE;
            });
        }
        return options;
    }

    /** Whether {@code ch} came in on a TLS listener. */
    public static boolean secure(Channel ch) {
        return ch.hasAttr(ATTRIBUTE) && ch.attr(ATTRIBUTE).get() != null;
    }

    /**
     * The identity the client certificate of {@code ch} gives under its listener's rule, or null: a plain
     * channel, no certificate shown, or a certificate without the part the rule takes. The certificate has
     * been verified against the listener's {@code ca} in the handshake.
     */
    public static String peerIdentity(Channel ch) {
        Tls tls = ch.hasAttr(ATTRIBUTE) ? ch.attr(ATTRIBUTE).get() : null;
        SslHandler h = ch.pipeline().get(SslHandler.class);
        return tls == null || h == null ? null : tls.identity(h.engine().getSession());
    }

    /** The identity a verified client certificate of {@code session} gives, or null. */
    public String identity(SSLSession session) {
        if (session == null || trust == null) {
            return null;
        }
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
            return null;
        }
        return switch (config.identity()) {
            case "dn" -> cert.getSubjectX500Principal().getName();
            case "san" -> san(cert);
            default -> commonName(cert);
        };
    }

    private static String commonName(X509Certificate cert) {
        try {
            List<Rdn> rdns = new LdapName(cert.getSubjectX500Principal().getName()).getRdns();
            for (int i = rdns.size() - 1; i >= 0; i--) { // the most specific CN
                if (rdns.get(i).getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdns.get(i).getValue());
                }
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }

    /** The first e-mail or DNS subject alternative name. */
    private static String san(X509Certificate cert) {
        try {
            Collection<List<?>> names = cert.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> n : names) {
                    int type = (Integer) n.get(0);
                    if (type == 1 || type == 2) {
                        return String.valueOf(n.get(1));
                    }
                }
            }
        } catch (CertificateException e) {
            return null;
        }
        return null;
    }

    // ---- loading -------------------------------------------------------------------------------------------------

    private void reloadIfChanged() {
        String now = stampOfFiles();
        if (now.equals(stamp)) {
            return;
        }
        try {
            load();
            LOG.info("{}: TLS files changed; new connections use them", name);
        } catch (ConfigException e) {
            stamp = now; // not again until they change again
            LOG.error("{}: TLS files changed but cannot be used, keeping the old ones: {}", name, e.getMessage());
        }
    }

    private String stampOfFiles() {
        StringBuilder b = new StringBuilder();
        for (Path p : new Path[]{config.cert(), config.key(), config.keystore(), config.ca()}) {
            if (p != null) {
                try {
                    b.append(Files.getLastModifiedTime(p).toMillis()).append('/').append(Files.size(p)).append(';');
                } catch (IOException e) {
                    b.append("missing;");
                }
            }
        }
        return b.toString();
    }

    private void load() {
        String now = stampOfFiles();
        try {
            KeyStore ks;
            char[] password = config.keystorePassword().toCharArray();
            if (config.keystore() != null) {
                ks = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(config.keystore())) {
                    ks.load(in, password);
                }
            } else {
                List<Certificate> chain = certificates(config.cert());
                if (chain.isEmpty()) {
                    throw new ConfigException(name + ".cert", "no certificate in " + config.cert());
                }
                ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("server", privateKey(config.key()), password, chain.toArray(Certificate[]::new));
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            X509ExtendedKeyManager km = (X509ExtendedKeyManager) kmf.getKeyManagers()[0];
            List<Certificate> ca = config.ca() == null ? List.of() : certificates(config.ca());
            X509ExtendedTrustManager tm = null;
            if (trust != null) {
                if (ca.isEmpty()) {
                    throw new ConfigException(name + ".ca", "no certificate in " + config.ca());
                }
                tm = trustManagerOf(ca);
            }
            List<Certificate> certs = new ArrayList<>();
            for (String alias : java.util.Collections.list(ks.aliases())) {
                Certificate[] chain = ks.isCertificateEntry(alias) ? new Certificate[] {ks.getCertificate(alias)}
                        : ks.getCertificateChain(alias); // a keystore's CA entries too
                certs.addAll(List.of(chain == null ? new Certificate[0] : chain));
            }
            certs.addAll(ca);
            keys.current = km;
            if (trust != null) {
                trust.current = tm;
            }
            held = certs.stream().filter(c -> c instanceof X509Certificate).map(c -> (X509Certificate) c).toList();
            stamp = now;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException(name, "cannot load TLS key material: " + e.getMessage());
        }
    }

    /** A trust manager that trusts {@code anchors} and nothing else (a listener's {@code ca}, a node's peers). */
    static X509ExtendedTrustManager trustManagerOf(java.util.Collection<? extends Certificate> anchors)
            throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        int i = 0;
        for (Certificate c : anchors) {
            store.setCertificateEntry("anchor-" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        return (X509ExtendedTrustManager) tmf.getTrustManagers()[0];
    }

    private static List<Certificate> certificates(Path pem) throws IOException, CertificateException {
        try (InputStream in = Files.newInputStream(pem)) {
            return new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
    }

    private PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem);
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < 0) {
            throw new ConfigException(name + ".key", pem + " holds no unencrypted PKCS#8 key (-----BEGIN PRIVATE KEY-----); "
                    + "convert one with: openssl pkcs8 -topk8 -nocrypt -in old.pem -out key.pem");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // the next algorithm
            }
        }
        throw new ConfigException(name + ".key", pem + ": not an RSA, EC or EdDSA key");
    }

    /** Hands every call to the managers last loaded. */
    private static final class DelegatingKeyManager extends X509ExtendedKeyManager {
        volatile X509ExtendedKeyManager current;

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return current.getClientAliases(keyType, issuers);
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return current.chooseClientAlias(keyType, issuers, socket);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return current.getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return current.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return current.chooseEngineServerAlias(keyType, issuers, engine);
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return current.chooseEngineClientAlias(keyType, issuers, engine);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return current.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return current.getPrivateKey(alias);
        }
    }

    private static final class DelegatingTrustManager extends X509ExtendedTrustManager {
        volatile X509ExtendedTrustManager current;

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            current.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            current.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            current.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            current.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            current.checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            current.checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return Objects.requireNonNullElse(current.getAcceptedIssuers(), new X509Certificate[0]);
        }
    }
}
