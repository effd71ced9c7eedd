package io.omnibus.mqtt;

/** Decides who may connect. Called off the event loop: it may block (hashing, a directory lookup). */
public interface Authenticator {
    boolean authenticate(String username, byte[] password);

    /** Whether a client without a username is accepted. */
    boolean allowsAnonymous();
}
