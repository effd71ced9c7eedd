package io.omnibus.core.spi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * Messages that came as one batch of a protocol's own wire format, with that batch's bytes (a Kafka producer's
 * record batch, compressed or not). Handed to {@link Logs#append(List, int)} in place of a plain list, it lets the
 * store keep the bytes as they came instead of each message: one record on disk, and the protocol's consumers get
 * the batch back as it was sent ({@link Logs.Entry#batch()}), compression included. A store that keeps only
 * messages treats it as the list it is.
 *
 * <p>The bytes must decode, by the {@link WireFormat} of the same name, into messages equal to these: any consumer
 * of the address, of any protocol, reads them from the bytes. Read back, a batch knows the offset of its first
 * message ({@link #firstOffset()}; -1 before it is stored), and may say where its bytes lie in a file
 * ({@link #file()}) so that a consumer can have them sent from there ({@code sendfile}) without reading them.
 */
public final class WireBatch extends AbstractList<Envelope> implements RandomAccess {
    /**
     * Where a stored batch's bytes lie: {@code length} bytes at {@code position} of {@code channel}, a channel the
     * store owns (never to be closed by the reader; the store closes it a minute after retention deleted the file,
     * after which sending from it fails).
     */
    public record FileSlice(FileChannel channel, long position, int length) {
    }

    private final String format;
    private final FileSlice file;
    /** The bytes; read from {@link #file} on first use when the batch came as a place in a file. */
    private volatile ByteBuffer bytes;
    private final Envelope template;
    private final int count;
    private final long firstOffset;
    /** Decodes the bytes when the messages were not given: on first use, by whichever thread asks. */
    private final WireFormat decoder;
    private volatile List<Envelope> envelopes;

    /**
     * A batch as it came: {@code template} holds what the bytes do not and every message of the batch got from the
     * adapter (its {@link WireFormat#envelopes} says what), {@code envelopes} the messages.
     */
    public WireBatch(String format, ByteBuffer bytes, Envelope template, List<Envelope> envelopes) {
        this(format, null, bytes, template, envelopes.size(), -1, null, List.copyOf(envelopes));
    }

    private WireBatch(String format, FileSlice file, ByteBuffer bytes, Envelope template, int count, long firstOffset,
                      WireFormat decoder, List<Envelope> envelopes) {
        if (count < 1) {
            throw new IllegalArgumentException("an empty batch");
        }
        this.format = format;
        this.file = file;
        this.bytes = bytes == null ? null : bytes.asReadOnlyBuffer();
        this.template = template;
        this.count = count;
        this.firstOffset = firstOffset;
        this.decoder = decoder;
        this.envelopes = envelopes;
    }

    /**
     * A batch of {@code count} messages read back from a log, its first at {@code firstOffset}: its messages are
     * decoded by {@code format} when first asked for (a consumer of the batch's own protocol may want only the bytes).
     */
    public static WireBatch stored(WireFormat format, ByteBuffer bytes, Envelope template, int count, long firstOffset) {
        return new WireBatch(format.name(), null, bytes, template, count, firstOffset, format, null);
    }

    /**
     * As {@link #stored(WireFormat, ByteBuffer, Envelope, int, long)}, for a batch whose bytes were not read: they lie
     * in {@code file}, and are read from there only if {@link #bytes()} or a message is asked for.
     */
    public static WireBatch stored(WireFormat format, FileSlice file, Envelope template, int count, long firstOffset) {
        return new WireBatch(format.name(), file, null, template, count, firstOffset, format, null);
    }

    /** This batch as stored with its first message at {@code firstOffset} (its messages shared, not copied). */
    public WireBatch at(long firstOffset) {
        return new WireBatch(format, file, bytes, template, count, firstOffset, decoder, envelopes);
    }

    /** What the bytes do not hold: the address, the origin, the arrival time as the creation time. */
    public Envelope template() {
        return template;
    }

    /** The {@link WireFormat#name()} of the bytes. */
    public String format() {
        return format;
    }

    /**
     * The batch as it came (a fresh read-only view); read from its file on first use when it came as a place in
     * one (a blocking read: {@link UncheckedIOException} if it fails).
     */
    public ByteBuffer bytes() {
        ByteBuffer b = bytes;
        if (b == null) {
            b = ByteBuffer.allocate(file.length);
            try {
                while (b.hasRemaining()) {
                    if (file.channel.read(b, file.position + b.position()) < 0) {
                        throw new IOException("the file of a stored batch is shorter than the batch");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            b.flip();
            bytes = b.asReadOnlyBuffer(); // two threads may both read: the same bytes
        }
        return b.duplicate();
    }

    /** Where the bytes lie in a file, when the batch was read back as that place; else null. */
    public FileSlice file() {
        return file;
    }

    /** The size of the batch as it came. */
    public int byteSize() {
        ByteBuffer b = bytes;
        return b != null ? b.remaining() : file.length;
    }

    /** The offset of the first message, once stored; -1 before. */
    public long firstOffset() {
        return firstOffset;
    }

    /** The offset of the last message, once stored. */
    public long lastOffset() {
        return firstOffset + count - 1;
    }

    /** Throws {@link IllegalStateException} when the bytes of a stored batch do not decode into its messages. */
    @Override
    public Envelope get(int index) {
        List<Envelope> decoded = envelopes;
        if (decoded == null) {
            decoded = decoder.envelopes(bytes(), template);
            if (decoded.size() != count) {
                throw new IllegalStateException("a batch of format '" + format + "' decoded into " + decoded.size()
                        + " messages, stored as " + count);
            }
            envelopes = decoded; // two threads may both decode: the same messages
        }
        return decoded.get(index);
    }

    @Override
    public int size() {
        return count;
    }
}
