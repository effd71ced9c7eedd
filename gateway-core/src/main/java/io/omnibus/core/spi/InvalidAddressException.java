package io.omnibus.core.spi;

/** An address or topic filter that breaks the naming rules; the message says which rule and where. */
public final class InvalidAddressException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidAddressException(String message) {
        super(message);
    }
}
