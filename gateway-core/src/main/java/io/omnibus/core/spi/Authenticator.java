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
     * Whether listeners accept only clients on a loopback address: no users are configured and anonymous
     * access was not switched on explicitly (docs/security.md).
     */
    default boolean loopbackOnly() {
        return false;
    }
}
