package io.omnibus.core.spi;

import java.util.concurrent.locks.LockSupport;

/**
 * The wall-clock time to about {@value #TICK_MILLIS} ms, for code that reads the time once or more per message and
 * needs it no finer: the meters' window rotation, keep-alive bookkeeping. Reading the clock costs a trip into the
 * kernel's time page, and far more where the hypervisor traps the CPU's time-stamp counter: on this project's 2-core
 * virtual machines a profile of MQTT fan-in showed a tenth of the gateway's CPU in {@code clock_gettime}. This is a
 * volatile read; a daemon thread moves it on every tick.
 */
public final class CoarseClock {
    /** How often the time read here moves on. */
    public static final long TICK_MILLIS = 10;

    private static volatile long now = System.currentTimeMillis();

    static {
        Thread t = new Thread(() -> {
            while (true) {
                LockSupport.parkNanos(TICK_MILLIS * 1_000_000);
                now = System.currentTimeMillis();
            }
        }, "omnibus-coarse-clock");
        t.setDaemon(true);
        t.start();
    }

    private CoarseClock() {
    }

    /** Epoch milliseconds, at most about one tick behind {@link System#currentTimeMillis()}. */
    public static long millis() {
        return now;
    }
}
