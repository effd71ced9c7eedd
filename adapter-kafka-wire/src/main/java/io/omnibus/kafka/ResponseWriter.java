package io.omnibus.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.omnibus.core.spi.WireBatch.FileSlice;
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
import java.util.ArrayList;
import java.util.List;

/**
 * A response as the bytes of one frame, its size first, every part in direct memory so that the socket takes it
 * as it is. Kafka's own {@link SendBuilder} lays the response out, as a broker's does: records are not copied
 * into the response but referenced. A fetch's records ({@link FetchHandler.Answer}) are written here, from the
 * stored envelopes straight into pooled direct buffers ({@link RecordBatchWriter}); those go into {@code held},
 * for the caller to release once the socket has taken the frame (or once the frame is dropped). Stored producer
 * batches read as their place in the store's files are file regions of the frame, between its buffers: the frame
 * is a list of parts, written in order.
 */
final class ResponseWriter {
    /** About the bytes of each batch a fetch answers with (the Kafka producer's default batch is 16 KiB). */
    static final int BATCH_BYTES = 64 * 1024;

    private ResponseWriter() {
    }

    static List<Object> encode(ByteBufAllocator alloc, RequestHeader header, ApiMessage response, List<ByteBuf> held) {
        if (response instanceof FetchHandler.Answer answer) {
            for (int i = 0; i < answer.partitions.size(); i++) {
                List<Object> batches = RecordBatchWriter.write(alloc, answer.entries.get(i), BATCH_BYTES);
                for (Object b : batches) {
                    if (b instanceof ByteBuf buf) {
                        held.add(buf);
                    }
                }
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
            frame.release();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        return frame.parts();
    }

    /**
     * The channel a {@link Send} writes itself to: collects its buffers into composites of direct ones, and the
     * stored batches it is to send from the store's files as file regions between them, in order.
     */
    private static final class Frame implements TransferableChannel {
        final ByteBufAllocator alloc;
        final List<Object> parts = new ArrayList<>(1);
        CompositeByteBuf out;

        Frame(ByteBufAllocator alloc) {
            this.alloc = alloc;
            this.out = alloc.compositeDirectBuffer(Integer.MAX_VALUE);
        }

        /** What to write, in order: composites of buffers and file regions. */
        List<Object> parts() {
            if (out.isReadable()) {
                parts.add(out);
            } else {
                out.release();
            }
            out = null;
            return parts;
        }

        void release() {
            parts.forEach(io.netty.util.ReferenceCountUtil::release);
            if (out != null) {
                out.release();
            }
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
            if (out.isReadable()) {
                parts.add(out);
                out = alloc.compositeDirectBuffer(Integer.MAX_VALUE);
            }
            parts.add(new StoreRegion(fileChannel, position, count));
            return count;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /**
     * A region of one of the store's files: sent with {@code sendfile}, and, unlike Netty's, it leaves the file open
     * when released (the store owns it).
     */
    private static final class StoreRegion extends io.netty.channel.DefaultFileRegion {
        StoreRegion(FileChannel file, long position, long count) {
            super(file, position, count);
        }

        @Override
        protected void deallocate() {
            // the store's channel: the store closes it
        }
    }

    /**
     * A partition's records as batches in buffers of their own, sent one after the other without a copy, or as their
     * place in the store's files ({@link io.omnibus.core.spi.WireBatch.FileSlice}), sent from there.
     */
    private static final class Batches implements BaseRecords {
        private final List<Object> parts;
        private final int size;

        Batches(List<Object> parts) {
            this.parts = parts;
            int n = 0;
            for (Object p : parts) {
                n += length(p);
            }
            this.size = n;
        }

        /** The bytes of a part: a buffer's readable ones, or a file slice's. */
        private static int length(Object part) {
            return part instanceof ByteBuf b ? b.readableBytes() : ((FileSlice) part).length();
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
                    for (Object p : parts) {
                        int n = length(p);
                        if (skip >= n) {
                            skip -= n;
                            continue;
                        }
                        int w = p instanceof ByteBuf b ? channel.write(b.nioBuffer(b.readerIndex() + skip, n - skip))
                                : (int) channel.transferFrom(((FileSlice) p).channel(), ((FileSlice) p).position() + skip,
                                n - skip);
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
