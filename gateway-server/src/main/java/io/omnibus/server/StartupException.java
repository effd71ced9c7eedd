package io.omnibus.server;

/** The gateway could not start (a port in use, an adapter that failed); names the part that failed. */
public final class StartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
