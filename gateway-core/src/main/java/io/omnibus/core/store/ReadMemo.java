package io.omnibus.core.store;

import io.omnibus.core.spi.Address;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The values that repeat from one stored record to the next, decoded once per thread: a partition's address, its
 * producers' origins, header names. Reading a backlog back from the log otherwise made new strings for them on every
 * record (decoded, validated and hashed again by every map they went into). A small direct-mapped table keyed by the
 * bytes; a miss decodes and takes the slot. Each thread has its own, so nothing is shared.
 */
final class ReadMemo {
    private static final ThreadLocal<ReadMemo> MINE = ThreadLocal.withInitial(ReadMemo::new);
    private static final int SLOTS = 64;
    /** Longer values (rare for these fields) are decoded every time rather than kept. */
    private static final int MAX_KEPT = 256;

    private final Table<String> strings = new Table<>(s -> s);
    private final Table<Address> addresses = new Table<>(Address::of); // an invalid name throws, and is not kept

    static ReadMemo get() {
        return MINE.get();
    }

    String string(byte[] a, int off, int n) {
        return strings.get(a, off, n);
    }

    Address address(byte[] a, int off, int n) {
        return addresses.get(a, off, n);
    }

    /**
     * What an empty slot holds: longer than any key kept, so it never matches. Not null: compiled code that had only
     * seen full slots took a null one (a new topic's address in a slot never used) as a reason to throw away the
     * whole inlined read path (LogReads.read, CommitLog.read) and compile it again, in the middle of a consume.
     */
    private static final byte[] EMPTY_SLOT = new byte[MAX_KEPT + 1];

    /** Values made from UTF-8 names, one per slot, each with the bytes it was made from. */
    private static final class Table<T> {
        private final java.util.function.Function<String, T> make;
        private final byte[][] keys = new byte[SLOTS][];
        private final Object[] values = new Object[SLOTS];

        Table(java.util.function.Function<String, T> make) {
            this.make = make;
            Arrays.fill(keys, EMPTY_SLOT);
        }

        @SuppressWarnings("unchecked")
        T get(byte[] a, int off, int n) {
            if (n > MAX_KEPT) {
                return make.apply(new String(a, off, n, StandardCharsets.UTF_8));
            }
            int slot = slot(a, off, n);
            byte[] key = keys[slot];
            if (Arrays.equals(key, 0, key.length, a, off, off + n)) {
                return (T) values[slot];
            }
            T value = make.apply(new String(a, off, n, StandardCharsets.UTF_8));
            keys[slot] = Arrays.copyOfRange(a, off, off + n);
            values[slot] = value;
            return value;
        }
    }

    /** From the length and a few bytes: cheap, and different for the values one log usually holds side by side. */
    private static int slot(byte[] a, int off, int n) {
        int h = n;
        if (n > 0) {
            h = h * 31 + a[off];
            h = h * 31 + a[off + n - 1];
            h = h * 31 + a[off + n / 2];
            h = h * 31 + a[off + (n * 3) / 4];
        }
        h ^= h >>> 7;
        return h & (SLOTS - 1);
    }
}
