package io.omnibus.core.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP port served on the gateway's Vert.x event loops, for adapters whose codec is a Netty pipeline. Each
 * accepted channel gets the Vert.x context of its event loop (one per loop, shared by its connections), so
 * the connection's state, its pipeline and the broker's answers all run on that one thread.
 */
public final class TcpListener {
    /** Sets up an accepted channel's pipeline; runs on the channel's event loop, which {@code context} wraps. */
    @FunctionalInterface
    public interface ChannelSetup {
        void init(Channel channel, ContextInternal context);
    }

    /**
     * What a listener keeps per event loop: the context of its channels there (one per loop, shared by its
     * connections), and the addresses it accepted there last ({@link SharedAddresses}, used on that loop only).
     */
    private record Loop(ContextInternal context, SharedAddresses addresses) {
    }

    private final Channel channel;

    private TcpListener(Channel channel) {
        this.channel = channel;
    }

    /** How reads size their buffers: Netty's adaptive sizing, in 24 bytes per channel ({@link LoopReadSizes}). */
    private static final io.netty.channel.RecvByteBufAllocator RECEIVE_BUFFERS = new LoopReadSizes();

    /** Bytes a connection may have written but not yet sent before it counts as backed up (Netty's own default). */
    public static final int DEFAULT_WRITE_BUFFER = 64 * 1024;

    public static Future<TcpListener> bind(Vertx vertx, String host, int port, ChannelSetup setup) {
        return bind(vertx, host, port, null, false, DEFAULT_WRITE_BUFFER, null, "tcp", setup);
    }

    /**
     * With {@code tls} not null, every accepted channel speaks TLS first ({@link Tls#newHandler}); with
     * {@code loopbackOnly}, a client not on a loopback address is closed as soon as it is accepted. A channel with
     * more than {@code writeBuffer} bytes written and not yet sent is not writable (its adapter stops writing to it)
     * until half of them went out: a larger buffer rides out a reader's pauses with fewer stops, a smaller one holds
     * less memory for each client that does not read. A connection from one of {@code proxies} (null: none) may
     * start with a PROXY header ({@link ProxyProtocol}): the checks and the pipeline wait for it, and see the client
     * it names; {@code name} says whose listener it is in the log.
     */
    public static Future<TcpListener> bind(Vertx vertx, String host, int port, Tls tls, boolean loopbackOnly,
                                           int writeBuffer, ProxyProtocol.Sources proxies, String name,
                                           ChannelSetup setup) {
        VertxInternal vx = (VertxInternal) vertx;
        ConcurrentHashMap<EventLoop, Loop> loops = new ConcurrentHashMap<>();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(vx.acceptorEventLoopGroup(), vx.nettyEventLoopGroup())
                .channelFactory(vx.transport().serverChannelFactory(false))
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // one allocator for all the channels, and per channel only the size its reads take (LoopReadSizes):
                // Netty would make an allocator and a 112-byte handle per channel, which an idle connection keeps
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_BUFFERS)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new io.netty.channel.WriteBufferWaterMark(writeBuffer / 2, writeBuffer))
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        loop(ch).addresses().share(ch); // before anything reads the channel's addresses
                        if (proxies != null && proxies.trusts(ch.remoteAddress())) {
                            ch.pipeline().addLast("proxy-header", new ProxyProtocol.Header(name, this::accepted));
                        } else {
                            accepted(ch);
                        }
                    }

                    /** What this listener keeps for the channel's event loop, made with its first channel. */
                    private Loop loop(Channel ch) {
                        return loops.computeIfAbsent(ch.eventLoop(), loop -> new Loop(vx.contextBuilder()
                                .withEventLoop(loop).withThreadingModel(ThreadingModel.EVENT_LOOP).build(),
                                new SharedAddresses()));
                    }

                    /** The listener's checks on the client (as a trusted proxy named it) and the pipeline. */
                    private void accepted(Channel ch) {
                        java.net.SocketAddress client = ProxyProtocol.clientAddress(ch);
                        if (loopbackOnly && !Listeners.loopback(client)) {
                            Listeners.refusedRemote(client, port);
                            ch.close();
                            return;
                        }
                        ContextInternal context = loop(ch).context();
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch, ch.alloc()));
                        }
                        setup.init(ch, context);
                    }
                });
        Promise<TcpListener> bound = Promise.promise();
        bootstrap.bind(host, port).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                bound.complete(new TcpListener(f.channel()));
            } else {
                bound.fail(f.cause());
            }
        });
        return bound.future();
    }

    /** The port bound (the one chosen, when 0 was asked for). */
    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Stops accepting; connections already accepted stay open. */
    public Future<Void> close() {
        Promise<Void> closed = Promise.promise();
        channel.close().addListener(f -> closed.complete());
        return closed.future();
    }
}
