package io.omnibus.server;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicReference;
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
 * that much further. The first second that allocates {@link #BUSY_BYTES_PER_SECOND} or more restores both flags as
 * they were, before the load's first collections. 15,000 idle MQTT connections cost about 0.9 KB of RSS less each
 * (bench/README.md). A spell that starts after {@link #PARKS_FOR_A_COLLECTION} parked MQTT connections also makes one
 * full collection, for the channels they left behind in the old generation.
 *
 * <p>Sampled once a second on a Vert.x timer of a context of its own, where its state lives. The flags are the
 * JVM's: one instance per process runs (a second gateway in the same JVM starts none), and {@link #close} (the
 * gateway's stop) cancels it and sets the flags back.
 */
final class IdleHeap {
    private static final Logger LOG = LoggerFactory.getLogger(IdleHeap.class);
    static final String PROPERTY = "omnibus.idle-heap-free";
    static final String MIN = "MinHeapFreeRatio";
    static final String MAX = "MaxHeapFreeRatio";
    static final int QUIET_SECONDS = 5;
    static final long QUIET_BYTES_PER_SECOND = 1 << 20;
    /**
     * What a second must allocate to set the flags back: a load's. A scrape of {@code /metrics} (a few MiB in a
     * second) is not one; a tight heap spell that it ended would have to wait another 5 quiet seconds.
     */
    static final long BUSY_BYTES_PER_SECOND = 16 << 20;
    /** The one that runs in this process, if any. */
    private static final AtomicReference<IdleHeap> RUNNING = new AtomicReference<>();

    private final LongSupplier allocated;
    /** Sockets parked so far ({@link io.omnibus.core.transport.ParkedChannel#parkedTotal}). */
    private final LongSupplier parked;
    /**
     * A full collection ({@link System#gc}) if the heap is small enough and the JVM makes one when asked; whether it
     * did. A test counts instead.
     */
    private final java.util.function.BooleanSupplier collect;
    /** Samples (seconds) since the last full collection this made; it starts as if the last were long ago. */
    private long secondsSinceCollection = MIN_SECONDS_BETWEEN_COLLECTIONS;
    // read by /metrics on another thread
    private volatile long collections;
    /** {@link #parked} at the last full collection this made. */
    private long parkedAtCollection;
    private final Function<String, String> getFlag;
    private final BiConsumer<String, String> setFlag;
    private final int idleMax;
    private long lastAllocated = -1;
    private int quietSeconds;
    /** The flags as they were before an idle spell lowered them; null while they are as the launcher set them. */
    private int[] loose;
    /** The JVM refused the flags once: not tried again. */
    private boolean refused;
    // read by /metrics on another thread
    private volatile boolean tightened;
    private volatile long tightenings;
    private Context context;
    private long timer = -1;

    IdleHeap(LongSupplier allocated, Function<String, String> getFlag, BiConsumer<String, String> setFlag,
             int idleMax) {
        this(allocated, getFlag, setFlag, idleMax, () -> 0, () -> false);
    }

    IdleHeap(LongSupplier allocated, Function<String, String> getFlag, BiConsumer<String, String> setFlag,
             int idleMax, LongSupplier parked, java.util.function.BooleanSupplier collect) {
        this.allocated = allocated;
        this.parked = parked;
        this.collect = collect;
        this.getFlag = getFlag;
        this.setFlag = setFlag;
        this.idleMax = idleMax;
    }

    /**
     * Starts sampling when {@code -Domnibus.idle-heap-free} is set, the JVM counts allocations and none runs in this
     * process yet; null otherwise.
     */
    static IdleHeap start(Vertx vertx, MeterRegistry meters) {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return null;
        }
        int percent;
        try {
            percent = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            LOG.warn("-D{}={}: not a percentage; the heap is left as the collector sizes it", PROPERTY, value);
            return null;
        }
        if (percent < 0 || percent > 100) {
            LOG.warn("-D{}={}: not between 0 and 100; the heap is left as the collector sizes it", PROPERTY, value);
            return null;
        }
        LongSupplier allocated = allocationCounter();
        HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        if (allocated == null || hotspot == null) {
            LOG.info("-D{}: this JVM does not count allocations or change heap flags; the heap is left as the "
                    + "collector sizes it", PROPERTY);
            return null;
        }
        IdleHeap idle = new IdleHeap(allocated, f -> hotspot.getVMOption(f).getValue(), hotspot::setVMOption, percent,
                io.omnibus.core.transport.ParkedChannel::parkedTotal, () -> collectSmallHeap(hotspot));
        if (!idle.run(vertx)) {
            return null;
        }
        Gauge.builder("omnibus.heap.idle.tightened", idle, i -> i.tightened ? 1 : 0)
                .description("1 while an idle spell keeps the heap's free share at -Domnibus.idle-heap-free")
                .register(meters);
        Gauge.builder("omnibus.heap.idle.collections", idle, i -> i.collections)
                .description("Full collections an idle spell made after many parked connections").register(meters);
        Gauge.builder("omnibus.heap.idle.tightenings", idle, i -> i.tightenings)
                .description("Idle spells that lowered the heap's free share").register(meters);
        return idle;
    }

    /**
     * Samples once a second on a context of its own from now on, unless one runs in this process already (false):
     * another gateway in this JVM has one, and the flags are the process's.
     */
    boolean run(Vertx vertx) {
        if (!RUNNING.compareAndSet(null, this)) {
            return false;
        }
        context = vertx.getOrCreateContext();
        context.runOnContext(v -> timer = vertx.setPeriodic(1000, id -> sample()));
        return true;
    }

    /**
     * The threads' allocations so far: the JVM's total where it has one (JDK 17.0.11 and later), else the sum over
     * the live threads (a thread that ends takes its share with it: the next second reads as quiet); null when the
     * JVM counts none.
     */
    private static LongSupplier allocationCounter() {
        if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads)
                || !threads.isThreadAllocatedMemorySupported() || !threads.isThreadAllocatedMemoryEnabled()) {
            return null;
        }
        try {
            threads.getTotalThreadAllocatedBytes();
            return threads::getTotalThreadAllocatedBytes;
        } catch (LinkageError | UnsupportedOperationException e) { // before 17.0.11: no such method
            return () -> {
                long sum = 0;
                for (long bytes : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
                    sum += Math.max(0, bytes); // -1: the thread ended meanwhile
                }
                return sum;
            };
        }
    }

    /** Where it samples (after {@link #run}). */
    Context context() {
        return context;
    }

    /** Stops sampling and sets the flags back as they were, on the sampling context; done when it is. */
    Future<Void> close() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            context.owner().cancelTimer(timer);
            if (loose != null) {
                restore();
            }
            RUNNING.compareAndSet(this, null);
            done.complete();
        });
        return done.future();
    }

    /** Once a second: how much the threads allocated since the last sample decides. */
    void sample() {
        secondsSinceCollection++;
        long now = allocated.getAsLong();
        long since = lastAllocated < 0 ? Long.MAX_VALUE : now - lastAllocated;
        lastAllocated = now;
        if (since >= QUIET_BYTES_PER_SECOND) {
            quietSeconds = 0;
            if (loose != null && since >= BUSY_BYTES_PER_SECOND) {
                restore();
            }
            return;
        }
        if (++quietSeconds >= QUIET_SECONDS && loose == null && !refused) {
            tighten();
            if (loose != null) {
                collectAfterParks();
            }
        }
    }

    boolean tightened() {
        return tightened;
    }

    /**
     * Parks since the last full collection this made for which the idle spell's start makes one: the channels they
     * left (about 1 KB each) became garbage in the old generation when they had lived through a young collection
     * (a storm of CONNECTs), where only a mixed or a full collection gets them back, and an idle gateway makes no
     * young collection, so no mixed one either. 15,000 connections parked after a storm kept 12.5 MB of it
     * (bench/README.md).
     */
    static final long PARKS_FOR_A_COLLECTION = 4096;
    /**
     * At most one such collection in this many seconds: a fleet whose devices wake every minute re-parks thousands a
     * minute, and a load in bursts starts a spell after each.
     */
    static final long MIN_SECONDS_BETWEEN_COLLECTIONS = 600;
    /** No full collection above this much heap in use (garbage included): its pause grows with the live data. */
    static final long COLLECTED_BELOW_BYTES = 256L << 20;

    /**
     * {@link System#gc}, a full collection of a few tens of milliseconds on a heap this small, which stops every
     * thread whichever calls it; not when the heap in use is larger, nor when the JVM ignores explicit collections or
     * makes them concurrent (the caller would wait for a whole cycle, which frees nothing more than the periodic one).
     * Whether it collected.
     */
    private static boolean collectSmallHeap(HotSpotDiagnosticMXBean hotspot) {
        long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        if (used >= COLLECTED_BELOW_BYTES || "true".equals(hotspot.getVMOption("DisableExplicitGC").getValue())
                || "true".equals(hotspot.getVMOption("ExplicitGCInvokesConcurrent").getValue())) {
            LOG.debug("idle after many parked connections: no full collection ({} MiB in use, or explicit "
                    + "collections off or concurrent)", used >> 20);
            return false;
        }
        long began = System.nanoTime();
        System.gc();
        LOG.debug("idle after many parked connections: a full collection took {} ms ({} MiB were in use)",
                (System.nanoTime() - began) / 1_000_000, used >> 20);
        return true;
    }

    private void tighten() {
        try {
            int min = Integer.parseInt(getFlag.apply(MIN));
            int max = Integer.parseInt(getFlag.apply(MAX));
            if (idleMax >= max) {
                return; // already as tight
            }
            loose = new int[] {min, max};
            if (min > idleMax) { // the minimum first: the JVM refuses a maximum below it
                setFlag.accept(MIN, Integer.toString(idleMax));
            }
            setFlag.accept(MAX, Integer.toString(idleMax));
            tightened = true;
            tightenings++;
            LOG.debug("idle: at most {} % of the heap kept free (was {} %)", idleMax, max);
        } catch (RuntimeException e) { // not manageable here, or refused: the heap is left as the collector sizes it
            LOG.info("the heap's free share could not be lowered while idle: {}", e.toString());
            refused = true;
            if (loose != null) {
                restore();
            }
        }
    }

    /**
     * At a spell's start, the flags lowered (the collection shrinks the heap to them): one full collection when
     * {@link #PARKS_FOR_A_COLLECTION} parks came since the last one it made, at most one in
     * {@link #MIN_SECONDS_BETWEEN_COLLECTIONS}. Counted from a collection made, not from one skipped.
     */
    private void collectAfterParks() {
        long parks = parked.getAsLong();
        if (parks - parkedAtCollection < PARKS_FOR_A_COLLECTION
                || secondsSinceCollection < MIN_SECONDS_BETWEEN_COLLECTIONS) {
            return;
        }
        try {
            if (collect.getAsBoolean()) {
                parkedAtCollection = parks;
                secondsSinceCollection = 0;
                collections++;
            }
        } catch (RuntimeException e) {
            LOG.debug("idle: the full collection failed: {}", e.toString());
        }
    }

    private void restore() {
        int[] was = loose;
        loose = null;
        tightened = false;
        try {
            setFlag.accept(MAX, Integer.toString(was[1])); // the maximum first: the minimum may not exceed it
            setFlag.accept(MIN, Integer.toString(was[0]));
            LOG.debug("busy: at most {} % of the heap kept free again", was[1]);
        } catch (RuntimeException e) {
            LOG.warn("the heap's free share could not be restored to {} %: {}", was[1], e.toString());
        }
    }
}
