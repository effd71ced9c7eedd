package io.omnibus.core.spi;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns the bytes of a {@link WireBatch} back into its messages, for the store that kept the bytes: an adapter
 * whose producers send batches contributes its format (a {@code META-INF/services} entry), so the core reads any
 * protocol's batches without knowing the protocol.
 */
public interface WireFormat {
    /** The name a {@link WireBatch} gives its bytes; stored with them, so it must not change between versions. */
    String name();

    /**
     * The messages of {@code bytes}, equal to those the batch held when appended. {@code template} gives what the
     * bytes do not hold and the adapter gave every message of the batch: the address, the origin, and as its
     * creation time the time the batch arrived. Throws on bytes that do not decode.
     */
    List<Envelope> envelopes(ByteBuffer bytes, Envelope template);

    /**
     * Writes the offset of the batch's first message into its bytes as the store keeps them, where the format has a
     * place for it (a Kafka batch's base offset), so that the stored bytes can be sent on as they lie in the store's
     * file. Called by the store's writer when it assigns the offsets, on its own copy of the bytes ({@code bytes},
     * positioned at the batch's start). Nothing by default.
     */
    default void stored(ByteBuffer bytes, long firstOffset) {
    }

    /** The format of that name on the class path, or null. */
    static WireFormat named(String name) {
        return Registry.FORMATS.get(name);
    }

    /** The formats on the class path, found once. */
    final class Registry {
        private static final Map<String, WireFormat> FORMATS = new ConcurrentHashMap<>();

        static {
            for (WireFormat f : ServiceLoader.load(WireFormat.class, WireFormat.class.getClassLoader())) {
                FORMATS.putIfAbsent(f.name(), f);
            }
        }

        private Registry() {
        }

        /** Adds a format not listed as a service (tests). */
        public static void register(WireFormat format) {
            FORMATS.put(format.name(), format);
        }
    }
}
