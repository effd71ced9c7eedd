package io.omnibus.core.transport;

import io.netty.channel.AbstractChannel;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The addresses of an accepted epoll channel, shared with the channel accepted before it where they repeat. Netty's
 * epoll channel keeps its local address (asked of the kernel for each channel) and its peer's (made from the accepted
 * socket's bytes), each an {@link InetSocketAddress} over an {@link InetAddress}: 96 bytes apiece for IPv4 (about 160
 * for IPv6), which an idle connection holds for as long as it is open. The local address is the same for every channel
 * of a listener bound to one address, and the peer's host is the same for every client behind one proxy, load balancer
 * or NAT (and for a bench on loopback). So a listener remembers for each event loop (in an instance of this class)
 * the last local address and peer host it accepted there, and a channel whose own equal them takes the remembered
 * objects instead: the local address whole (96 bytes less), the peer's host under a socket address of its own port
 * (56 bytes less). A channel with other addresses keeps its own, and becomes the one remembered.
 *
 * <p>Netty has no way to hand an accepted epoll channel its addresses ({@code EpollServerSocketChannel} is final and
 * the channel's constructor package-private), so this writes the channel's private address fields, as Netty's own
 * accessors would have cached them, before anything else has read them (the first thing the listener's channel
 * initializer does). If a Netty release renames those fields, channels keep their own addresses and the start-up log
 * says so once.
 */
final class SharedAddresses {
    private static final Logger LOG = LoggerFactory.getLogger(SharedAddresses.class);

    /** Netty's epoll channels' package-private base class (null without Netty's epoll classes). */
    private static final Class<?> EPOLL_CHANNEL;
    /** {@code AbstractEpollChannel}'s local and peer address, and {@code AbstractChannel}'s caches of them. */
    private static final VarHandle LOCAL;
    private static final VarHandle REMOTE;
    private static final VarHandle CACHED_LOCAL;
    private static final VarHandle CACHED_REMOTE;

    static {
        VarHandle[] found = new VarHandle[4];
        Class<?> epollChannel = null;
        try {
            epollChannel = Class.forName("io.netty.channel.epoll.AbstractEpollChannel", false,
                    AbstractChannel.class.getClassLoader());
            MethodHandles.Lookup epoll = MethodHandles.privateLookupIn(epollChannel, MethodHandles.lookup());
            MethodHandles.Lookup channel = MethodHandles.privateLookupIn(AbstractChannel.class, MethodHandles.lookup());
            found[0] = epoll.findVarHandle(epollChannel, "local", java.net.SocketAddress.class);
            found[1] = epoll.findVarHandle(epollChannel, "remote", java.net.SocketAddress.class);
            found[2] = channel.findVarHandle(AbstractChannel.class, "localAddress", java.net.SocketAddress.class);
            found[3] = channel.findVarHandle(AbstractChannel.class, "remoteAddress", java.net.SocketAddress.class);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.info("accepted channels keep addresses of their own (Netty's epoll channel fields not found: {})",
                    e.toString());
            found = new VarHandle[4];
        }
        EPOLL_CHANNEL = found[3] == null ? null : epollChannel;
        LOCAL = found[0];
        REMOTE = found[1];
        CACHED_LOCAL = found[2];
        CACHED_REMOTE = found[3];
    }

    /** What this listener's event loop accepted last. */
    private InetSocketAddress local;
    private InetAddress peer;

    /** For one listener's channels on one event loop; used on that loop's thread only. */
    SharedAddresses() {
    }

    /**
     * Shares {@code ch}'s addresses with the last channel this listener's event loop accepted, where they are equal.
     * Runs on the channel's event loop, before anything reads the channel's addresses; does nothing to other kinds of
     * channel.
     */
    void share(Channel ch) {
        if (EPOLL_CHANNEL == null || !EPOLL_CHANNEL.isInstance(ch)) {
            return;
        }
        if (LOCAL.getVolatile(ch) instanceof InetSocketAddress own) {
            if (own != local && local != null && own.getPort() == local.getPort()
                    && sameHost(own.getAddress(), local.getAddress())) {
                set(ch, LOCAL, CACHED_LOCAL, local);
            } else {
                local = own;
            }
        }
        if (REMOTE.getVolatile(ch) instanceof InetSocketAddress remote && remote.getAddress() != null) {
            InetAddress host = remote.getAddress();
            if (host != peer && sameHost(host, peer)) {
                set(ch, REMOTE, CACHED_REMOTE, new InetSocketAddress(peer, remote.getPort()));
            } else {
                peer = host;
            }
        }
    }

    /**
     * Gives {@code ch} (a channel made on an accepted socket, {@link ParkedChannel}) the address objects the socket's
     * first channel held, which may be shared, instead of the ones it made; where a field cannot be written, it keeps
     * its own (equal) ones.
     */
    static void give(Channel ch, SocketAddress local, SocketAddress remote) {
        if (EPOLL_CHANNEL == null || !EPOLL_CHANNEL.isInstance(ch)) {
            return;
        }
        if (local != null) {
            LOCAL.setVolatile(ch, local);
            CACHED_LOCAL.setVolatile(ch, null);
        }
        if (remote != null) {
            REMOTE.setVolatile(ch, remote);
            CACHED_REMOTE.setVolatile(ch, null);
        }
    }

    /** Equal hosts that print alike: an IPv6 host's scope is part of it, which {@code equals} does not check. */
    private static boolean sameHost(InetAddress host, InetAddress last) {
        if (host == null || !host.equals(last)) {
            return false;
        }
        return !(host instanceof Inet6Address v6) || v6.getScopeId() == ((Inet6Address) last).getScopeId();
    }

    /** The channel's address, and Netty's cache of it if something already filled that. */
    private static void set(Channel ch, VarHandle field, VarHandle cache, InetSocketAddress shared) {
        field.setVolatile(ch, shared);
        if (cache.getVolatile(ch) != null) {
            cache.setVolatile(ch, shared);
        }
    }
}
