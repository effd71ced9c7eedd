package io.omnibus.core.transport;

import io.netty.channel.ChannelConfig;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class LoopReadSizesTest {
    private final LoopReadSizes sizes = new LoopReadSizes().maxMessagesPerRead(16);
    private final ChannelConfig config = new DefaultChannelConfig(new EmbeddedChannel());

    private static RecvByteBufAllocator.ExtendedHandle handle(LoopReadSizes sizes) {
        return (RecvByteBufAllocator.ExtendedHandle) sizes.newHandle();
    }

    /** One read turn as Netty's stream channels run it: reads of {@code bytes} each until the handle says stop. */
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

    /** Runs {@code test} on a Netty thread, as an event loop would, and fails as it failed. */
    private static void onALoop(Runnable test) throws Exception {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread loop = new FastThreadLocalThread(() -> {
            try {
                test.run();
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        loop.start();
        loop.join();
        if (failed.get() instanceof Error e) {
            throw e;
        } else if (failed.get() != null) {
            throw new AssertionError(failed.get());
        }
    }

    @Test
    void theChannelsOfOneLoopTakeTurnsEachWithItsOwnSize() throws Exception {
        onALoop(() -> {
            RecvByteBufAllocator.ExtendedHandle busy = handle(sizes);
            RecvByteBufAllocator.ExtendedHandle quiet = handle(sizes);
            assertThat(busy.guess()).isEqualTo(2048);
            // a read that fills its buffer makes the next one 16 times larger (64 KiB at most), and the turn goes on
            assertThat(turn(busy, 100_000, 100_000, 10)).isEqualTo(3);
            assertThat(busy.guess()).isEqualTo(65536);
            // the other channel of the same loop, taking its turns in between, keeps its own size: it halves after
            // two turns that read less than half of what they were given, and not below 64 bytes
            turn(quiet, 40);
            assertThat(quiet.guess()).isEqualTo(2048);
            turn(quiet, 40);
            assertThat(quiet.guess()).isEqualTo(1024);
            for (int i = 0; i < 20; i++) {
                turn(quiet, 40);
            }
            assertThat(quiet.guess()).isEqualTo(64);
            assertThat(busy.guess()).isEqualTo(65536);
            // a read that leaves part of its buffer empty ends the turn (nothing more is waiting)
            assertThat(turn(busy, 10, 10, 10)).isEqualTo(1);
            // 16 reads a turn at most, whoever read before on the loop
            int[] many = new int[40];
            Arrays.fill(many, 1 << 20);
            assertThat(turn(quiet, many)).isEqualTo(16);
            // nothing read: the turn ends (end of stream reads -1)
            busy.reset(config);
            busy.attemptedBytesRead(busy.guess());
            busy.lastBytesRead(-1);
            assertThat(busy.continueReading()).isFalse();
            busy.readComplete();
        });
    }

    @Test
    void aChannelThatStoppedReadingEndsItsTurn() throws Exception {
        onALoop(() -> {
            RecvByteBufAllocator.ExtendedHandle h = handle(sizes);
            ChannelConfig paused = new DefaultChannelConfig(new EmbeddedChannel());
            paused.setAutoRead(false);
            h.reset(paused);
            h.attemptedBytesRead(h.guess());
            h.lastBytesRead(h.guess());
            h.incMessagesRead(1);
            assertThat(h.continueReading()).isFalse();
            h.readComplete();
        });
    }

    @Test
    void offTheNettyThreadsEveryTurnCountsForItself() {
        RecvByteBufAllocator.ExtendedHandle a = handle(sizes);
        RecvByteBufAllocator.ExtendedHandle b = handle(sizes);
        a.reset(config);
        a.attemptedBytesRead(5);
        b.reset(config);
        assertThat(a.attemptedBytesRead()).isEqualTo(5);
        assertThat(b.attemptedBytesRead()).isZero();
    }
}
