package io.omnibus.server;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class IdleHeapTest {
    private final AtomicLong allocated = new AtomicLong();
    private final Map<String, String> flags =
            new java.util.concurrent.ConcurrentHashMap<>(Map.of(IdleHeap.MIN, "10", IdleHeap.MAX, "30"));
    private final List<String> sets = new java.util.concurrent.CopyOnWriteArrayList<>();

    private IdleHeap idleHeap(int percent) {
        return new IdleHeap(allocated::get, flags::get, (f, v) -> {
            sets.add(f + "=" + v);
            flags.put(f, v);
        }, percent);
    }

    /** One sample after the threads allocated {@code bytes}. */
    private void after(IdleHeap heap, long bytes) {
        allocated.addAndGet(bytes);
        heap.sample();
    }

    @Test
    void quietSecondsLowerTheFreeShareAndTheFirstBusySecondRestoresIt() {
        IdleHeap heap = idleHeap(10);
        after(heap, 0); // the first sample only reads the counter
        for (int s = 1; s < IdleHeap.QUIET_SECONDS; s++) {
            after(heap, IdleHeap.QUIET_BYTES_PER_SECOND - 1);
        }
        assertThat(sets).as("not quiet for long enough yet").isEmpty();
        after(heap, 1000);
        assertThat(heap.tightened()).isTrue();
        assertThat(sets).containsExactly("MaxHeapFreeRatio=10");
        after(heap, 0);
        assertThat(sets).as("set once per idle spell").hasSize(1);

        after(heap, IdleHeap.BUSY_BYTES_PER_SECOND - 1); // a scrape of /metrics, say: not a load
        assertThat(heap.tightened()).isTrue();
        after(heap, IdleHeap.BUSY_BYTES_PER_SECOND);
        assertThat(heap.tightened()).isFalse();
        assertThat(flags).containsEntry(IdleHeap.MAX, "30").containsEntry(IdleHeap.MIN, "10");
        for (int s = 1; s < IdleHeap.QUIET_SECONDS; s++) {
            after(heap, 0);
        }
        assertThat(heap.tightened()).as("a new spell counts its seconds from the start").isFalse();
        after(heap, 0);
        assertThat(heap.tightened()).isTrue();
    }

    /**
     * A full collection at an idle spell's start, once enough parked connections left their channels behind: with the
     * flags lowered, counted from the last collection made (not one skipped), at most one in ten minutes.
     */
    @Test
    void anIdleSpellAfterManyParksCollectsOnceWithTheFlagsLowered() {
        AtomicLong parked = new AtomicLong();
        List<String> collections = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean collects = new java.util.concurrent.atomic.AtomicBoolean(true);
        IdleHeap heap = new IdleHeap(allocated::get, flags::get, (f, v) -> {
            sets.add(f + "=" + v);
            flags.put(f, v);
        }, 10, parked::get, () -> {
            collections.add((collects.get() ? "collected" : "skipped") + " with " + IdleHeap.MAX + "="
                    + flags.get(IdleHeap.MAX));
            return collects.get();
        });
        Runnable spell = () -> {
            after(heap, IdleHeap.BUSY_BYTES_PER_SECOND); // a load: any spell ends
            for (int s = 0; s <= IdleHeap.QUIET_SECONDS; s++) {
                after(heap, 0);
            }
            assertThat(heap.tightened()).isTrue();
        };
        parked.set(IdleHeap.PARKS_FOR_A_COLLECTION - 1);
        spell.run();
        assertThat(collections).as("too few parks").isEmpty();

        parked.set(IdleHeap.PARKS_FOR_A_COLLECTION);
        collects.set(false); // the heap too large, say: skipped, and tried again at the next spell
        spell.run();
        collects.set(true);
        spell.run();
        assertThat(collections).containsExactly("skipped with MaxHeapFreeRatio=10", "collected with MaxHeapFreeRatio=10");

        parked.addAndGet(IdleHeap.PARKS_FOR_A_COLLECTION - 1); // counted from the collection made
        spell.run();
        parked.addAndGet(1); // enough parks, but within ten minutes of the last collection
        spell.run();
        assertThat(collections).hasSize(2);
        for (long s = 0; s < IdleHeap.MIN_SECONDS_BETWEEN_COLLECTIONS; s++) {
            after(heap, IdleHeap.BUSY_BYTES_PER_SECOND);
        }
        spell.run();
        assertThat(collections).hasSize(3);
    }

    @Test
    void aMinimumAboveTheIdleShareIsLoweredFirstAndRestoredLast() {
        flags.put(IdleHeap.MIN, "40");
        flags.put(IdleHeap.MAX, "70"); // the JVM's own defaults
        IdleHeap heap = idleHeap(10);
        for (int s = 0; s <= IdleHeap.QUIET_SECONDS; s++) {
            after(heap, 0);
        }
        after(heap, 50L << 20);
        assertThat(sets).containsExactly("MinHeapFreeRatio=10", "MaxHeapFreeRatio=10", "MaxHeapFreeRatio=70",
                "MinHeapFreeRatio=40");
    }

    @Test
    void aHeapAlreadyAsTightIsLeftAlone() {
        flags.put(IdleHeap.MIN, "5");
        flags.put(IdleHeap.MAX, "10");
        IdleHeap heap = idleHeap(10);
        for (int s = 0; s <= 2 * IdleHeap.QUIET_SECONDS; s++) {
            after(heap, 0);
        }
        assertThat(heap.tightened()).isFalse();
        assertThat(sets).isEmpty();
    }

    @Test
    void aJvmThatRefusesTheFlagsIsAskedOnceAndLeftAsItWas() {
        IdleHeap heap = new IdleHeap(allocated::get, flags::get, (f, v) -> {
            sets.add(f + "=" + v);
            throw new IllegalArgumentException("not writeable");
        }, 10);
        for (int s = 0; s <= 3 * IdleHeap.QUIET_SECONDS; s++) {
            after(heap, 0);
        }
        assertThat(heap.tightened()).isFalse();
        assertThat(sets).as("tried once, then the restore tried").containsExactly("MaxHeapFreeRatio=10",
                "MaxHeapFreeRatio=30");
    }

    /**
     * One runs per process (the flags are the JVM's): a second gateway's does not start, and the close (the gateway's
     * stop) sets lowered flags back and lets another start.
     */
    @Test
    void oneRunsPerProcessAndItsCloseSetsTheFlagsBack() throws Exception {
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            IdleHeap first = idleHeap(10);
            assertThat(first.run(vertx)).isTrue();
            assertThat(idleHeap(10).run(vertx)).as("a second in the same process").isFalse();
            io.vertx.core.Promise<Void> quiet = io.vertx.core.Promise.promise();
            first.context().runOnContext(v -> { // where its timer samples too: one at a time
                for (int s = 0; s <= IdleHeap.QUIET_SECONDS; s++) {
                    first.sample();
                }
                quiet.complete();
            });
            quiet.future().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(flags).containsEntry(IdleHeap.MAX, "10");
            first.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(flags).containsEntry(IdleHeap.MAX, "30").containsEntry(IdleHeap.MIN, "10");
            IdleHeap next = idleHeap(10);
            assertThat(next.run(vertx)).as("after the close").isTrue();
            next.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** The flags are manageable in this JVM: what the launcher's JVM is told while idle takes, and is undone. */
    @Test
    void thisJvmTakesTheFlagsAndGetsThemBack() {
        HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        String min = hotspot.getVMOption(IdleHeap.MIN).getValue();
        String max = hotspot.getVMOption(IdleHeap.MAX).getValue();
        try {
            IdleHeap heap = new IdleHeap(allocated::get, f -> hotspot.getVMOption(f).getValue(),
                    hotspot::setVMOption, 3);
            for (int s = 0; s <= IdleHeap.QUIET_SECONDS; s++) {
                after(heap, 0);
            }
            assertThat(hotspot.getVMOption(IdleHeap.MAX).getValue()).isEqualTo("3");
            assertThat(Integer.parseInt(hotspot.getVMOption(IdleHeap.MIN).getValue())).isLessThanOrEqualTo(3);
            after(heap, 1L << 30);
            assertThat(hotspot.getVMOption(IdleHeap.MAX).getValue()).isEqualTo(max);
            assertThat(hotspot.getVMOption(IdleHeap.MIN).getValue()).isEqualTo(min);
        } finally {
            hotspot.setVMOption(IdleHeap.MAX, max);
            hotspot.setVMOption(IdleHeap.MIN, min);
        }
    }
}
