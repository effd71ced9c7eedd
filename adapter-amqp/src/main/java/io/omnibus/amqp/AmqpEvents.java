package io.omnibus.amqp;

import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.PublishRuns;
import io.omnibus.core.transport.ProxyProtocol;
import io.vertx.core.Future;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Collector;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Event;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;

/**
 * The proton-j engine's events of one {@link AmqpConnection}, handled in order after each input and each completion:
 * sessions, links made and ended ({@code amqp.max-links} counted here), transfers and dispositions handed to their
 * links, and the transfers of one input gathered into runs for the broker ({@link PublishRuns}). On the connection's
 * context.
 */
final class AmqpEvents {
    private final AmqpConnection c;
    private final Collector collector;
    private boolean inEvents;
    private int linkCount;
    /**
     * Transfers of the input under way, in runs to one address for the broker at once ({@link PublishRuns}); handed
     * over when the engine's events of that input are done, and before any other event than a transfer. Made at the
     * first transfer that may go in one.
     */
    private PublishRuns<IncomingLink.Transfer> runs;

    AmqpEvents(AmqpConnection c, Collector collector) {
        this.c = c;
        this.collector = collector;
    }

    /** Handles the events the engine has; from inside a handler, the running loop takes the new ones. */
    void process() {
        if (inEvents) {
            return; // a pump from inside an event handler: the running loop takes the new events
        }
        inEvents = true;
        try {
            processQueue();
        } finally {
            inEvents = false;
        }
    }

    private void processQueue() {
        Event e;
        while ((e = collector.peek()) != null) {
            if (!c.authorized() && e.getType() != Event.Type.CONNECTION_REMOTE_OPEN) {
                collector.pop(); // frames pipelined by a client that has not (or not yet) authenticated
                continue;
            }
            try {
                if (runs != null && e.getType() != Event.Type.DELIVERY) {
                    runs.flush(); // the transfers before, say, a detach reach the broker before it acts on that
                }
                handle(e);
            } catch (RuntimeException failure) {
                AmqpServer.LOG.warn("amqp {} ({}): {} failed; closing the connection", c.id, c.containerId, e.getType(), failure);
                c.connection.setCondition(new ErrorCondition(Symbol.valueOf("amqp:internal-error"), String.valueOf(failure)));
                c.connection.close();
            }
            collector.pop();
        }
        if (runs != null) {
            runs.flush();
        }
    }

    /** Adds a transfer to the run under way (see {@link #runs}); its link settles it with the run's outcome. */
    void gather(Envelope envelope, IncomingLink.Transfer transfer) {
        if (runs == null) {
            runs = new PublishRuns<>(c.broker, (envelopes, transfers, ar) -> {
                for (IncomingLink.Transfer t : transfers) {
                    t.stored(ar);
                }
                c.pump();
            });
        }
        runs.add(envelope, transfer);
    }

    /** Hands the transfers gathered to the broker: before one that goes its own way. */
    void flushRuns() {
        if (runs != null) {
            runs.flush();
        }
    }

    private void handle(Event e) {
        switch (e.getType()) {
            case CONNECTION_REMOTE_OPEN -> c.onOpen();
            case CONNECTION_REMOTE_CLOSE -> {
                if (c.connection.getRemoteCondition() != null && c.connection.getRemoteCondition().getCondition() != null) {
                    AmqpServer.LOG.info("amqp {} ({}): the client closed with {}", c.id, c.containerId,
                            c.connection.getRemoteCondition());
                }
                c.connection.close();
            }
            case SESSION_REMOTE_OPEN -> {
                Session s = e.getSession();
                if (s.getLocalState() == EndpointState.UNINITIALIZED) {
                    s.open();
                }
            }
            case SESSION_REMOTE_CLOSE -> {
                Session s = e.getSession();
                for (Link link = c.connection.linkHead(null, null); link != null; link = link.next(null, null)) {
                    if (link.getSession() == s) {
                        linkGone(link, false);
                    }
                }
                s.close();
                s.free();
            }
            case LINK_REMOTE_OPEN -> onLinkOpen(e.getLink());
            case LINK_REMOTE_DETACH, LINK_REMOTE_CLOSE -> {
                // answered once the link's work is done: a JMS unsubscribe returns when the subscription is gone
                Link link = e.getLink();
                boolean close = e.getType() == Event.Type.LINK_REMOTE_CLOSE;
                linkGone(link, close).onComplete(x -> {
                    if (close) {
                        link.close();
                    } else {
                        link.detach();
                    }
                    c.pump();
                    link.free(); // its unsettled deliveries (and the envelopes they hold) go with it
                });
            }
            case LINK_FLOW -> {
                if (e.getLink().getContext() instanceof OutgoingLink out) {
                    out.onFlow();
                }
            }
            case DELIVERY -> {
                org.apache.qpid.proton.engine.Delivery d = e.getDelivery();
                Object owner = d.getLink().getContext();
                if (owner instanceof IncomingLink in) {
                    in.onTransfer(d);
                } else if (owner instanceof CoordinatorLink coordinator) {
                    coordinator.onTransfer(d);
                } else if (owner instanceof OutgoingLink out) {
                    out.onDisposition(d);
                } else if (d.isPartial() && d.available() > 2L * c.broker.maxMessageSize() + 64 * 1024) {
                    // more of a transfer on a link we already ended for its size: the connection pays now
                    c.connection.setCondition(new ErrorCondition(Symbol.valueOf("amqp:link:message-size-exceeded"),
                            "a transfer kept growing past " + c.broker.maxMessageSize() + " bytes after its link was closed"));
                    c.connection.close();
                }
            }
            case TRANSPORT_ERROR -> AmqpServer.LOG.info("amqp {} ({}) from {}: {}", c.id, c.containerId,
                    ProxyProtocol.clientAddress(c.channel()), c.transport.getCondition());
            default -> {
            }
        }
    }

    private void onLinkOpen(Link link) {
        if (linkCount >= c.server.config.maxLinks()) {
            refuse(link, "amqp:resource-limit-exceeded", "amqp.max-links (" + c.server.config.maxLinks()
                    + ") links are open on this connection");
            return;
        }
        linkCount++;
        if (link instanceof Receiver r && r.getRemoteTarget() instanceof org.apache.qpid.proton.amqp.transaction.Coordinator) {
            CoordinatorLink coordinator = new CoordinatorLink(c, r);
            r.setContext(coordinator);
            coordinator.attach();
        } else if (link instanceof Receiver r) {
            IncomingLink in = new IncomingLink(c, r);
            r.setContext(in);
            in.attach();
        } else {
            OutgoingLink out = new OutgoingLink(c, (Sender) link);
            link.setContext(out);
            out.attach();
        }
    }

    private Future<?> linkGone(Link link, boolean closedByClient) {
        Object owner = link.getContext();
        link.setContext(null);
        if (owner instanceof OutgoingLink out) {
            linkCount--;
            return out.detached(closedByClient);
        } else if (owner instanceof IncomingLink in) {
            linkCount--;
            return in.detached();
        } else if (owner instanceof CoordinatorLink coordinator) {
            linkCount--;
            coordinator.detached();
        }
        return Future.succeededFuture();
    }

    /** A link of ours ended it with an error (its context already cleared): it no longer counts. */
    void linkFailed() {
        linkCount--;
    }

    /** Refuses an attach: an attach with a null terminus, then a detach with the error [AMQP 2.6.3]. */
    void refuse(Link link, String condition, String description) {
        AmqpServer.LOG.info("amqp {} ({}): link '{}' refused: {} {}", c.id, c.containerId, link.getName(), condition,
                description);
        Object owner = link.getContext();
        if (owner != null) {
            link.setContext(null);
            linkCount--;
        }
        if (link.getLocalState() == EndpointState.UNINITIALIZED) {
            link.setSource(null);
            link.setTarget(null);
            link.open();
        }
        link.setCondition(new ErrorCondition(Symbol.valueOf(condition), description));
        link.close();
    }
}
