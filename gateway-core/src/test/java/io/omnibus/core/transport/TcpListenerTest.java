package io.omnibus.core.transport;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

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
}
