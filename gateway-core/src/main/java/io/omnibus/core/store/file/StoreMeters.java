package io.omnibus.core.store.file;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.io.File;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/** A {@link FileMessageStore}'s meters, and what it counts for them. */
final class StoreMeters {
    /** Bytes appended to the commit log, records' framing included. */
    final LongAdder appendedBytes = new LongAdder();
    /** Records skipped by the last recovery (checksum mismatch). */
    volatile long corruptRecords;
    /** Where each group commit's fsync duration goes (nanoseconds); on the writer thread. */
    private volatile LongConsumer fsyncs = nanos -> { };

    /** A group commit's fsync took {@code nanos}. */
    void fsynced(long nanos) {
        fsyncs.accept(nanos);
    }

    /**
     * Registers {@code omnibus.store.size} (commit-log bytes on disk), {@code omnibus.store.disk.free} and
     * {@code .total} (of the data directory's file system), {@code omnibus.store.appended} (bytes),
     * {@code omnibus.store.fsync} (a histogram of group-commit fsyncs) and {@code omnibus.store.corrupt.records}
     * (records skipped by recovery because their checksum did not match).
     */
    void register(MeterRegistry registry, File dir, FileMessageStore store) {
        Gauge.builder("omnibus.store.size", store, FileMessageStore::logBytes)
                .baseUnit("bytes").description("Commit-log bytes the store holds").register(registry);
        Gauge.builder("omnibus.store.disk.free", dir, File::getUsableSpace).strongReference(true).baseUnit("bytes")
                .description("Free bytes on the data directory's file system").register(registry);
        Gauge.builder("omnibus.store.disk.total", dir, File::getTotalSpace).strongReference(true).baseUnit("bytes")
                .description("Size of the data directory's file system").register(registry);
        FunctionCounter.builder("omnibus.store.appended", appendedBytes, LongAdder::sum).baseUnit("bytes")
                .description("Bytes appended to the commit log").register(registry);
        FunctionCounter.builder("omnibus.store.corrupt.records", this, m -> m.corruptRecords)
                .description("Records recovery skipped because their checksum did not match (never delivered)")
                .register(registry);
        Timer fsync = Timer.builder("omnibus.store.fsync")
                .description("Duration of the store's fsyncs (group commit)").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(50_000)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        fsyncs = nanos -> fsync.record(nanos, TimeUnit.NANOSECONDS);
    }
}
