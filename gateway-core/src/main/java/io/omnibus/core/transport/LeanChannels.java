package io.omnibus.core.transport;

import io.netty.channel.AbstractChannel;
import io.netty.channel.Channel;
import io.netty.channel.ChannelId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two things an accepted Netty channel keeps that an idle connection does not need, made smaller or let go:
 * <ul>
 * <li>its id: Netty's {@code DefaultChannelId} is 96 bytes (machine id, process id, a sequence number, a time stamp
 * and a random number, 28 bytes in an array of their own), kept for the channel's life; here a number of this process
 * ({@link Id}, 24 bytes) takes its place as the channel is accepted ({@link #compactId});</li>
 * <li>its read handles: an epoll channel's first read makes Netty's handle (with its supplier and its allocator
 * wrapper, 64 bytes) around the allocator's own ({@link LoopReadSizes}, 24), and keeps both; a connection that has
 * read nothing for a while drops them ({@link #forgetReads}), and its next read makes new ones.</li>
 * </ul>
 * Netty has no setting for either, so both write the channel's private fields. If a Netty release renames them,
 * channels keep what Netty gave them and the start-up log says so once.
 */
public final class LeanChannels {
    private static final Logger LOG = LoggerFactory.getLogger(LeanChannels.class);
    /** Ids of this process's accepted channels (one increment per accepted connection). */
    private static final AtomicLong IDS = new AtomicLong();

    /** {@code AbstractChannel.id}: final, so written through a reflective setter (null if not found). */
    private static final MethodHandle SET_ID;
    /** Netty's epoll channels' unsafe (package-private) and its read handle; {@code AbstractUnsafe}'s handle. */
    private static final Class<?> EPOLL_UNSAFE;
    private static final VarHandle EPOLL_READ_HANDLE;
    private static final VarHandle READ_HANDLE;

    static {
        MethodHandle setId = null;
        try {
            java.lang.reflect.Field id = AbstractChannel.class.getDeclaredField("id");
            id.setAccessible(true);
            setId = MethodHandles.lookup().unreflectSetter(id);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.info("accepted channels keep Netty's ids (AbstractChannel's id field not writable: {})", e.toString());
        }
        SET_ID = setId;
        Class<?> epollUnsafe = null;
        VarHandle epollHandle = null;
        VarHandle handle = null;
        try {
            epollUnsafe = Class.forName("io.netty.channel.epoll.AbstractEpollChannel$AbstractEpollUnsafe", false,
                    AbstractChannel.class.getClassLoader());
            epollHandle = MethodHandles.privateLookupIn(epollUnsafe, MethodHandles.lookup()).findVarHandle(epollUnsafe,
                    "allocHandle", Class.forName("io.netty.channel.epoll.EpollRecvByteAllocatorHandle", false,
                            AbstractChannel.class.getClassLoader()));
            Class<?> unsafe = Class.forName("io.netty.channel.AbstractChannel$AbstractUnsafe", false,
                    AbstractChannel.class.getClassLoader());
            handle = MethodHandles.privateLookupIn(unsafe, MethodHandles.lookup()).findVarHandle(unsafe, "recvHandle",
                    io.netty.channel.RecvByteBufAllocator.Handle.class);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.info("idle channels keep their read handles (Netty's epoll unsafe fields not found: {})", e.toString());
            epollHandle = null;
            handle = null;
        }
        EPOLL_UNSAFE = handle == null ? null : epollUnsafe;
        EPOLL_READ_HANDLE = epollHandle;
        READ_HANDLE = handle;
    }

    private LeanChannels() {
    }

    /**
     * Gives {@code ch} a compact id in place of Netty's: as the channel is accepted, before anything has read its id
     * (it is the channel's hash code and how channels compare). Does nothing to channels of other kinds than Netty's
     * {@code AbstractChannel}, or if the field cannot be written.
     */
    static void compactId(Channel ch) {
        if (SET_ID != null && ch instanceof AbstractChannel) {
            try {
                SET_ID.invoke((AbstractChannel) ch, (ChannelId) new Id(IDS.incrementAndGet()));
            } catch (Throwable e) { // a setter found at start fails for nothing we can foresee: keep Netty's id
                LOG.debug("channel {} keeps its id: {}", ch.id(), e.toString());
            }
        }
    }

    /**
     * Drops {@code ch}'s read handles: an idle connection calls this between reads, on the channel's event loop
     * (never from within a read, which holds the handle); its next read makes new ones, starting from the
     * allocator's initial size. Does nothing off the event loop or to other kinds of channel than epoll's.
     */
    public static void forgetReads(Channel ch) {
        if (EPOLL_UNSAFE != null && ch.eventLoop().inEventLoop()) {
            Channel.Unsafe unsafe = ch.unsafe();
            if (EPOLL_UNSAFE.isInstance(unsafe)) {
                EPOLL_READ_HANDLE.set(unsafe, null);
                READ_HANDLE.set(unsafe, null);
            }
        }
    }

    /** Whether {@code ch} holds read handles now (for tests). */
    static boolean holdsReadHandles(Channel ch) {
        return EPOLL_UNSAFE != null && EPOLL_UNSAFE.isInstance(ch.unsafe())
                && (EPOLL_READ_HANDLE.get(ch.unsafe()) != null || READ_HANDLE.get(ch.unsafe()) != null);
    }

    /**
     * A channel's id: its number among the channels this process accepted, as hexadecimal text (long and short
     * alike). Unique within the process, as Netty's are in practice; hashes spread by mixing the number's bits.
     */
    static final class Id implements ChannelId {
        private static final long serialVersionUID = 1L;
        private final long value;

        Id(long value) {
            this.value = value;
        }

        @Override
        public String asShortText() {
            return Long.toHexString(value);
        }

        @Override
        public String asLongText() {
            return asShortText();
        }

        @Override
        public int compareTo(ChannelId o) {
            return o instanceof Id other ? Long.compare(value, other.value) : asLongText().compareTo(o.asLongText());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Id other && other.value == value;
        }

        @Override
        public int hashCode() {
            long h = value * 0x9E3779B97F4A7C15L; // Fibonacci hashing: consecutive numbers spread over the hash
            return (int) (h ^ (h >>> 32));
        }

        @Override
        public String toString() {
            return asShortText();
        }
    }
}
