package io.omnibus.core.transport;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;

import java.nio.ByteOrder;

/**
 * Frames with a 4-byte big-endian length in front (stripped), whose largest size can be lowered for a while: a
 * connection that has not authenticated yet gets a small limit, so a stranger cannot make the gateway buffer a
 * large frame; {@link #limit} raises it once the client is known. Only the channel's event loop touches it.
 */
public final class LengthPrefixedFrames extends LengthFieldBasedFrameDecoder {
    private final int max;
    private int limit;
    private boolean failed;

    public LengthPrefixedFrames(int max, int initialLimit) {
        super(max, 0, 4, 0, 4, true);
        this.max = max;
        this.limit = Math.min(max, initialLimit);
    }

    /** Sets the largest frame accepted from now on (at most the maximum given at construction). */
    public void limit(int bytes) {
        limit = Math.min(max, bytes);
    }

    /** After a frame over the lowered limit, nothing more is decoded (the channel is closing): one failure, once. */
    @Override
    protected Object decode(io.netty.channel.ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return null;
        }
        try {
            return super.decode(ctx, in);
        } catch (TooLongFrameException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    @Override
    protected long getUnadjustedFrameLength(ByteBuf buf, int offset, int length, ByteOrder order) {
        long size = super.getUnadjustedFrameLength(buf, offset, length, order);
        if (size > limit && limit < max) {
            throw new TooLongFrameException("frame of " + size + " bytes before authentication; at most " + limit);
        }
        return size;
    }
}
