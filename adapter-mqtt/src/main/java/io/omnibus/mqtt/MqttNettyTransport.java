package io.omnibus.mqtt;

import io.omnibus.core.transport.ProxyProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.vertx.core.Future;
import io.vertx.core.net.SocketAddress;

/**
 * MQTT over TCP on a plain Netty channel (on Vert.x's event loops): no Vert.x socket in between,
 * which costs several KiB per connection that idle IoT devices would pay for nothing. The pipeline is the
 * decoder and this handler, which encodes what it writes with netty-codec-mqtt's (shared) encoder itself: a
 * handler of its own would cost every connection another context.
 */
final class MqttNettyTransport extends io.netty.channel.ChannelDuplexHandler
        implements MqttTransport, Runnable, io.omnibus.core.transport.ParkedChannel.Waker {
    /** The decoder's name in the pipeline, in front of this handler. */
    static final String DECODER = "mqttDecoder";
    /** Where netty-codec-mqtt keeps the protocol level CONNECT gave (its own key, found by its name). */
    private static final io.netty.util.AttributeKey<io.netty.handler.codec.mqtt.MqttVersion> VERSION =
            io.netty.util.AttributeKey.valueOf("NETTY_CODEC_MQTT_VERSION");

    /**
     * The connection's channel; null while it is parked ({@link #parked}). Volatile, as {@link #parked}: the
     * registry's listing reads the client's address from another thread.
     */
    private volatile io.netty.channel.Channel channel;
    /** The socket, parked while the connection idles ({@link #swept}); null while it has a channel. */
    private volatile io.omnibus.core.transport.ParkedChannel parked;
    /** Being parked: Netty takes the channel off its event loop in a task of its own, then this goes on. */
    private boolean parking;
    /** Sweeps in a row that found nothing read or written since the one before. */
    private int quietSweeps;
    private final io.vertx.core.internal.ContextInternal context;
    /** Makes the decoder (the server's settings), again when bytes arrive after {@link #swept} dropped it. */
    private final MqttDecoders decoders;
    private MqttTransport.Events events;
    private boolean reading;
    /** The decoder is in the pipeline; false while an idle connection is without it. */
    private boolean decoding = true;
    /** Something was read since the keep-alive sweep last came by. */
    private boolean readSinceSweep;
    /** Something was written since the keep-alive sweep last came by. */
    private boolean wroteSinceSweep;
    private boolean needsFlush;
    /** Packets decoded in the read under way, or null: handed over at its end ({@link #handOver}). */
    private java.util.List<Object> inbound;
    /** A flush is queued on the event loop, behind the tasks that may write more (see {@link #written}). */
    private boolean flushQueued;
    /** The connection speaks MQTT 5 (CONNECT said so). */
    private boolean v5;
    /**
     * The protocol level netty-codec-mqtt's channel attribute held when {@link #swept} removed it (its decoder and
     * its encoder read it there; absent, they take 3.1.1), or null: the attribute is as the codec left it. Put
     * back before the codec decodes or encodes again.
     */
    private io.netty.handler.codec.mqtt.MqttVersion versionPutAway;
    /**
     * Packets {@link MqttWire} encoded and not yet written to the channel, or null: a run of deliveries and
     * acknowledgements goes to the socket as one buffer (one outbound entry, one pipeline pass), not one each.
     * On the channel's event loop only, as everything here.
     */
    private ByteBuf coalesced;

    MqttNettyTransport(io.netty.channel.Channel channel, io.vertx.core.internal.ContextInternal context,
          MqttDecoders decoders) {
        this.channel = channel;
        this.context = context;
        this.decoders = decoders;
        channel.pipeline().addLast(DECODER, decoders.make());
        channel.pipeline().addLast("mqtt", this);
    }

    /**
     * What one coalescing buffer holds (a packet larger than this gets one of its own size). A full one is written
     * and flushed at once, so the channel's write-buffer water marks, which say when the socket is full, see all
     * but this much of what waits, and the client starts on a long run before its end is encoded.
     */
    static final int COALESCE_BYTES = 8 * 1024;

    /** The handler moves to the socket's next channel when it is unparked: in one pipeline at a time. */
    @Override
    public boolean isSharable() {
        return true;
    }

    /**
     * The connection's channel, unparked first if it is parked (on the event loop, as everything that writes or
     * closes): whatever the connection does with its socket goes on as before. A socket its peer reset while it was
     * parked comes back closed, and the connection is told so here (Netty tells the pipeline nothing of a channel
     * that was never active).
     */
    private io.netty.channel.Channel live() {
        parking = false;
        io.omnibus.core.transport.ParkedChannel p = parked;
        if (p == null) {
            return channel;
        }
        io.netty.channel.Channel ch = p.unpark("mqtt", this);
        channel = ch;
        parked = null;
        if (!ch.isActive()) {
            // after the write or close under way, as Netty tells a pipeline of a close (never from inside a call)
            context.nettyEventLoop().execute(() -> {
                releaseCoalesced();
                context.emit(null, v -> events.closed());
            });
        }
        return ch;
    }

    /** The parked socket has bytes, or its client's close, for the connection: a channel again. */
    @Override
    public void wake() {
        live();
    }

    /** Whether the socket is parked now (on the event loop); for tests. */
    boolean isParked() throws Exception {
        return context.nettyEventLoop().submit(() -> parked != null).get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Override
    public void start(MqttTransport.Events events) {
        this.events = events;
    }

    @Override
    public void version5(boolean v5) {
        this.v5 = v5;
    }

    @Override
    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf bytes) { // bytes, not packets: the decoder was dropped while it idled
            versionBack();
            MqttDecoder decoder = decoders.make();
            ctx.pipeline().addBefore(ctx.name(), DECODER, decoder);
            decoding = true;
            readSinceSweep = true; // a packet it held in part: not dropped again at the next sweep
            decoder.channelRead(ctx.pipeline().context(decoder), bytes); // its packets come back here
            return;
        }
        reading = true;
        readSinceSweep = true;
        if (inbound == null) {
            inbound = new java.util.ArrayList<>(4);
            // the read's end hands them over; should a handler in front keep that event to itself, this does
            context.nettyEventLoop().execute(this::handOver);
        }
        inbound.add(msg);
    }

    /**
     * The packets of a read go to the connection together at its end, on its context: one dispatch (the context
     * switch and Vert.x's clock reading for its blocked-thread check) per read, not per packet. A profile of MQTT
     * fan-in showed 3.8 % of the gateway's CPU in that clock reading.
     */
    private void handOver() {
        java.util.List<Object> packets = inbound;
        if (packets != null) {
            inbound = null;
            context.emit(packets, this::handle);
        }
    }

    private void handle(java.util.List<Object> packets) {
        for (Object packet : packets) {
            try {
                events.handle(packet);
            } catch (RuntimeException e) { // one packet's failure does not drop the ones behind it
                context.reportException(e);
            }
        }
        events.handledRead();
    }

    /**
     * Whether the decoder is in the pipeline (false while an idle connection is without it), read on the channel's
     * event loop; for tests.
     */
    boolean decoding() throws Exception {
        return context.nettyEventLoop().submit(() -> decoding).get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * A connection that read nothing since the sweep last came by (0.5 to 1 s) drops its decoder, about 200 bytes
     * with its pipeline context, its replay buffer and its UTF-8 decoder, and Netty's read handles
     * ({@link io.omnibus.core.transport.ReadHandles#forget}): most of an idle device's time is spent
     * between packets. Bytes that arrive later make a new one (the MQTT version the decoders need is the
     * channel's).
     * Only between packets: a decoder that took a packet's fixed header apart keeps it in its own fields, so it is
     * dropped only while it waits for a fixed header, when what it holds (part of one) comes back to
     * {@link #channelRead} as bytes, whole, for the next decoder.
     */
    @Override
    public void swept() {
        io.netty.channel.Channel ch = channel;
        if (ch == null || parking) {
            return; // parked, or about to be
        }
        if (decoding && !readSinceSweep && !reading && betweenPackets(ch.pipeline().get(DECODER))) {
            decoding = false;
            decoders.dropped();
            ch.pipeline().remove(DECODER);
        }
        if (!decoding) {
            putVersionAway(); // again after a write the codec encoded put it back
            // and Netty's read handles, 88 bytes: made again by the next read (this runs between reads)
            io.omnibus.core.transport.ReadHandles.forget(ch);
        }
        boolean quiet = !decoding && !readSinceSweep && !wroteSinceSweep;
        quietSweeps = quiet ? Math.min(quietSweeps + 1, Integer.MAX_VALUE - 1) : 0;
        readSinceSweep = false;
        wroteSinceSweep = false;
        if (decoders.parkAfterSweeps > 0 && quietSweeps >= decoders.parkAfterSweeps && mayPark()
                && ch.pipeline().first() == this && ch.pipeline().last() == this
                && io.omnibus.core.transport.ParkedChannel.parkable(ch)) {
            park(ch);
        }
    }

    /**
     * Nothing half read or half written here: no packets waiting to be handed over, no encoded ones not yet
     * written, no flush queued, no read under way, no decoder (dropped between packets), nothing read or written
     * since the last sweep.
     */
    private boolean mayPark() {
        return !decoding && !reading && inbound == null && coalesced == null && !flushQueued && !readSinceSweep
                && !wroteSinceSweep;
    }

    /**
     * Parks the socket of a connection that has been quiet for {@code mqtt.park-idle-after}: the channel (Netty's
     * part of an idle connection's memory, about 1 KB) is let go, the socket stays open and watched on the same
     * event loop ({@link io.omnibus.core.transport.ParkedChannel}). Bytes from the client, its close, or anything
     * the connection writes or closes makes a new channel on it ({@link #live}). Plain TCP only: a TLS, WebSocket
     * or PROXY-header handler in the pipeline keeps the channel.
     */
    private void park(io.netty.channel.Channel ch) {
        parking = true;
        io.omnibus.core.transport.ParkedChannel.park(ch, () -> parking && mayPark(), this, p -> {
            if (p != null) {
                parked = p; // before the channel is let go: the listing reads them in the other order
                channel = null;
            } else {
                quietSweeps = 0; // not idle after all, or not parkable: tried again after another quiet spell
            }
            parking = false;
        });
    }

    /**
     * Removes the codec's channel attribute while the decoder is away: the attribute and the channel's array
     * that holds it are 48 bytes an idle connection keeps for nothing.
     */
    @SuppressWarnings("deprecation") // remove() is what takes the attribute out of the channel's map
    private void putVersionAway() {
        if (channel.hasAttr(VERSION)) {
            io.netty.util.Attribute<io.netty.handler.codec.mqtt.MqttVersion> attribute = channel.attr(VERSION);
            io.netty.handler.codec.mqtt.MqttVersion version = attribute.get();
            if (version != null) {
                versionPutAway = version;
            }
            attribute.remove();
        }
    }

    /** Puts the codec's attribute back before it decodes or encodes. */
    private void versionBack() {
        if (versionPutAway != null) {
            channel.attr(VERSION).set(versionPutAway);
            versionPutAway = null;
        }
    }

    @Override
    public void channelReadComplete(io.netty.channel.ChannelHandlerContext ctx) {
        handOver(); // while reading: what the packets make the connection write goes out with one flush
        reading = false;
        if (needsFlush) {
            needsFlush = false;
            writeCoalesced();
            channel.flush(); // replies written while reading go out together
        }
    }

    @Override
    public void channelInactive(io.netty.channel.ChannelHandlerContext ctx) {
        handOver(); // packets decoded from the last bytes come before the close
        releaseCoalesced();
        context.emit(null, v -> events.closed());
    }

    @Override
    public void channelWritabilityChanged(io.netty.channel.ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            context.emit(null, v -> events.drained());
        }
    }

    @Override
    public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise)
            throws Exception {
        if (msg instanceof ByteBuf) {
            ctx.write(msg, promise); // packets encoded already (coalesced)
        } else {
            versionBack();
            MqttEncoder.INSTANCE.write(ctx, msg, promise); // encodes, then writes on from this handler
        }
    }

    @Override
    public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
        MqttServer.LOG.debug("mqtt socket {}: {}", ProxyProtocol.clientAddress(ctx.channel()), cause.toString());
        ctx.channel().close();
    }

    /**
     * Flushes once for a run of writes: while reading, at the end of the read; otherwise in a task queued on the
     * event loop, which runs after the tasks already queued there (a run of deliveries handed over together, the
     * store's answers to a run of publishes), so they leave in one system call instead of one each.
     */
    private void written() {
        wroteSinceSweep = true;
        if (reading) {
            needsFlush = true;
        } else if (!flushQueued) {
            flushQueued = true;
            context.nettyEventLoop().execute(this);
        }
    }

    /**
     * netty-codec-mqtt's decoder is a {@code ReplayingDecoder} whose state says where in a packet it is; the state
     * is protected, so it is read reflectively (looked up once). Where it cannot be, decoders are never dropped.
     */
    private static final java.lang.invoke.MethodHandle DECODER_STATE = decoderState();

    private static java.lang.invoke.MethodHandle decoderState() {
        try {
            java.lang.reflect.Method state =
                    io.netty.handler.codec.ReplayingDecoder.class.getDeclaredMethod("state");
            state.setAccessible(true);
            return java.lang.invoke.MethodHandles.lookup().unreflect(state);
        } catch (ReflectiveOperationException | RuntimeException e) {
            MqttServer.LOG.debug("mqtt: idle connections keep their decoders: {}", e.toString());
            return null;
        }
    }

    /** Whether {@code decoder} waits for a packet's fixed header: none of a packet is in its fields. */
    static boolean betweenPackets(io.netty.channel.ChannelHandler decoder) {
        if (DECODER_STATE == null || !(decoder instanceof MqttDecoder)) {
            return false;
        }
        try {
            Object state = DECODER_STATE.invoke((io.netty.handler.codec.ReplayingDecoder<?>) decoder);
            return state instanceof Enum<?> e && e.name().equals("READ_FIXED_HEADER");
        } catch (Throwable e) {
            return false;
        }
    }

    /** The queued flush. */
    @Override
    public void run() {
        flushQueued = false;
        io.netty.channel.Channel ch = live();
        writeCoalesced();
        ch.flush();
    }

    @Override
    public void send(MqttMessage message) {
        io.netty.channel.Channel channel = live();
        int remaining = MqttWire.remaining(message, v5);
        if (remaining < 0 || !channel.isActive()) {
            writeCoalesced(); // what was sent before it goes first
            channel.write(message, channel.voidPromise());
        } else {
            int size = MqttWire.size(remaining);
            if (coalesced != null && coalesced.writableBytes() < size) {
                // a full buffer leaves at once: the client starts on it while the rest of the run is encoded
                writeCoalesced();
                channel.flush();
            }
            if (coalesced == null) {
                coalesced = channel.alloc().ioBuffer(Math.max(size, COALESCE_BYTES), Math.max(size, COALESCE_BYTES));
            }
            MqttWire.encode(message, v5, remaining, coalesced);
            io.netty.util.ReferenceCountUtil.release(message); // its payload, as the encoder would have
        }
        written();
    }

    /** Hands the coalesced packets to the channel (not flushed). */
    private void writeCoalesced() {
        ByteBuf b = coalesced;
        if (b != null) {
            coalesced = null;
            io.netty.channel.Channel channel = live(); // live already: coalesced bytes keep it from parking
            channel.write(b, channel.voidPromise());
        }
    }

    private void releaseCoalesced() {
        ByteBuf b = coalesced;
        if (b != null) {
            coalesced = null;
            b.release();
        }
    }

    @Override
    public Future<Void> write(MqttMessage message) {
        io.netty.channel.Channel channel = live();
        writeCoalesced();
        io.netty.channel.ChannelFuture f = channel.write(message);
        written();
        io.vertx.core.Promise<Void> done = context.promise();
        f.addListener(x -> {
            if (x.isSuccess()) {
                done.tryComplete();
            } else {
                done.tryFail(x.cause());
            }
        });
        return done.future();
    }

    @Override
    public boolean writeQueueFull() {
        io.netty.channel.Channel ch = channel;
        return ch != null && !ch.isWritable(); // parked: nothing waits to be written
    }

    @Override
    public void pause() {
        live().config().setAutoRead(false);
    }

    @Override
    public void resume() {
        live().config().setAutoRead(true);
    }

    @Override
    public void close() {
        if (!context.nettyEventLoop().inEventLoop()) {
            context.nettyEventLoop().execute(this::close);
            return;
        }
        live().close(); // as with writes not flushed, a coalesced buffer not written yet goes (channelInactive)
    }

    /** From any thread (the registry's listing): the channel's, or the parked socket's. */
    @Override
    public SocketAddress remoteAddress() {
        java.net.SocketAddress client = null;
        for (int i = 0; i < 2 && client == null; i++) { // parked or unparked between the two reads: once more
            io.netty.channel.Channel ch = channel;
            io.omnibus.core.transport.ParkedChannel p = ch == null ? parked : null;
            client = ch != null ? ProxyProtocol.clientAddress(ch) : p != null ? p.clientAddress() : null;
        }
        return client instanceof java.net.InetSocketAddress a ? SocketAddress.inetSocketAddress(a) : null;
    }

    @Override
    public String peerIdentity() {
        io.netty.channel.Channel ch = channel;
        return ch == null ? null : io.omnibus.core.transport.Tls.peerIdentity(ch); // parked: never a TLS one
    }
}
