package io.omnibus.core.transport;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Whom a node trusts when it calls another node of its cluster over TLS (a standby passing an admin request on to the
 * serving node): a server certificate is accepted when the JVM's trust store accepts it, or when it chains to a
 * certificate this node's own listener holds ({@link Tls#heldCertificates()}: its certificate chain and its
 * {@code ca}). Nodes that share one certificate, or whose certificates come from one CA in their chains or their
 * {@code ca}, trust each other with no more configuration. The host name is checked as well (the caller's client
 * names the endpoint identification algorithm, HTTPS), so a certificate must name the host the node is reached at.
 * The certificates held are read again when the listener reloads its files.
 */
public final class PeerTrust extends X509ExtendedTrustManager {
    private final Tls own;
    /** The certificates {@link #anyOf} was made with: when the listener's files change, it is made again. */
    private volatile List<X509Certificate> madeWith;
    private volatile List<X509ExtendedTrustManager> anyOf;

    private PeerTrust(Tls own) {
        this.own = own;
    }

    /** The JVM's trust store, and the certificates {@code own} holds (null: this node has no TLS listener of that kind). */
    public static PeerTrust of(Tls own) throws GeneralSecurityException {
        PeerTrust t = new PeerTrust(own);
        List<X509Certificate> held = own == null ? List.of() : own.heldCertificates();
        t.anyOf = managers(held);
        t.madeWith = held;
        return t;
    }

    /** The managers for the certificates {@code own} holds now (it reloads its files when they change). */
    private List<X509ExtendedTrustManager> current() throws CertificateException {
        List<X509Certificate> now = own == null ? List.of() : own.heldCertificates();
        if (now != madeWith) {
            try {
                anyOf = managers(now);
                madeWith = now;
            } catch (GeneralSecurityException e) {
                throw new CertificateException("cannot trust the listener's certificates as reloaded", e);
            }
        }
        return anyOf;
    }

    private static List<X509ExtendedTrustManager> managers(List<X509Certificate> certificates) throws GeneralSecurityException {
        List<X509ExtendedTrustManager> managers = new ArrayList<>();
        managers.add(managerOf(null));
        if (!certificates.isEmpty()) {
            KeyStore held;
            try {
                held = KeyStore.getInstance("PKCS12");
                held.load(null, null);
            } catch (java.io.IOException e) {
                throw new GeneralSecurityException(e);
            }
            int i = 0;
            for (X509Certificate c : certificates) {
                held.setCertificateEntry("held-" + i++, c);
            }
            managers.add(managerOf(held));
        }
        return List.copyOf(managers);
    }

    private static X509ExtendedTrustManager managerOf(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        for (javax.net.ssl.TrustManager m : f.getTrustManagers()) {
            if (m instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }

    /**
     * Passes when one of the managers passes; else fails with the last one's reason (the held certificates', where
     * there are any: more telling than the JVM's store), the others' suppressed.
     */
    private void check(Check check) throws CertificateException {
        CertificateException last = null;
        for (X509ExtendedTrustManager m : current()) {
            try {
                check.on(m);
                return;
            } catch (CertificateException e) {
                if (last != null) {
                    e.addSuppressed(last);
                }
                last = e;
            }
        }
        throw last;
    }

    private interface Check {
        void on(X509ExtendedTrustManager m) throws CertificateException;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(m -> m.checkServerTrusted(chain, authType, engine));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(m -> m.checkServerTrusted(chain, authType, socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(m -> m.checkServerTrusted(chain, authType));
    }

    /** For calls from this node only: no client is checked with it. */
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("a node's trust in its peers checks servers, not clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("a node's trust in its peers checks servers, not clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a node's trust in its peers checks servers, not clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        List<X509Certificate> all = new ArrayList<>();
        for (X509ExtendedTrustManager m : anyOf) { // as last made: this returns what it can, it does not throw
            all.addAll(List.of(m.getAcceptedIssuers()));
        }
        return all.toArray(X509Certificate[]::new);
    }
}
