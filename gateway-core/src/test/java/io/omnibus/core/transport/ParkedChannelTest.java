package io.omnibus.core.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.Epoll;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ParkedChannelTest {
    private Vertx epoll;
    private TcpListener listener;
    private final LinkedBlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<String> read = new LinkedBlockingQueue<>();
    private final Reader reader = new Reader();

    /** Records what it reads, and on which channel; moves with the socket. */
    private final class Reader extends ChannelInboundHandlerAdapter {
        volatile Channel last;

        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            last = ctx.channel();
            ByteBuf bytes = (ByteBuf) msg;
            read.add(bytes.toString(StandardCharsets.US_ASCII));
            bytes.release();
        }
    }

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Epoll.isAvailable(), "no native epoll here");
        epoll = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
        listener = TcpListener.bind(epoll, "127.0.0.1", 0, (ch, context) -> {
            ch.pipeline().addLast("reader", reader);
            accepted.add(ch);
        }).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        if (epoll != null) {
            listener.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            epoll.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static <T> T on(Channel ch, java.util.concurrent.Callable<T> task) throws Exception {
        return ch.eventLoop().submit(task).get(10, TimeUnit.SECONDS);
    }

    /** Parks {@code ch} on its loop: the parked socket, or null when it stayed a channel. */
    private ParkedChannel park(Channel ch, boolean stillIdle, ParkedChannel.Waker wake) throws Exception {
        CompletableFuture<ParkedChannel> result = new CompletableFuture<>();
        ch.eventLoop().execute(() -> {
            assertThat(ParkedChannel.parkable(ch)).isTrue();
            ParkedChannel.park(ch, () -> stillIdle, wake, result::complete);
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aParkedSocketComesBackAsANewChannelWithItsAddressesAndReadsWhatCameMeanwhile() throws Exception {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
            Channel first = accepted.poll(10, TimeUnit.SECONDS);
            long parkedBefore = ParkedChannel.parkedNow();
            AtomicReference<ParkedChannel> parkedRef = new AtomicReference<>();
            CompletableFuture<Channel> woken = new CompletableFuture<>();
            ParkedChannel parked = park(first, true, () -> woken.complete(parkedRef.get().unpark("reader", reader)));
            parkedRef.set(parked);
            assertThat(parked).isNotNull();
            assertThat(ParkedChannel.parkedNow()).isEqualTo(parkedBefore + 1);
            assertThat(first.isRegistered()).as("the first channel left the event loop").isFalse();
            assertThat(parked.clientAddress()).isEqualTo(client.getLocalSocketAddress());

            client.getOutputStream().write("ab".getBytes(StandardCharsets.US_ASCII));
            Channel second = woken.get(10, TimeUnit.SECONDS);
            assertThat(read.poll(10, TimeUnit.SECONDS)).isEqualTo("ab");
            assertThat(reader.last).isSameAs(second).isNotSameAs(first);
            assertThat(ParkedChannel.parkedNow()).isEqualTo(parkedBefore);
            // the listener's (shared) local address object; the peer's, kept packed while parked, equal
            assertThat(second.localAddress()).isSameAs(first.localAddress());
            assertThat(second.remoteAddress()).isEqualTo(first.remoteAddress());
            assertThat(on(second, () -> second.config().getWriteBufferWaterMark()))
                    .isSameAs(first.config().getWriteBufferWaterMark());

            // the server writes on the new channel; then closes it, and the client sees its end
            second.writeAndFlush(Unpooled.copiedBuffer("cd", StandardCharsets.US_ASCII)).get(10, TimeUnit.SECONDS);
            InputStream in = client.getInputStream();
            client.setSoTimeout(10_000);
            assertThat(new String(in.readNBytes(2), StandardCharsets.US_ASCII)).isEqualTo("cd");
            second.close().get(10, TimeUnit.SECONDS);
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void theServerUnparksASocketToWriteToIt() throws Exception {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
            Channel first = accepted.poll(10, TimeUnit.SECONDS);
            ParkedChannel parked = park(first, true, () -> { });
            Channel second = on(first, () -> parked.unpark("reader", reader));
            second.writeAndFlush(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII)).get(10, TimeUnit.SECONDS);
            client.setSoTimeout(10_000);
            assertThat(client.getInputStream().read()).isEqualTo('x');
            client.getOutputStream().write('y');
            assertThat(read.poll(10, TimeUnit.SECONDS)).isEqualTo("y");
        }
    }

    @Test
    void aChannelThatIsNoLongerIdleOnceOffTheLoopIsRegisteredAgainAsItWas() throws Exception {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
            Channel ch = accepted.poll(10, TimeUnit.SECONDS);
            assertThat(park(ch, false, () -> { })).isNull();
            assertThat(on(ch, ch::isRegistered)).isTrue();
            client.getOutputStream().write('z');
            assertThat(read.poll(10, TimeUnit.SECONDS)).isEqualTo("z");
            assertThat(reader.last).isSameAs(ch);
        }
    }

    /**
     * A write the socket cannot take at once, made after the park started and before Netty took the channel off the
     * event loop: the channel stays, and the rest of the write still goes out as the client reads (Netty's
     * deregistration dropped the channel's wait for the socket to take more).
     */
    @Test
    void aWriteMadeWhileTheParkIsUnderWayCallsItOffAndGoesOutWhole() throws Exception {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
            Channel ch = accepted.poll(10, TimeUnit.SECONDS);
            int size = 16 << 20; // far more than loopback's socket buffers
            CompletableFuture<ParkedChannel> result = new CompletableFuture<>();
            ch.eventLoop().execute(() -> {
                ParkedChannel.park(ch, () -> true, () -> { }, result::complete);
                ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[size])); // before the deregistration's task
            });
            assertThat(result.get(10, TimeUnit.SECONDS)).as("called off").isNull();
            client.setSoTimeout(10_000);
            assertThat(client.getInputStream().readNBytes(size)).hasSize(size);
            client.getOutputStream().write('w');
            assertThat(read.poll(10, TimeUnit.SECONDS)).isEqualTo("w");
        }
    }

    @Test
    void aPeerThatClosesWhileParkedWakesItsOwnerWithAChannelThatEnds() throws Exception {
        Channel second;
        CompletableFuture<Channel> woken = new CompletableFuture<>();
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
            Channel first = accepted.poll(10, TimeUnit.SECONDS);
            AtomicReference<ParkedChannel> parkedRef = new AtomicReference<>();
            parkedRef.set(park(first, true, () -> woken.complete(parkedRef.get().unpark("reader", reader))));
            client.setSoLinger(true, 0); // a reset
        }
        second = woken.get(10, TimeUnit.SECONDS);
        second.closeFuture().get(10, TimeUnit.SECONDS);
        assertThat(second.isOpen()).isFalse();
    }
}
