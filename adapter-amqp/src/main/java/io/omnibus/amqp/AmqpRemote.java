package io.omnibus.amqp;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.bridge.Remote;
import io.omnibus.core.spi.bridge.RemoteRefusedException;
import io.omnibus.core.spi.bridge.RemoteSpec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonClientOptions;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonDelivery;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Modified;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One bridge's AMQP 1.0 connection (vertx-proton): a sender link per remote address, each message sent unsettled and
 * confirmed by the remote's {@code accepted}; a {@code rejected} outcome, or a link the remote refuses or closes with
 * an error, refuses the message; {@code released} and {@code modified} count as the connection's failure (sent again).
 * Inbound, a receiver with manual credit: one credit back per message stored, accepted then; a message the gateway
 * could not store is {@code modified} with delivery-failed, so the remote delivers it again. Everything runs on the
 * context {@link #connect} was called on.
 */
final class AmqpRemote implements Remote {
    /** A sender link and the sends that wait for its outcome. */
    private static final class Link {
        final ProtonSender sender;
        final List<Promise<Void>> pending = new ArrayList<>();

        Link(ProtonSender sender) {
            this.sender = sender;
        }
    }

    private final Vertx vertx;
    private final RemoteSpec spec;
    private final Origin origin;
    private final Map<String, Link> links = new HashMap<>();
    private Context context;
    private ProtonConnection connection;
    private Consumer<Throwable> lost;
    private boolean closed;

    AmqpRemote(Vertx vertx, RemoteSpec spec) {
        this.vertx = vertx;
        this.spec = spec;
        this.origin = new Origin("amqp", "bridge:" + spec.bridge(), spec.url().toString());
    }

    @Override
    public String protocol() {
        return "amqp";
    }

    @Override
    public Future<Void> connect(Consumer<Throwable> lost) {
        this.lost = lost;
        context = vertx.getOrCreateContext();
        Promise<Void> opened = Promise.promise();
        context.runOnContext(v -> {
            ProtonClientOptions options = new ProtonClientOptions().setConnectTimeout(10_000).setHeartbeat(30_000);
            spec.applyTls(options);
            ProtonClient.create(vertx).connect(options, spec.host(), spec.port(), spec.username(), spec.password(), ar -> {
                if (ar.failed()) {
                    opened.tryFail(ar.cause());
                    return;
                }
                connection = ar.result();
                connection.setContainer(spec.section().getString("container-id", "omnibus-bridge-" + spec.bridge()));
                connection.openHandler(o -> {
                    if (o.succeeded()) {
                        opened.tryComplete();
                    } else {
                        opened.tryFail(o.cause());
                    }
                });
                connection.closeHandler(c -> {
                    Throwable why = failure("the remote closed the connection", connection.getRemoteCondition());
                    opened.tryFail(why);
                    lose(why);
                });
                connection.disconnectHandler(c -> {
                    IOException why = new IOException("connection to " + spec.url() + " lost");
                    opened.tryFail(why);
                    lose(why);
                });
                connection.open();
            });
        });
        return opened.future();
    }

    private void lose(Throwable why) {
        if (closed) {
            return;
        }
        closed = true;
        failAll(why);
        Consumer<Throwable> l = lost;
        lost = null;
        if (l != null) {
            l.accept(why);
        }
    }

    private void failAll(Throwable why) {
        for (Link link : links.values()) {
            link.pending.forEach(p -> p.tryFail(why));
            link.pending.clear();
        }
        links.clear();
    }

    @Override
    public Future<Void> send(String remoteName, Envelope envelope) {
        Promise<Void> done = Promise.promise();
        Remote.on(context, () -> {
            if (closed || connection == null) {
                done.fail(new IOException("not connected"));
                return;
            }
            Link link = links.computeIfAbsent(remoteName, this::openSender);
            Message m = AmqpTranslation.toMessage(envelope, 0, System.currentTimeMillis());
            if (presettled()) { // at most once: done once written, as the settings asked
                link.sender.send(m);
                done.complete();
                return;
            }
            link.pending.add(done);
            link.sender.send(m, delivery -> {
                link.pending.remove(done);
                settle(done, delivery);
            });
        });
        return done.future();
    }

    /** {@code settlement: settled}: transfers go pre-settled (at most once); by default unsettled, confirmed by accepted. */
    private boolean presettled() {
        return "settled".equals(spec.section().getString("settlement", "unsettled"));
    }

    private static void settle(Promise<Void> done, ProtonDelivery delivery) {
        DeliveryState state = delivery.getRemoteState();
        if (state instanceof Accepted) {
            done.tryComplete();
        } else if (state instanceof Rejected r) {
            done.tryFail(new RemoteRefusedException(describe("rejected", r.getError())));
        } else if (state instanceof Modified m && Boolean.TRUE.equals(m.getUndeliverableHere())) {
            done.tryFail(new IOException("the remote cannot take it now (modified, undeliverable-here)"));
        } else {
            done.tryFail(new IOException("the remote did not take it (" + (state == null ? "settled without outcome" : state) + ")"));
        }
    }

    private Link openSender(String address) {
        ProtonSender sender = connection.createSender(address);
        String capability = spec.section().getString("capability", null);
        if (capability != null) {
            // how brokers that keep queues and topics apart (ActiveMQ Artemis) make an address they do not have yet
            ((org.apache.qpid.proton.amqp.messaging.Target) sender.getTarget())
                    .setCapabilities(org.apache.qpid.proton.amqp.Symbol.valueOf(capability));
        }
        if (presettled()) {
            sender.setQoS(io.vertx.proton.ProtonQoS.AT_MOST_ONCE);
        }
        Link link = new Link(sender);
        sender.openHandler(ar -> {
            if (ar.failed() || sender.getRemoteTarget() == null) {
                refuseLink(address, link, sender.getRemoteCondition());
            }
        });
        sender.closeHandler(ar -> refuseLink(address, link, sender.getRemoteCondition()));
        sender.open();
        return link;
    }

    /** The remote closed or refused a sender link: with an error the messages are refused, else sent again. */
    private void refuseLink(String address, Link link, ErrorCondition condition) {
        if (links.get(address) != link) {
            return;
        }
        links.remove(address);
        Throwable why = condition != null && condition.getCondition() != null
                ? new RemoteRefusedException(describe("link to " + address + " refused", condition))
                : new IOException("the remote closed the link to " + address);
        link.pending.forEach(p -> p.tryFail(why));
        link.pending.clear();
        link.sender.close();
    }

    @Override
    public Future<Void> receive(String source, Function<Envelope, Future<Void>> store) {
        Promise<Void> started = Promise.promise();
        context.runOnContext(v -> {
            if (closed || connection == null) {
                started.fail(new IOException("not connected"));
                return;
            }
            Address address = spec.arrival(source, this::localAddress);
            ProtonReceiver receiver = connection.createReceiver(source);
            receiver.setAutoAccept(false).setPrefetch(0);
            receiver.handler((delivery, message) -> {
                Envelope e = spec.deadLettered(AmqpTranslation.toEnvelope(message, address, false, origin,
                        System.currentTimeMillis()), source);
                store.apply(e).onComplete(ar -> Remote.on(context, () -> {
                    if (closed) {
                        return; // the remote sends what it had not heard about again
                    }
                    if (ar.succeeded()) {
                        delivery.disposition(Accepted.getInstance(), true);
                    } else {
                        Modified failed = new Modified();
                        failed.setDeliveryFailed(true);
                        delivery.disposition(failed, true);
                    }
                    receiver.flow(1);
                }));
            });
            receiver.openHandler(ar -> {
                if (ar.failed() || receiver.getRemoteSource() == null) {
                    started.tryFail(failure("the remote refused the receiver on " + source, receiver.getRemoteCondition()));
                    return;
                }
                receiver.flow(spec.inFlight());
                started.tryComplete();
            });
            receiver.closeHandler(ar -> {
                Throwable why = failure("the remote closed the receiver on " + source, receiver.getRemoteCondition());
                started.tryFail(why);
                lose(why);
            });
            receiver.open();
        });
        return started.future();
    }

    @Override
    public Future<Void> close() {
        Promise<Void> done = Promise.promise();
        if (context == null) {
            closed = true;
            return Future.succeededFuture();
        }
        context.runOnContext(v -> {
            closed = true;
            lost = null;
            failAll(new IOException("bridge connection closed"));
            if (connection != null && !connection.isDisconnected()) {
                connection.close();
                connection.disconnect();
            }
            done.complete();
        });
        return done.future();
    }

    private static Throwable failure(String what, ErrorCondition condition) {
        return new IOException(describe(what, condition));
    }

    private static String describe(String what, ErrorCondition condition) {
        if (condition == null || condition.getCondition() == null) {
            return what;
        }
        return what + ": " + condition.getCondition() + (condition.getDescription() == null ? "" : " " + condition.getDescription());
    }
}
