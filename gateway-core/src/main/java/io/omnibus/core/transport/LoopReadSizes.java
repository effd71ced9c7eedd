package io.omnibus.core.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;

/**
 * How reads size their buffers, after Netty's {@code AdaptiveRecvByteBufAllocator} (64 bytes to 64 KiB, starting at
 * 2 KiB, sixteen times larger at once when a read filled its buffer, halved after two turns that read less than half
 * of it, up to 16 reads a turn; from 1 KiB up the same sizes as Netty's, below it powers of two where Netty steps by 16
 * bytes), in less memory per channel. Netty's handle keeps both what a channel's reads tend to take and the counts of
 * the read turn under way: 112 bytes (the handle, its size calculator, a supplier) that an idle connection keeps for
 * nothing. Here a channel keeps its size (a {@link Sizes}, 24 bytes) and the counts are its event loop's
 * ({@link Turn}): a channel reads only on its own event loop, within one turn (reset at its start, settled at its
 * end), and an event loop reads one channel at a time (Netty 4.2's epoll and NIO read loops start another channel's
 * turn only from the loop itself, never from within a handler), so its channels can take turns with one set of counts.
 */
final class LoopReadSizes implements MaxMessagesRecvByteBufAllocator {
    static final int MIN_SHIFT = 6;      // 64 bytes
    static final int INITIAL_SHIFT = 11; // 2 KiB
    static final int MAX_SHIFT = 16;     // 64 KiB
    /** Netty's step up: four sizes of its table, which doubles from 512 bytes on. */
    private static final int GROW_SHIFTS = 4;

    private volatile int maxMessagesPerRead = 16;
    private final FastThreadLocal<Turn> turns = new FastThreadLocal<>() {
        @Override
        protected Turn initialValue() {
            return new Turn();
        }
    };

    @Override
    public Handle newHandle() {
        return new Sizes(this);
    }

    /**
     * The counts for a turn starting on this thread: its event loop's, found when the turn starts (not when the handle
     * is made: Netty makes one on the acceptor thread to check the allocator); off a Netty thread counts of its own.
     */
    private Turn turnHere() {
        return Thread.currentThread() instanceof FastThreadLocalThread ? turns.get() : new Turn();
    }

    /** Reads a turn, for every channel (a channel's configuration answers with this). */
    @Override
    public int maxMessagesPerRead() {
        return maxMessagesPerRead;
    }

    /** For every channel: read at the start of each turn. */
    @Override
    public LoopReadSizes maxMessagesPerRead(int maxMessagesPerRead) {
        if (maxMessagesPerRead <= 0) {
            throw new IllegalArgumentException("maxMessagesPerRead: " + maxMessagesPerRead + " (expected: > 0)");
        }
        this.maxMessagesPerRead = maxMessagesPerRead;
        return this;
    }

    /** The counts of one read turn, an event loop's: used by one channel at a time. */
    static final class Turn {
        ChannelConfig config;
        int maxMessages;
        int messages;
        int totalBytes;
        int attemptedBytes;
        int lastBytes;
        /** Netty's default guess that more is waiting: the last read filled what it was given. */
        final UncheckedBooleanSupplier filledLast = () -> attemptedBytes == lastBytes;
    }

    /** A channel's handle: the size its reads tend to take, and the turn under way (its event loop's). */
    static final class Sizes implements RecvByteBufAllocator.ExtendedHandle {
        private final LoopReadSizes owner;
        private Turn turn; // set by reset(), which starts every turn
        private byte shift = INITIAL_SHIFT;
        private boolean shrinkNext;

        Sizes(LoopReadSizes owner) {
            this.owner = owner;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return alloc.ioBuffer(guess());
        }

        @Override
        public int guess() {
            return 1 << shift;
        }

        @Override
        public void reset(ChannelConfig config) {
            turn = owner.turnHere();
            turn.config = config;
            turn.maxMessages = owner.maxMessagesPerRead;
            turn.messages = 0;
            turn.totalBytes = 0;
            turn.attemptedBytes = 0;
            turn.lastBytes = 0;
        }

        @Override
        public void incMessagesRead(int numMessages) {
            turn.messages += numMessages;
        }

        @Override
        public void lastBytesRead(int bytes) {
            turn.lastBytes = bytes;
            if (bytes > 0) {
                turn.totalBytes += bytes;
            }
            if (bytes == turn.attemptedBytes) { // filled: the next read of this turn gets more at once
                record(bytes);
            }
        }

        @Override
        public int lastBytesRead() {
            return turn.lastBytes;
        }

        @Override
        public boolean continueReading() {
            return continueReading(turn.filledLast);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return turn.config.isAutoRead() && maybeMoreDataSupplier.get() && turn.messages < turn.maxMessages
                    && turn.totalBytes > 0;
        }

        @Override
        public void readComplete() {
            record(totalBytesRead());
            turn.config = null; // the turn is over: the loop's counts do not keep this channel reachable
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            turn.attemptedBytes = bytes;
        }

        @Override
        public int attemptedBytesRead() {
            return turn.attemptedBytes;
        }

        private int totalBytesRead() {
            return turn.totalBytes < 0 ? Integer.MAX_VALUE : turn.totalBytes;
        }

        private void record(int bytes) {
            if (shift > MIN_SHIFT && bytes <= 1 << (shift - 1)) {
                if (shrinkNext) {
                    shift--;
                    shrinkNext = false;
                } else {
                    shrinkNext = true;
                }
            } else if (bytes >= 1 << shift) {
                shift = (byte) Math.min(shift + GROW_SHIFTS, MAX_SHIFT);
                shrinkNext = false;
            }
        }
    }
}
