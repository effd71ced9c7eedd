package io.omnibus.core.transport;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open connections of each remote address, against a cap ({@code max-connections-per-address}): one count for
 * all of an adapter's listeners (plain, TLS, WebSocket), so one host cannot take all of a protocol's connections.
 * Safe from any event loop: a connection is counted and checked in one step.
 */
public final class AddressCounts {
    private static final Runnable NOTHING = () -> { };

    private final int cap;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    public AddressCounts(int cap) {
        this.cap = cap;
    }

    /**
     * Counts one more connection from {@code address}: null when that would pass the cap (nothing is counted), else
     * the action that uncounts it when the connection ends (run it once). An unknown address is not counted.
     */
    public Runnable open(InetAddress address) {
        if (address == null) {
            return NOTHING;
        }
        boolean[] admitted = new boolean[1];
        open.compute(address, (a, n) -> {
            int now = n == null ? 0 : n;
            admitted[0] = now < cap;
            return admitted[0] ? now + 1 : n;
        });
        if (!admitted[0]) {
            return null;
        }
        return () -> open.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }

    public int cap() {
        return cap;
    }
}
