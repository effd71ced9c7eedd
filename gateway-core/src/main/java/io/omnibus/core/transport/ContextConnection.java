package io.omnibus.core.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.internal.ContextInternal;

/**
 * The last handler of a framed connection's pipeline, handing every Netty event to the connection's Vert.x
 * context, where all of its state lives: the channel becoming active, each frame, writability changes and the
 * close. A frame larger than the frame decoder allows, or any other pipeline error, closes the channel. It is
 * also what the connection registry lists (the subclass says what is shown).
 */
public abstract class ContextConnection extends ChannelInboundHandlerAdapter
        implements io.omnibus.core.spi.Connections.Connection {
    protected final Channel channel;
    protected final ContextInternal context;

    protected ContextConnection(Channel channel, ContextInternal context) {
        this.channel = channel;
        this.context = context;
    }

    /** Since when the connection is registered (epoch millis); 0 until {@link #register}. */
    protected long connectedAt;

    /** Lists this connection in {@code registry} from now on (once it is admitted). */
    protected final void register(io.omnibus.core.spi.Connections registry) {
        connectedAt = System.currentTimeMillis();
        registry.opened(this);
    }

    /** Whether {@link #register} ran: a connection refused before it has nothing to undo when it closes. */
    protected final boolean registered() {
        return connectedAt != 0;
    }

    /** The operator's disconnect (the admin API) closes the channel: the framed protocols here have no goodbye of their own. */
    @Override
    public void disconnect() {
        channel.close();
    }

    @Override
    public io.vertx.core.Future<Integer> inFlight() {
        io.vertx.core.Promise<Integer> n = io.vertx.core.Promise.promise();
        context.runOnContext(v -> n.complete(inFlightCount()));
        return n.future();
    }

    /** What {@link #inFlight} counts, on the connection's context. */
    protected abstract int inFlightCount();

    /** The channel is open. */
    protected abstract void start();

    /** One frame; the callee releases it. */
    protected abstract void onFrame(ByteBuf frame);

    /** The channel closed, for whatever reason. */
    protected abstract void onClosed();

    /** Writability changed: reading may stop or resume. */
    protected abstract void updateAutoRead();

    /** A frame was larger than the frame decoder's limit (on the event loop); the channel closes next. */
    protected abstract void frameTooLong();

    /** Another pipeline error (on the event loop); the channel closes next. */
    protected abstract void pipelineError(Throwable cause);

    @Override
    public final void channelActive(ChannelHandlerContext ctx) {
        context.emit(null, v -> start());
    }

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        context.emit((ByteBuf) msg, this::onFrame);
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) {
        context.emit(null, v -> onClosed());
    }

    @Override
    public final void channelWritabilityChanged(ChannelHandlerContext ctx) {
        context.emit(null, v -> updateAutoRead());
    }

    @Override
    public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            frameTooLong();
        } else {
            pipelineError(cause);
        }
        channel.close();
    }
}
