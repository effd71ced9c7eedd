package io.omnibus.server;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Keeps the heap close to its live data while the gateway is idle (idle MQTT devices by the thousand are the case),
 * and gives the collector its usual headroom back as soon as work comes.
 *
 * <p>The launcher has G1 collect after 10 s without a collection and shrink the heap to at most
 * {@code MaxHeapFreeRatio} (30 %) free ({@code docs/operations.md}). 30 % is for a load: a heap kept tighter starts a
 * marking cycle at almost every young collection. An idle gateway has no young collections, so while the threads
 * together allocate less than {@link #QUIET_BYTES_PER_SECOND} for {@link #QUIET_SECONDS} seconds, this lowers
 * {@code MaxHeapFreeRatio} (and {@code MinHeapFreeRatio}, when above it) to {@code -Domnibus.idle-heap-free}
 * (percent; the launcher gives 10), both manageable flags, and the idle spell's periodic collection shrinks the heap
 * that much further. The first second that allocates more restores both flags as they were, before the load's first
 * collections. 15,000 idle MQTT connections cost about 0.7 KB of RSS less each (bench/README.md).
 *
 * <p>Sampled once a second on a Vert.x timer (one thread at a time, in turn); the flags are the JVM's, so one
 * instance per process ({@link #start} is called by the gateway that runs in it).
 */
final class IdleHeap {
    private static final Logger LOG = LoggerFactory.getLogger(IdleHeap.class);
    static final String PROPERTY = "omnibus.idle-heap-free";
    static final String MIN = "MinHeapFreeRatio";
    static final String MAX = "MaxHeapFreeRatio";
    static final int QUIET_SECONDS = 5;
    static final long QUIET_BYTES_PER_SECOND = 1 << 20;

    private final LongSupplier allocated;
    private final Function<String, String> getFlag;
    private final BiConsumer<String, String> setFlag;
    private final int idleMax;
    private long lastAllocated = -1;
    private int quietSeconds;
    /** The flags as they were before an idle spell lowered them; null while they are as the launcher set them. */
    private int[] loose;
    private long tightenings;
    /** The JVM refused the flags once: not tried again. */
    private boolean refused;

    IdleHeap(LongSupplier allocated, Function<String, String> getFlag, BiConsumer<String, String> setFlag,
             int idleMax) {
        this.allocated = allocated;
        this.getFlag = getFlag;
        this.setFlag = setFlag;
        this.idleMax = idleMax;
    }

    /**
     * Starts sampling when {@code -Domnibus.idle-heap-free} is set and the JVM lets the flags be changed; the timer
     * is cancelled with Vert.x.
     */
    static void start(Vertx vertx, MeterRegistry meters) {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return;
        }
        int percent;
        try {
            percent = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            LOG.warn("-D{}={}: not a percentage; the heap is left as the collector sizes it", PROPERTY, value);
            return;
        }
        if (percent < 0 || percent > 100) {
            LOG.warn("-D{}={}: not between 0 and 100; the heap is left as the collector sizes it", PROPERTY, value);
            return;
        }
        HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (hotspot == null || !(threads instanceof com.sun.management.ThreadMXBean counting)
                || !counting.isThreadAllocatedMemorySupported() || !counting.isThreadAllocatedMemoryEnabled()) {
            LOG.info("-D{}: this JVM does not count allocations or change heap flags; the heap is left as the "
                    + "collector sizes it", PROPERTY);
            return;
        }
        IdleHeap idle = new IdleHeap(counting::getTotalThreadAllocatedBytes, f -> hotspot.getVMOption(f).getValue(),
                hotspot::setVMOption, percent);
        Gauge.builder("omnibus.heap.idle.tightened", idle, i -> i.loose != null ? 1 : 0)
                .description("1 while an idle spell keeps the heap's free share at -Domnibus.idle-heap-free").register(meters);
        Gauge.builder("omnibus.heap.idle.tightenings", idle, i -> i.tightenings)
                .description("Idle spells that lowered the heap's free share").register(meters);
        vertx.setPeriodic(1000, id -> idle.sample());
    }

    /** Once a second: how much the threads allocated since the last sample decides. */
    void sample() {
        long now = allocated.getAsLong();
        long since = lastAllocated < 0 ? Long.MAX_VALUE : now - lastAllocated;
        lastAllocated = now;
        if (since >= QUIET_BYTES_PER_SECOND) {
            quietSeconds = 0;
            if (loose != null) {
                restore();
            }
            return;
        }
        if (++quietSeconds >= QUIET_SECONDS && loose == null && !refused) {
            tighten();
        }
    }

    boolean tightened() {
        return loose != null;
    }

    private void tighten() {
        try {
            int min = Integer.parseInt(getFlag.apply(MIN));
            int max = Integer.parseInt(getFlag.apply(MAX));
            if (idleMax >= max) {
                return; // already as tight
            }
            loose = new int[] {min, max};
            tightenings++;
            if (min > idleMax) { // the minimum first: the JVM refuses a maximum below it
                setFlag.accept(MIN, Integer.toString(idleMax));
            }
            setFlag.accept(MAX, Integer.toString(idleMax));
            LOG.debug("idle: at most {} % of the heap kept free (was {} %)", idleMax, max);
        } catch (RuntimeException e) { // not manageable on this JVM, or refused: leave the heap as the collector sizes it
            LOG.info("the heap's free share could not be lowered while idle: {}", e.toString());
            refused = true;
            if (loose != null) {
                restore();
            }
        }
    }

    private void restore() {
        int[] was = loose;
        loose = null;
        try {
            setFlag.accept(MAX, Integer.toString(was[1])); // the maximum first: the minimum may not exceed it
            setFlag.accept(MIN, Integer.toString(was[0]));
            LOG.debug("busy: at most {} % of the heap kept free again", was[1]);
        } catch (RuntimeException e) {
            LOG.warn("the heap's free share could not be restored to {} %: {}", was[1], e.toString());
        }
    }
}
