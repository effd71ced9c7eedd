package io.omnibus.core.spi;

import io.vertx.core.AsyncResult;

import java.util.ArrayList;
import java.util.List;

/**
 * The publishes one read of a connection brought, gathered into runs for {@link Broker#publishAll}: consecutive
 * messages to one address, handed over together rather than one each. A client that pipelines its publishes (a read of
 * hundreds of them) has them stored in one append and routed in one hand-over per partition; one that publishes a
 * message at a time hands each over alone, the same path. Each message carries a tag of the adapter's (what it owes
 * the client for it: a reply, a delivery to settle), given back with the run's outcome, in order.
 *
 * <p>The adapter adds what may go in a run (no retained message, no transactional one, none over
 * {@link Broker#maxMessageSize()}: a run is refused whole), and calls {@link #flush} at the end of the read, and
 * before anything that must come after the messages gathered (another packet, a publish that goes its own way).
 * Confined to the connection's context.
 *
 * @param <T> the adapter's tag of a message (may be null)
 */
public final class PublishRuns<T> {
    /**
     * A run holds at most this many messages, and about this many bytes as stored: the store takes a run in one
     * append, which must fit one commit log segment (64 KiB at the least, {@code store.segment-size}).
     */
    public static final int RUN_MESSAGES = 256;
    public static final int RUN_BYTES = 32 << 10;
    /** A record's fixed part besides what {@link Envelope#estimatedSize()} counts. */
    private static final int RECORD_OVERHEAD = 64;

    /** What becomes of a run: its messages and their tags, in the order added, and the outcome for all of them. */
    public interface Outcome<T> {
        void stored(List<Envelope> run, List<T> tags, AsyncResult<Void> result);
    }

    private final Broker broker;
    private final Outcome<T> outcome;
    private ArrayList<Envelope> run; // null when nothing is gathered
    private ArrayList<T> tags;
    private long bytes;

    public PublishRuns(Broker broker, Outcome<T> outcome) {
        this.broker = broker;
        this.outcome = outcome;
    }

    /**
     * Adds a message to the run under way: the run goes first when it is to another address, and this one goes with
     * its run when that is full.
     */
    public void add(Envelope envelope, T tag) {
        if (run != null && !run.get(0).address().equals(envelope.address())) {
            flush();
        }
        if (run == null) {
            run = new ArrayList<>(4);
            tags = new ArrayList<>(4);
            bytes = 0;
        }
        run.add(envelope);
        tags.add(tag);
        bytes += storedSize(envelope);
        if (run.size() >= RUN_MESSAGES || bytes >= RUN_BYTES) {
            flush();
        }
    }

    /** About what {@code envelope} takes in a run as stored: what {@link #RUN_BYTES} counts (any adapter's runs). */
    public static long storedSize(Envelope envelope) {
        return envelope.estimatedSize() + envelope.address().name().length() + RECORD_OVERHEAD;
    }

    /** Whether nothing is gathered. */
    public boolean isEmpty() {
        return run == null;
    }

    /** Hands the run gathered to the broker; its outcome comes on the caller's context once stored or refused. */
    public void flush() {
        if (run == null) {
            return;
        }
        List<Envelope> envelopes = run;
        List<T> owed = tags;
        run = null;
        tags = null;
        broker.publishAll(envelopes).onComplete(ar -> outcome.stored(envelopes, owed, ar));
    }
}
