package io.omnibus.core.transport;

import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TcpListenerTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    @SuppressWarnings("deprecation")
    void acceptedChannelsReadUpTo16TimesATurnAsNettysOwnDefault() throws Exception {
        CompletableFuture<Integer> reads = new CompletableFuture<>();
        TcpListener listener = TcpListener.bind(vertx, "127.0.0.1", 0,
                (ch, context) -> reads.complete(ch.config().getMaxMessagesPerRead()))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
            // the shared read-size allocator must not lower what Netty gives a channel of its own (16, not 1)
            assertThat(reads.get(10, TimeUnit.SECONDS)).isEqualTo(16);
        } finally {
            listener.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void acceptedEpollChannelsShareTheirLocalAddressAndTheirPeersHost() throws Exception {
        assumeTrue(Epoll.isAvailable(), "no native epoll here");
        // one event loop: the channels share with the one accepted before them on the same loop
        Vertx epoll = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
        LinkedBlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
        List<Socket> clients = new ArrayList<>();
        try {
            TcpListener listener = TcpListener.bind(epoll, "127.0.0.1", 0, (ch, context) -> accepted.add(ch))
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            List<Channel> channels = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                clients.add(new Socket(InetAddress.getLoopbackAddress(), listener.port()));
                channels.add(accepted.poll(10, TimeUnit.SECONDS));
            }
            assertThat(channels.get(0)).isInstanceOf(EpollSocketChannel.class);
            for (int i = 0; i < 3; i++) {
                Channel ch = channels.get(i);
                InetSocketAddress local = (InetSocketAddress) ch.localAddress();
                InetSocketAddress remote = (InetSocketAddress) ch.remoteAddress();
                // what each client sees, from the channel's side: the values are the channel's own
                assertThat(local).isEqualTo(clients.get(i).getRemoteSocketAddress());
                assertThat(remote).isEqualTo(clients.get(i).getLocalSocketAddress());
                // the objects are the first channel's: one local address, one peer host under each peer port
                assertThat(local).isSameAs(channels.get(0).localAddress());
                assertThat(remote.getAddress())
                        .isSameAs(((InetSocketAddress) channels.get(0).remoteAddress()).getAddress());
            }
            listener.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            for (Socket s : clients) {
                s.close();
            }
            epoll.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anIdleEpollChannelReadsOnAfterDroppingItsReadHandles() throws Exception {
        assumeTrue(Epoll.isAvailable(), "no native epoll here");
        Vertx epoll = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
        LinkedBlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<String> read = new LinkedBlockingQueue<>();
        List<Socket> clients = new ArrayList<>();
        try {
            TcpListener listener = TcpListener.bind(epoll, "127.0.0.1", 0, (ch, context) -> {
                ch.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                        io.netty.buffer.ByteBuf bytes = (io.netty.buffer.ByteBuf) msg;
                        read.add(bytes.toString(java.nio.charset.StandardCharsets.US_ASCII));
                        bytes.release();
                    }
                });
                accepted.add(ch);
            }).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            clients.add(new Socket(InetAddress.getLoopbackAddress(), listener.port()));
            Channel ch = accepted.poll(10, TimeUnit.SECONDS);
            assertThat(ch).isInstanceOf(EpollSocketChannel.class);

            clients.get(0).getOutputStream().write('a');
            assertThat(read.poll(10, TimeUnit.SECONDS)).isEqualTo("a");
            assertThat(ch.eventLoop().submit(() -> ReadHandles.held(ch)).get()).isTrue();
            ReadHandles.forget(ch); // off its event loop: left alone
            assertThat(ch.eventLoop().submit(() -> ReadHandles.held(ch)).get()).isTrue();
            ch.eventLoop().submit(() -> ReadHandles.forget(ch)).get();
            assertThat(ch.eventLoop().submit(() -> ReadHandles.held(ch)).get()).isFalse();
            // the next read makes new handles and reads what came
            clients.get(0).getOutputStream().write("bc".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            StringBuilder after = new StringBuilder();
            while (after.length() < 2) {
                after.append(read.poll(10, TimeUnit.SECONDS));
            }
            assertThat(after.toString()).isEqualTo("bc");
            assertThat(ch.eventLoop().submit(() -> ReadHandles.held(ch)).get()).isTrue();
            listener.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            for (Socket s : clients) {
                s.close();
            }
            epoll.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
