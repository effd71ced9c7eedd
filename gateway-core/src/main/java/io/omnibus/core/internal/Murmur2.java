package io.omnibus.core.internal;

import java.nio.ByteBuffer;

/**
 * The 32-bit murmur2 hash as Kafka's default partitioner uses it (seed 0x9747b28c, little-endian words), so a
 * key lands on the partition a Kafka producer would choose for it, whichever protocol brought the message.
 */
final class Murmur2 {
    private static final int SEED = 0x9747b28c;
    private static final int M = 0x5bd1e995;
    private static final int R = 24;

    private Murmur2() {
    }

    static int hash(ByteBuffer data) {
        int base = data.position();
        int length = data.remaining();
        int h = SEED ^ length;
        int words = length / 4;
        for (int i = 0; i < words; i++) {
            int at = base + i * 4;
            int k = (data.get(at) & 0xff) | ((data.get(at + 1) & 0xff) << 8) | ((data.get(at + 2) & 0xff) << 16)
                    | ((data.get(at + 3) & 0xff) << 24);
            k *= M;
            k ^= k >>> R;
            k *= M;
            h *= M;
            h ^= k;
        }
        int tail = base + words * 4;
        int rest = length % 4;
        if (rest == 3) {
            h ^= (data.get(tail + 2) & 0xff) << 16;
        }
        if (rest >= 2) {
            h ^= (data.get(tail + 1) & 0xff) << 8;
        }
        if (rest >= 1) {
            h ^= data.get(tail) & 0xff;
            h *= M;
        }
        h ^= h >>> 13;
        h *= M;
        h ^= h >>> 15;
        return h;
    }
}
