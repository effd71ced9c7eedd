package io.omnibus.amqp;

import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.transport.TcpListener;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The AMQP listener and what outlives one connection: the consumers of volatile shared subscriptions
 * (the subscription goes with its last consumer) and the connections, for shutdown.
 */
final class AmqpServer implements ProtocolAdapter {
    static final Logger LOG = LoggerFactory.getLogger(AmqpServer.class);

    final AdapterContext ctx;
    final AmqpConfig config;
    final AtomicInteger connectionCount = new AtomicInteger();
    final Set<AmqpConnection> connections = ConcurrentHashMap.newKeySet();
    /** Consumers attached to each non-durable shared subscription, by subscription name. */
    final ConcurrentHashMap<String, Integer> volatileShared = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private TcpListener listener;

    AmqpServer(AdapterContext ctx, AmqpConfig config) {
        this.ctx = ctx;
        this.config = config;
    }

    @Override
    public Future<Void> start() {
        return TcpListener.bind(ctx.vertx(), config.host(), config.port(), (ch, context) -> {
            AmqpConnection c = new AmqpConnection(this, ch, context, "amqp-" + ids.incrementAndGet());
            ch.pipeline().addLast("amqp", c);
        }).map(l -> {
            listener = l;
            return null;
        });
    }

    @Override
    public Future<Void> stop() {
        if (listener == null) {
            return Future.succeededFuture();
        }
        return listener.close().onComplete(ar -> connections.forEach(AmqpConnection::shutdown));
    }

    @Override
    public Map<String, Object> status() {
        return listener == null ? Map.of() : Map.of("port", listener.port());
    }
}
