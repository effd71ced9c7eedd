package io.omnibus.core.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * An idle connection's socket, kept without its Netty channel. An epoll channel costs about a kilobyte of heap
 * whether it reads or not (the channel, its configuration, its pipeline with its head, tail and handler contexts, its
 * outbound buffer, its promises, its id, its registration); a device that sends a packet a minute spends nearly all
 * its time holding that for nothing. Parked, the socket is registered with the same event loop on its own (this
 * object, its descriptor and the registration: about 150 bytes) for its first readable byte, its peer's close or an
 * error; then, or when the server has something to write or closes it, it is {@link #unpark unparked}: a new channel on
 * the same socket, with the listener's settings and the owner's handler, registered on the same event loop. The
 * client sees nothing of it: its TCP connection is the one it opened.
 *
 * <p>Public Netty API only ({@link IoEventLoop#register(io.netty.channel.IoHandle)}, {@link EpollIoHandle},
 * {@link EpollSocketChannel#EpollSocketChannel(int)}); epoll channels on the gateway's event loops only
 * ({@link #parkable}). Everything here runs on the channel's event loop. What the listener gave the channel is carried
 * over: its settings (write buffer marks, read sizing), its addresses, the client a PROXY header named, and its
 * place in {@code max-connections-per-address}.
 */
public final class ParkedChannel implements EpollIoHandle {
    /** The parked socket's owner, told on the event loop when the socket has something for it. */
    public interface Waker {
        /** Bytes came, or the peer's close, or an error: unpark the socket ({@link #unpark}). */
        void wake();
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ParkedChannel.class);
    private static final AtomicLong PARKED_NOW = new AtomicLong();
    private static final AtomicLong UNPARKED = new AtomicLong();
    private static final AtomicLong PARKED_TOTAL = new AtomicLong();

    private final FileDescriptor fd;
    private final IoEventLoop loop;
    private final Waker wake;
    private final WriteBufferWaterMark waterMark;
    private final RecvByteBufAllocator readSizes;
    private final SocketAddress local;
    /**
     * The peer's IPv4 address and port in one number ({@code address << 16 | port}), or -1 and the address in
     * {@link #remote}: an IPv4 socket address is 96 bytes in four objects, most of what a parked socket would keep.
     */
    private final long remoteV4;
    /** The peer's address when it is not packed in {@link #remoteV4}, else null. */
    private final SocketAddress remote;
    /** The client a trusted proxy's header named, or null. */
    private final InetSocketAddress proxied;
    /** Uncounts the connection in {@code max-connections-per-address} at its close, or null. */
    private final Runnable release;
    private IoRegistration registration;
    /** Unparked or closed: the socket is a channel's again, or gone. */
    private boolean done;

    private ParkedChannel(EpollSocketChannel ch, IoEventLoop loop, Waker wake) {
        this.fd = ch.fd();
        this.loop = loop;
        this.wake = wake;
        this.waterMark = ch.config().getWriteBufferWaterMark();
        this.readSizes = ch.config().getRecvByteBufAllocator();
        this.local = ch.localAddress();
        InetSocketAddress peer = ch.remoteAddress();
        byte[] v4 = peer != null && peer.getAddress() instanceof java.net.Inet4Address a ? a.getAddress() : null;
        this.remoteV4 = v4 == null ? -1
                : (java.nio.ByteBuffer.wrap(v4).getInt() & 0xFFFFFFFFL) << 16 | peer.getPort();
        this.remote = v4 == null ? peer : null;
        this.proxied = ProxyProtocol.proxiedClient(ch);
        this.release = AddressCounts.releaseOf(ch);
    }

    /**
     * Whether {@code ch} could be parked now: an open epoll socket channel of an event loop that takes handles of
     * other kinds, reading, with nothing waiting to be written. Its owner checks the rest (nothing half read or half
     * written in its own handlers, no handler but its own in the pipeline). On the channel's event loop.
     */
    public static boolean parkable(Channel ch) {
        if (!(ch instanceof EpollSocketChannel) || !(ch.eventLoop() instanceof IoEventLoop loop)
                || !loop.isCompatible(ParkedChannel.class) || !ch.isActive() || !ch.config().isAutoRead()) {
            return false;
        }
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out != null && out.isEmpty();
    }

    /**
     * Takes {@code ch} (which {@link #parkable} said could be) off its event loop and registers its socket there on
     * its own. Netty deregisters a channel in a task of its own, after which {@code stillIdle} is asked: if it says no,
     * or the channel took something to write or closed meanwhile, the channel is registered again as it was and
     * {@code result} gets null; else {@code result} gets the parked socket, and the channel (which the owner must let go
     * of) is never used again. {@code wake} runs on the event loop when the socket has something for the owner (who
     * then unparks it; until then it is not watched). On the channel's event loop.
     */
    public static void park(Channel ch, BooleanSupplier stillIdle, Waker wake, Consumer<ParkedChannel> result) {
        IoEventLoop loop = (IoEventLoop) ch.eventLoop();
        ch.deregister().addListener(f -> {
            if (!f.isSuccess() || !ch.isOpen()) {
                result.accept(null); // closed meanwhile: its close went through the pipeline as ever
                return;
            }
            ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
            if (!ch.isActive() || out == null || !out.isEmpty() || !stillIdle.getAsBoolean()) {
                registerAgain(ch, loop);
                result.accept(null);
                return;
            }
            ParkedChannel parked = new ParkedChannel((EpollSocketChannel) ch, loop, wake);
            try {
                // on the event loop, registering is done before register returns
                io.netty.util.concurrent.Future<IoRegistration> registered = loop.register(parked);
                if (!registered.isDone()) {
                    parked.done = true;
                    registered.addListener(r -> {
                        if (r.isSuccess()) {
                            ((IoRegistration) r.getNow()).cancel();
                        }
                    });
                    throw new IllegalStateException("not registered at once");
                }
                parked.registration = registered.getNow();
                if (parked.registration == null) {
                    throw new IllegalStateException(String.valueOf(registered.cause()));
                }
                // readable (a byte, or the peer's FIN), the peer's half close; errors and hang-ups come anyway. Level-
                // triggered: what came since the channel left the event loop is reported at once. (EpollIoOps is
                // first touched here, on a loop that runs epoll: its constants are the native library's.)
                parked.registration.submit(EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLRDHUP));
            } catch (Exception | LinkageError e) {
                LOG.debug("could not park {}: {}", ch, e.toString());
                if (parked.registration != null) {
                    parked.registration.cancel();
                }
                registerAgain(ch, loop);
                result.accept(null);
                return;
            }
            PARKED_NOW.incrementAndGet();
            PARKED_TOTAL.incrementAndGet();
            result.accept(parked);
        });
    }

    /**
     * Puts a channel whose park was called off back on its event loop. Netty's deregistration reset its epoll
     * interests: registering gives reading back, and a flush the wait for the socket to take what is left of a write
     * made meanwhile (without it, bytes over the socket's buffer would wait for the next write).
     */
    private static void registerAgain(Channel ch, IoEventLoop loop) {
        loop.register(ch).addListener(f -> {
            if (!f.isSuccess()) {
                LOG.debug("could not register {} again: {}", ch, f.cause().toString());
                ch.close();
                return;
            }
            ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
            if (out != null && !out.isEmpty()) {
                ch.flush();
            }
        });
    }

    /**
     * The socket as a channel again: a new epoll channel on it, with what the listener gave the first one and
     * {@code handler} (under {@code name}) as its pipeline, registered on the same event loop (it reads at once what
     * came). A socket whose peer reset it meanwhile gives a channel that is closed already, whose close the owner must
     * handle itself ({@link Channel#isActive()} false: Netty tells no handler of a channel that was never active);
     * so does a socket that could not be made a channel again (closed, and its connection's count released). What
     * the listener set on the first channel and is carried over: the write buffer's marks and the read sizing (the
     * only channel options {@link TcpListener} sets; TCP_NODELAY is the socket's own), the addresses, the client a
     * PROXY header named, the connection's place in {@code max-connections-per-address}. On the event loop; once.
     */
    public Channel unpark(String name, ChannelHandler handler) {
        if (done) {
            throw new IllegalStateException("unparked already");
        }
        done = true;
        PARKED_NOW.decrementAndGet();
        registration.cancel();
        EpollSocketChannel ch;
        try {
            ch = new EpollSocketChannel(fd.intValue());
            ch.config().setWriteBufferWaterMark(waterMark).setRecvByteBufAllocator(readSizes);
            SharedAddresses.give(ch, local, remote); // a packed peer's address: the one the new channel made
            if (proxied != null) {
                ProxyProtocol.nameClient(ch, proxied);
            }
            ch.pipeline().addLast(name, handler);
        } catch (RuntimeException | LinkageError e) {
            // the socket closed by its descriptor (a channel not yet registered cannot close through its pipeline),
            // and its count released here: a channel made meanwhile is never registered, never closes
            LOG.warn("a parked socket could not be made a channel again, closing it: {}", e.toString());
            try {
                fd.close();
            } catch (java.io.IOException closing) {
                LOG.debug("closing a parked socket: {}", closing.toString());
            }
            if (release != null) {
                release.run();
            }
            io.netty.channel.embedded.EmbeddedChannel closed = new io.netty.channel.embedded.EmbeddedChannel();
            closed.close();
            return closed;
        }
        if (release != null) {
            AddressCounts.releaseAtClose(ch, release);
        }
        UNPARKED.incrementAndGet();
        EpollSocketChannel made = ch;
        loop.register(ch).addListener(f -> {
            if (!f.isSuccess()) {
                made.close();
            }
        });
        if (!ch.isOpen() || !ch.isActive()) {
            ch.close();
        }
        return ch;
    }

    /** The client's address: the one a trusted proxy named, else the socket's peer. */
    public SocketAddress clientAddress() {
        if (proxied != null || remote != null) {
            return proxied != null ? proxied : remote;
        }
        if (remoteV4 < 0) {
            return null;
        }
        byte[] v4 = java.nio.ByteBuffer.allocate(4).putInt((int) (remoteV4 >>> 16)).array();
        try {
            return new InetSocketAddress(java.net.InetAddress.getByAddress(v4), (int) (remoteV4 & 0xFFFF));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are an IPv4 address
        }
    }

    /** Sockets parked now, in this process. */
    public static long parkedNow() {
        return PARKED_NOW.get();
    }

    /**
     * Sockets parked since the start, in this process: each left a channel (about 1 KB) behind as garbage, in the old
     * generation when it had lived through a young collection (the gateway's idle heap reclaims it, {@code IdleHeap}).
     */
    public static long parkedTotal() {
        return PARKED_TOTAL.get();
    }

    /** Sockets unparked since the start, in this process. */
    public static long unparked() {
        return UNPARKED.get();
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    /** Something came: stop watching (level-triggered, it would be reported again and again) and tell the owner. */
    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        // the event loop's own registration (it keeps count of them), which the one given here is the inside of
        this.registration.cancel();
        if (!done) {
            wake.wake();
        }
    }

    /**
     * The event loop shuts down with the socket still parked: it is closed, as the loop's channels are. Its owner is
     * not told (the gateway's stop closes its connections before its event loops; a loop that stops without that
     * takes every connection on it along).
     */
    @Override
    public void close() throws Exception {
        if (!done) {
            done = true;
            PARKED_NOW.decrementAndGet();
            fd.close();
        }
    }
}
