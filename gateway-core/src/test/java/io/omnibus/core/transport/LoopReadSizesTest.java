package io.omnibus.core.transport;

import io.netty.channel.ChannelConfig;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LoopReadSizesTest {
    private final LoopReadSizes sizes = new LoopReadSizes().maxMessagesPerRead(16);
    private final ChannelConfig config = new DefaultChannelConfig(new EmbeddedChannel());

    /** One read turn of {@code handle} as a Netty stream channel runs it: reads of {@code bytes} each until told to stop. */
    private int turn(RecvByteBufAllocator.ExtendedHandle handle, int... bytes) {
        handle.reset(config);
        int reads = 0;
        do {
            int want = handle.guess();
            handle.attemptedBytesRead(want);
            handle.lastBytesRead(Math.min(want, bytes[reads]));
            handle.incMessagesRead(1);
            reads++;
        } while (reads < bytes.length && handle.continueReading());
        handle.readComplete();
        return reads;
    }

    @Test
    void eachChannelKeepsItsOwnSizeAsNettysAdaptiveSizingDoes() {
        List<RecvByteBufAllocator.ExtendedHandle> made = new ArrayList<>();
        Thread loop = new FastThreadLocalThread(() -> {
            made.add((RecvByteBufAllocator.ExtendedHandle) sizes.newHandle());
            made.add((RecvByteBufAllocator.ExtendedHandle) sizes.newHandle());
        });
        loop.start();
        try {
            loop.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        RecvByteBufAllocator.ExtendedHandle busy = made.get(0);
        RecvByteBufAllocator.ExtendedHandle quiet = made.get(1);
        assertThat(busy.guess()).isEqualTo(2048);
        // a read that fills its buffer grows it at once (2 KiB -> 32 KiB -> 64 KiB at most), and the turn goes on
        assertThat(turn(busy, 100_000, 100_000, 10)).isEqualTo(3);
        assertThat(busy.guess()).isEqualTo(65536);
        // the other channel of the same loop, taking its turns in between, keeps its own size: small reads shrink
        // it after two turns that read less than half of what they were given
        turn(quiet, 40);
        assertThat(quiet.guess()).isEqualTo(2048);
        turn(quiet, 40);
        assertThat(quiet.guess()).isEqualTo(1024);
        for (int i = 0; i < 20; i++) {
            turn(quiet, 40);
        }
        assertThat(quiet.guess()).isEqualTo(64); // never below 64 bytes
        assertThat(busy.guess()).isEqualTo(65536);
        // a read that leaves its buffer part empty ends the turn (nothing more is waiting); 16 reads a turn at most
        assertThat(turn(busy, 10, 10, 10)).isEqualTo(1);
        int[] many = new int[40];
        java.util.Arrays.fill(many, 1 << 20);
        assertThat(turn(busy, many)).isEqualTo(16);
    }

    @Test
    void offTheEventLoopsEachHandleCountsForItself() {
        RecvByteBufAllocator.ExtendedHandle a = (RecvByteBufAllocator.ExtendedHandle) sizes.newHandle();
        RecvByteBufAllocator.ExtendedHandle b = (RecvByteBufAllocator.ExtendedHandle) sizes.newHandle();
        a.reset(config);
        a.attemptedBytesRead(5);
        b.reset(config);
        assertThat(a.attemptedBytesRead()).isEqualTo(5);
        assertThat(b.attemptedBytesRead()).isZero();
    }
}
