package io.omnibus.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.SendBuilder;
import org.apache.kafka.common.record.BaseRecords;
import org.apache.kafka.common.record.RecordsSend;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;

/**
 * A response as the bytes of one frame, its size first, every part in direct memory so that the socket takes it
 * as it is. Kafka's own {@link SendBuilder} lays the response out, as a broker's does: records are not copied
 * into the response but referenced. A fetch's records ({@link FetchHandler.Answer}) are written here, from the
 * stored envelopes straight into pooled direct buffers ({@link RecordBatchWriter}); those go into {@code held},
 * for the caller to release once the socket has taken the frame (or once the frame is dropped).
 */
final class ResponseWriter {
    /** About the bytes of each batch a fetch answers with (the Kafka producer's default batch is 16 KiB). */
    static final int BATCH_BYTES = 64 * 1024;

    private ResponseWriter() {
    }

    static ByteBuf encode(ByteBufAllocator alloc, RequestHeader header, ApiMessage response, List<ByteBuf> held) {
        if (response instanceof FetchHandler.Answer answer) {
            for (int i = 0; i < answer.partitions.size(); i++) {
                List<ByteBuf> batches = RecordBatchWriter.write(alloc, answer.entries.get(i), BATCH_BYTES);
                held.addAll(batches);
                answer.partitions.get(i).setRecords(new Batches(batches));
            }
        }
        short version = header.apiVersion();
        Send send = SendBuilder.buildResponseSend(new ResponseHeader(
                new ResponseHeaderData().setCorrelationId(header.correlationId()),
                header.apiKey().responseHeaderVersion(version)), response, version);
        Frame frame = new Frame(alloc);
        try {
            while (!send.completed()) {
                send.writeTo(frame);
            }
        } catch (IOException e) { // the frame does no I/O
            frame.out.release();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            frame.out.release();
            throw e;
        }
        return frame.out;
    }

    /** The channel a {@link Send} writes itself to: collects its buffers into one composite of direct ones. */
    private static final class Frame implements TransferableChannel {
        final ByteBufAllocator alloc;
        final CompositeByteBuf out;

        Frame(ByteBufAllocator alloc) {
            this.alloc = alloc;
            this.out = alloc.compositeDirectBuffer(Integer.MAX_VALUE);
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            if (n == 0) {
                return 0;
            }
            ByteBuf part;
            if (src.isDirect()) { // records: referenced, not copied (the caller holds their buffer until written)
                part = Unpooled.wrappedBuffer(src.slice());
            } else { // the response's own fields, which SendBuilder lays out on the heap: small
                part = alloc.directBuffer(n).writeBytes(src.duplicate());
            }
            src.position(src.limit());
            out.addComponent(true, part);
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += write(srcs[i]);
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public boolean hasPendingWrites() {
            return false;
        }

        @Override
        public long transferFrom(FileChannel fileChannel, long position, long count) {
            throw new UnsupportedOperationException("no file regions in responses");
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /** A partition's records as batches in buffers of their own, sent one after the other without a copy. */
    private static final class Batches implements BaseRecords {
        private final List<ByteBuf> buffers;
        private final int size;

        Batches(List<ByteBuf> buffers) {
            this.buffers = buffers;
            int n = 0;
            for (ByteBuf b : buffers) {
                n += b.readableBytes();
            }
            this.size = n;
        }

        @Override
        public int sizeInBytes() {
            return size;
        }

        @Override
        public RecordsSend<Batches> toSend() {
            return new RecordsSend<>(this, size) {
                @Override
                protected int writeTo(TransferableChannel channel, int previouslyWritten, int remaining) throws IOException {
                    int skip = previouslyWritten;
                    int written = 0;
                    for (ByteBuf b : buffers) {
                        int n = b.readableBytes();
                        if (skip >= n) {
                            skip -= n;
                            continue;
                        }
                        int w = channel.write(b.nioBuffer(b.readerIndex() + skip, n - skip));
                        written += w;
                        if (w < n - skip) {
                            break;
                        }
                        skip = 0;
                    }
                    return written;
                }
            };
        }
    }

    /** Drops a fetch's records that will not be sent. */
    static void release(List<ByteBuf> held) {
        held.forEach(ByteBuf::release);
        held.clear();
    }
}
