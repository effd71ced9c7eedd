package io.omnibus.core.transport;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open connections of each remote address, against a cap ({@code max-connections-per-address}): one count for
 * all of an adapter's listeners (plain, TLS, WebSocket), so one host cannot take all of a protocol's connections.
 * Safe from any event loop: a connection is counted and checked in one step.
 */
public final class AddressCounts {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AddressCounts.class);
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

    /**
     * Counts {@code ch} against the share of its client's address (the one a PROXY header named, if any) until it
     * closes; false, with the refusal logged under {@code name} (the listener's config key), when none is left.
     */
    public boolean admit(io.netty.channel.Channel ch, String name) {
        InetAddress address = ProxyProtocol.clientAddress(ch) instanceof java.net.InetSocketAddress remote
                ? remote.getAddress() : null;
        Runnable release = open(address);
        if (release == null) {
            LOG.info("{}: refused a connection from {}: {}.max-connections-per-address ({}) are open", name,
                    address.getHostAddress(), name, cap);
            return false;
        }
        releaseAtClose(ch, release);
        return true;
    }

    /** Where a counted channel keeps its release, for a channel that takes its socket over ({@link ParkedChannel}). */
    private static final io.netty.util.AttributeKey<Runnable> RELEASE =
            io.netty.util.AttributeKey.valueOf("omnibus.address-count-release");

    /** {@code ch}'s close uncounts its connection with {@code release} (once). */
    static void releaseAtClose(io.netty.channel.Channel ch, Runnable release) {
        ch.attr(RELEASE).set(release);
        ch.closeFuture().addListener(f -> release.run());
    }

    /** What uncounts {@code ch}'s connection at its close, or null when it is not counted. */
    static Runnable releaseOf(io.netty.channel.Channel ch) {
        return ch.hasAttr(RELEASE) ? ch.attr(RELEASE).get() : null;
    }

    public int cap() {
        return cap;
    }
}
