package io.omnibus.core.transport;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * Whom a node trusts when it calls another node of its cluster over TLS (a standby passing an admin request on to the
 * serving node): a server certificate that chains to a certificate this node's own listener holds
 * ({@link Tls#heldCertificates()}: its certificate chain and its {@code ca}), nothing else; not the JVM's trust store,
 * whose public CAs would let any host with a public certificate pass. Nodes that share one certificate, or whose
 * certificates come from one CA in their chains or their {@code ca}, trust each other with no more configuration. The
 * host name is checked as well (the caller's client names the endpoint identification algorithm, HTTPS), so a
 * certificate must name the host the node is reached at. The certificates held are read again when the listener
 * reloads its files.
 */
public final class PeerTrust extends X509ExtendedTrustManager {
    private final Tls own;
    /** The certificates {@link #trust} was made with: when the listener's files change, it is made again. */
    private volatile List<X509Certificate> madeWith;
    private volatile X509ExtendedTrustManager trust;

    private PeerTrust(Tls own) {
        this.own = own;
    }

    /** Trust in the certificates {@code own}, this node's listener of the kind called, holds. */
    public static PeerTrust of(Tls own) throws GeneralSecurityException {
        PeerTrust t = new PeerTrust(Objects.requireNonNull(own, "own"));
        List<X509Certificate> held = own.heldCertificates();
        t.trust = Tls.trustManagerOf(held);
        t.madeWith = held;
        return t;
    }

    /** The manager for the certificates the listener holds now; the one before if it cannot be made (never seen). */
    private X509ExtendedTrustManager current() {
        List<X509Certificate> now = own.heldCertificates();
        if (now != madeWith) {
            try {
                trust = Tls.trustManagerOf(now);
            } catch (GeneralSecurityException e) {
                // kept: the listener keeps its old material when new files cannot be used, and so does its trust
            }
            madeWith = now;
        }
        return trust;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        current().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        current().checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        current().checkServerTrusted(chain, authType);
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
        return trust.getAcceptedIssuers();
    }
}
