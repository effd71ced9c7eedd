package io.omnibus.openmessaging;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.PublishResult;
import io.omnibus.core.spi.PublishRuns;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.List;

/**
 * A connection's plain sends to one queue, gathered into runs appended at once: a producer that sends asynchronously
 * (a read of many SEND_MESSAGE requests) has them stored in one append and routed in one hand-over, at consecutive
 * offsets, each still answered with its own offset. A run is appended once the event loop is done with the read that
 * brought it (a task queued at its first send), and before anything that must come after it: a send to another queue
 * or one that goes its own way, any other request. A run is bounded as {@link PublishRuns}' are (256 messages, about
 * 32 KiB as stored), which keeps it inside the smallest commit log segment. Confined to the connection's
 * context.
 */
final class SendRuns {
    private static final int RUN_MESSAGES = PublishRuns.RUN_MESSAGES;
    private static final int RUN_BYTES = PublishRuns.RUN_BYTES;

    private final Logs logs;
    private final Context context;
    private Address address;
    private int queue;
    private List<Envelope> run; // null when nothing is gathered
    private List<Promise<Long>> owed;
    private long bytes;
    private boolean flushQueued;

    SendRuns(Logs logs, Context context) {
        this.logs = logs;
        this.context = context;
    }

    /** Adds a send to the run (the run goes first when it is to another queue); completes with its offset once stored. */
    Future<Long> add(Address to, int toQueue, Envelope envelope) {
        long size = PublishRuns.storedSize(envelope);
        if (run != null && (toQueue != queue || !to.equals(address) || bytes + size > RUN_BYTES)) {
            flush();
        }
        if (run == null) {
            run = new ArrayList<>(4);
            owed = new ArrayList<>(4);
            address = to;
            queue = toQueue;
            bytes = 0;
            if (!flushQueued) {
                flushQueued = true;
                context.runOnContext(v -> {
                    flushQueued = false;
                    flush();
                });
            }
        }
        Promise<Long> stored = Promise.promise();
        run.add(envelope);
        owed.add(stored);
        bytes += size;
        if (run.size() >= RUN_MESSAGES || bytes >= RUN_BYTES) {
            flush();
        }
        return stored.future();
    }

    /** Appends the run gathered; each send's promise completes with its offset, or all fail. */
    void flush() {
        if (run == null) {
            return;
        }
        List<Envelope> envelopes = run;
        List<Promise<Long>> promises = owed;
        run = null;
        owed = null;
        Future<PublishResult> appended = envelopes.size() == 1 ? logs.append(envelopes.get(0), queue)
                : logs.append(envelopes, queue);
        appended.onComplete(ar -> {
            for (int i = 0; i < promises.size(); i++) {
                if (ar.succeeded()) {
                    promises.get(i).complete(ar.result().offset() + i);
                } else {
                    promises.get(i).fail(ar.cause());
                }
            }
        });
    }
}
