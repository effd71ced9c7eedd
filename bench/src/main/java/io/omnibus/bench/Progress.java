package io.omnibus.bench;

import java.util.function.LongSupplier;

/** A line a second while a load runs: what the receiving side got so far, and the rate of the last second. */
final class Progress {
    private Progress() {
    }

    /** Starts the printing thread (a daemon); it ends once {@code got} reaches {@code total}, or when interrupted. */
    static Thread start(String label, LongSupplier got, long total, LongSupplier accepted) {
        Thread t = new Thread(() -> {
            long last = 0;
            while (got.getAsLong() < total) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                long now = got.getAsLong();
                System.out.printf("  %s%d / %d received (%d/s), %d accepted%n", label, now, total, now - last,
                        accepted.getAsLong());
                last = now;
            }
        }, "progress");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
