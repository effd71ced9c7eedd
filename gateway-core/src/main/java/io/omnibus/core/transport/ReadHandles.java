package io.omnibus.core.transport;

import io.netty.channel.AbstractChannel;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An idle epoll channel's read handles, let go. A channel's first read makes Netty's handle (with its supplier and its
 * allocator wrapper, 64 bytes) around the allocator's own ({@link LoopReadSizes}, 24 bytes), and the channel keeps
 * both for as long as it is open; a connection that has read nothing for a while drops them ({@link #forget}), and
 * its next read makes new ones, as its first did.
 *
 * <p>Netty has no setting for it, so this writes the unsafe's two private (not final) handle fields, which Netty fills
 * again when it finds them empty. If a Netty release renames them, channels keep their handles and the log says so
 * once, at the first idle connection.
 */
public final class ReadHandles {
    private static final Logger LOG = LoggerFactory.getLogger(ReadHandles.class);

    /** Netty's epoll channels' unsafe (package-private) and its read handle; {@code AbstractUnsafe}'s handle. */
    private static final Class<?> EPOLL_UNSAFE;
    private static final VarHandle EPOLL_HANDLE;
    private static final VarHandle HANDLE;

    static {
        Class<?> epollUnsafe = null;
        VarHandle epollHandle = null;
        VarHandle handle = null;
        try {
            ClassLoader netty = AbstractChannel.class.getClassLoader();
            epollUnsafe = Class.forName("io.netty.channel.epoll.AbstractEpollChannel$AbstractEpollUnsafe", false, netty);
            epollHandle = MethodHandles.privateLookupIn(epollUnsafe, MethodHandles.lookup()).findVarHandle(epollUnsafe,
                    "allocHandle", Class.forName("io.netty.channel.epoll.EpollRecvByteAllocatorHandle", false, netty));
            Class<?> unsafe = Class.forName("io.netty.channel.AbstractChannel$AbstractUnsafe", false, netty);
            handle = MethodHandles.privateLookupIn(unsafe, MethodHandles.lookup()).findVarHandle(unsafe, "recvHandle",
                    io.netty.channel.RecvByteBufAllocator.Handle.class);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.info("idle channels keep their read handles (Netty's epoll unsafe fields not found: {})", e.toString());
            epollHandle = null;
            handle = null;
        }
        EPOLL_UNSAFE = handle == null ? null : epollUnsafe;
        EPOLL_HANDLE = epollHandle;
        HANDLE = handle;
    }

    private ReadHandles() {
    }

    /**
     * Drops {@code ch}'s read handles: an idle connection calls this between reads, on the channel's event loop
     * (never from within a read, which holds the handle); its next read makes new ones, starting from the
     * allocator's initial size. Does nothing off the event loop or to other kinds of channel than epoll's.
     */
    public static void forget(Channel ch) {
        if (EPOLL_UNSAFE != null && ch.eventLoop().inEventLoop()) {
            Channel.Unsafe unsafe = ch.unsafe();
            if (EPOLL_UNSAFE.isInstance(unsafe)) {
                EPOLL_HANDLE.set(unsafe, null);
                HANDLE.set(unsafe, null);
            }
        }
    }

    /** Whether {@code ch} holds read handles now (for tests; on its event loop). */
    static boolean held(Channel ch) {
        return EPOLL_UNSAFE != null && EPOLL_UNSAFE.isInstance(ch.unsafe())
                && (EPOLL_HANDLE.get(ch.unsafe()) != null || HANDLE.get(ch.unsafe()) != null);
    }
}
