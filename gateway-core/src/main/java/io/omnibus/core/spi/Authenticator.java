package io.omnibus.core.spi;

/**
 * Decides who may connect, for every protocol (the {@code users} list of the configuration by default).
 * Called off the event loop: it may block (hashing, a directory lookup).
 */
public interface Authenticator {
    /** Lets everyone in, with or without a username. */
    Authenticator ALLOW_ALL = new Authenticator() {
        @Override
        public boolean authenticate(String username, byte[] password) {
            return true;
        }

        @Override
        public boolean allowsAnonymous() {
            return true;
        }
    };

    boolean authenticate(String username, byte[] password);

    /** Whether a client without a username is accepted. */
    boolean allowsAnonymous();

    /**
     * Whether a username that {@link #authenticate} accepted names a user: false when there are no users to check
     * against (anybody is let in), so the client counts as anonymous, whatever name it gave.
     */
    default boolean knowsUsers() {
        return false;
    }

    /**
     * Whether listeners accept only clients on a loopback address: no users are configured and anonymous
     * access was not switched on explicitly (docs/security.md).
     */
    default boolean loopbackOnly() {
        return false;
    }

    /**
     * A login from {@code from} (null: unknown) failed: how many milliseconds to wait before answering it. Repeated
     * failures from one address wait longer and longer, so guessing passwords from one host is slow. {@code protocol}
     * (the adapter's name, or {@code admin}) counts it in {@code omnibus.authentication.failures}.
     */
    default long loginFailed(java.net.InetAddress from, String protocol) {
        return 0;
    }

    /** A login from {@code from} succeeded: its failures are forgotten. */
    default void loginSucceeded(java.net.InetAddress from) {
    }

    /**
     * The shared secret {@code user} signs requests with (RocketMQ's ACL: the user name is the AccessKey, this is its
     * SecretKey), or null. A protocol that signs with a shared secret needs the secret itself, not a hash.
     */
    default String accessSecret(String user) {
        return null;
    }

    /**
     * Whether a password may travel in clear text (SASL PLAIN, HTTP Basic) from a client that is neither on TLS nor
     * on this machine: only when the configuration says so ({@code allow-plain-without-tls}).
     */
    default boolean plainWithoutTls() {
        return true;
    }

    /** The address of a socket address, or null (for {@link #loginFailed}). */
    static java.net.InetAddress addressOf(java.net.SocketAddress remote) {
        return remote instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
    }

    /**
     * What a SCRAM exchange checks {@code user}'s proof against ({@link Scram#MECHANISMS}), or null: an unknown
     * user, or no verifier for that mechanism. Fast (no hashing): callers may run it on the event loop.
     */
    default Scram.Credential scramCredential(String user, String mechanism) {
        return null;
    }

    /**
     * The SCRAM mechanisms to offer, strongest first: those every user has a verifier for (clients such as Qpid
     * JMS take the strongest offered, so offering one a user lacks would lock that user out). Empty: none.
     */
    default java.util.List<String> scramMechanisms() {
        return java.util.List.of();
    }
}
