package io.omnibus.server;

import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.ConsumerSpec;
import io.omnibus.core.spi.Connections;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.spi.ProtocolAdapterFactory;
import io.omnibus.core.spi.SubscriptionSpec;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test-only protocol, "line", to prove the SPI wiring end to end without a real adapter:
 * {@code PUB address payload} answers {@code OK offset} once stored, {@code SUB name filter}
 * streams {@code MSG address payload} lines. Found by ServiceLoader from test-classes.
 */
public final class LineAdapterFactory implements ProtocolAdapterFactory<LineAdapterFactory.Config> {
    record Config(String host, int port) {
    }

    @Override
    public String protocol() {
        return "line";
    }

    @Override
    public Config configure(ConfigSection section) {
        section.requireOnly(Set.of("host", "port"));
        return new Config(section.getString("host", "127.0.0.1"), section.getPort("port", 0));
    }

    @Override
    public ProtocolAdapter create(AdapterContext context, Config config) {
        return new LineAdapter(context, config);
    }

    private static final class LineAdapter implements ProtocolAdapter {
        private final AdapterContext ctx;
        private final Config config;
        private final AtomicLong ids = new AtomicLong();
        private NetServer server;

        LineAdapter(AdapterContext ctx, Config config) {
            this.ctx = ctx;
            this.config = config;
        }

        @Override
        public Future<Void> start() {
            server = ctx.vertx().createNetServer().connectHandler(this::connected);
            return server.listen(config.port(), config.host()).mapEmpty();
        }

        @Override
        public Future<Void> stop() {
            return server == null ? Future.succeededFuture() : server.close();
        }

        @Override
        public Map<String, Object> status() {
            return server == null ? Map.of() : Map.of("port", server.actualPort());
        }

        private void connected(NetSocket socket) {
            String id = "line-" + ids.incrementAndGet();
            Origin origin = new Origin("line", id, id);
            long connectedAt = System.currentTimeMillis();
            Connections.Connection reg = new Connections.Connection() {
                @Override
                public String protocol() {
                    return "line";
                }

                @Override
                public ConnectionInfo info() {
                    return new ConnectionInfo("line", id, id, socket.remoteAddress().toString(), null, connectedAt);
                }

                @Override
                public void disconnect() {
                    socket.close();
                }

                @Override
                public io.vertx.core.Future<Integer> inFlight() {
                    return io.vertx.core.Future.succeededFuture(0);
                }
            };
            ctx.connections().opened(reg);
            java.util.List<Runnable> onClose = new java.util.ArrayList<>();
            onClose.add(() -> ctx.connections().closed(reg));
            socket.closeHandler(v -> onClose.forEach(Runnable::run));
            socket.handler(RecordParser.newDelimited("\n", line -> handle(socket, origin, onClose, line.toString().trim())));
        }

        private void handle(NetSocket socket, Origin origin, java.util.List<Runnable> onClose, String line) {
            String[] parts = line.split(" ", 3);
            if (parts.length == 3 && parts[0].equals("PUB")) {
                Envelope e;
                try {
                    e = Envelope.builder(parts[1]).payload(parts[2]).origin(origin).build();
                } catch (IllegalArgumentException ex) {
                    socket.write("ERR INVALID_ADDRESS " + ex.getMessage() + "\n");
                    return;
                }
                ctx.broker().publish(e).onComplete(ar -> socket.write(ar.succeeded()
                        ? "OK " + ar.result().offset() + "\n"
                        : "ERR " + (ar.cause() instanceof BrokerException b ? b.reason() : "ERROR") + " "
                        + ar.cause().getMessage() + "\n"));
            } else if (parts.length == 3 && parts[0].equals("SUB")) {
                ctx.broker().subscribe(SubscriptionSpec.of(parts[1], parts[2]))
                        .compose(sub -> sub.attach(new ConsumerSpec(origin, d -> socket.write(Buffer.buffer(
                                "MSG " + d.envelope().address() + " " + d.envelope().payloadAsString() + "\n")), 1000, true)))
                        .onComplete(ar -> {
                            if (ar.succeeded()) {
                                onClose.add(ar.result()::close);
                                socket.write("SUBSCRIBED " + parts[1] + "\n");
                            } else {
                                socket.write("ERR " + ar.cause().getMessage() + "\n");
                            }
                        });
            } else {
                socket.write("ERR unknown command\n");
            }
        }
    }
}
