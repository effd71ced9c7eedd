package io.omnibus.core.spi.bridge;

import io.omnibus.core.spi.ConfigSection;

import java.net.URI;
import java.util.List;

/**
 * A bridge's remote, as configured (docs/bridges.md).
 *
 * @param bridge   the bridge's name (client ids, consumer groups and thread names are made from it)
 * @param url      the remote's URL; for Kafka, {@code kafka://host:port,host:port}
 * @param hosts    {@code host:port} of each server the URL names (one, except for Kafka)
 * @param username null for none
 * @param password null for none
 * @param tls      whether the scheme is a TLS one ({@code amqps}, {@code mqtts}, {@code wss}) or {@code tls.enabled}
 * @param caFile   PEM file of the certificate authorities to trust; null: the JVM's
 * @param certFile PEM client certificate (mutual TLS); null: none
 * @param keyFile  PEM private key of {@code certFile}
 * @param verifyHost whether the server's certificate must name the host
 * @param inFlight messages sent and not yet confirmed (out), or received and not yet stored (in), at most
 * @param section  the whole {@code remote} section, for the connector's own keys
 */
public record RemoteSpec(String bridge, URI url, List<String> hosts, String username, String password,
                         boolean tls, String caFile, String certFile, String keyFile, boolean verifyHost, int inFlight,
                         ConfigSection section) {
    public String scheme() {
        return url.getScheme();
    }

    /** The header a dead letter's reason is in (as the broker's own dead letters have it). */
    public static final String DEAD_LETTER_REASON = "omnibus.dead-letter.reason";

    /**
     * Where an inbound message goes whose remote name is no valid address here ({@code $dlq/bridge/NAME}): stored
     * and acknowledged there, so that it does not come back forever, with {@link #deadLettered} telling why.
     */
    public io.omnibus.core.spi.Address deadLetterAddress() {
        return io.omnibus.core.spi.Address.of("$dlq/bridge/" + bridge);
    }

    /** The address a remote name arrives under: {@code local}'s answer, or {@link #deadLetterAddress()} when it fails. */
    public io.omnibus.core.spi.Address arrival(String remoteName, java.util.function.Function<String, io.omnibus.core.spi.Address> local) {
        try {
            return local.apply(remoteName);
        } catch (RuntimeException e) {
            return deadLetterAddress();
        }
    }

    /** The envelope of a message that arrived under {@link #deadLetterAddress()}, with the reason in its headers. */
    public io.omnibus.core.spi.Envelope deadLettered(io.omnibus.core.spi.Envelope e, String remoteName) {
        if (!e.address().equals(deadLetterAddress())) {
            return e;
        }
        return e.toBuilder().header(DEAD_LETTER_REASON, "bridge " + bridge + ": the remote name '" + remoteName
                + "' is no valid address here").build();
    }

    /** The first server's host. */
    public String host() {
        String h = hosts.get(0);
        return h.substring(0, h.lastIndexOf(':'));
    }

    /** The first server's port. */
    public int port() {
        String h = hosts.get(0);
        return Integer.parseInt(h.substring(h.lastIndexOf(':') + 1));
    }

    /** Sets a Vert.x client's TLS as the spec says (nothing when {@link #tls} is off). */
    public void applyTls(io.vertx.core.net.NetClientOptions options) {
        if (!tls) {
            return;
        }
        options.setSsl(true);
        if (caFile != null) {
            options.setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(caFile));
        }
        if (certFile != null) {
            options.setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions().setCertPath(certFile).setKeyPath(keyFile));
        }
        options.setHostnameVerificationAlgorithm(verifyHost ? "HTTPS" : "");
    }
}
