package io.omnibus.core.internal;

import io.omnibus.core.spi.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;

/**
 * Pulls that found nothing and wait for a message, up to their wait, in the order they came; each is answered once,
 * on its consumer's context: with what arrived, or empty at its time, its consumer's detach or the subscription's
 * deletion. In the subscription's mailbox.
 */
final class PullRequests {
    private record PullRequest(ConsumerState consumer, int max, Promise<List<Delivery>> promise, long timerId) {
    }

    private final ArrayDeque<PullRequest> waiting = new ArrayDeque<>();
    private final Mailbox mailbox;

    PullRequests(Mailbox mailbox) {
        this.mailbox = mailbox;
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }

    /** Answers {@code promise} on {@code c}'s context. */
    static void answer(ConsumerState c, Promise<List<Delivery>> promise, List<Delivery> deliveries) {
        Contexts.complete(c.home, promise, Future.succeededFuture(deliveries));
    }

    /** {@code c}'s pull of up to {@code max} waits up to {@code wait} for messages. */
    void await(ConsumerState c, int max, Duration wait, Promise<List<Delivery>> promise) {
        long[] id = new long[1];
        id[0] = mailbox.setTimer(wait.toMillis(), t -> {
            if (waiting.removeIf(pr -> pr.timerId() == id[0])) {
                answer(c, promise, List.of());
            }
        });
        waiting.add(new PullRequest(c, max, promise, id[0]));
    }

    /** Answers waiting pulls, oldest first, with what {@code take} hands each, while {@code ready} says there is some. */
    void serve(BooleanSupplier ready, BiFunction<ConsumerState, Integer, List<Delivery>> take) {
        while (!waiting.isEmpty() && ready.getAsBoolean()) {
            PullRequest pr = waiting.poll();
            mailbox.cancelTimer(pr.timerId());
            answer(pr.consumer(), pr.promise(), take.apply(pr.consumer(), pr.max()));
        }
    }

    /** Answers {@code c}'s waiting pulls empty: it detached. */
    void dropOf(ConsumerState c) {
        waiting.removeIf(pr -> {
            if (pr.consumer() != c) {
                return false;
            }
            mailbox.cancelTimer(pr.timerId());
            answer(c, pr.promise(), List.of());
            return true;
        });
    }

    /** Answers every waiting pull empty: the subscription was deleted. */
    void clear() {
        while (!waiting.isEmpty()) {
            PullRequest pr = waiting.poll();
            mailbox.cancelTimer(pr.timerId());
            answer(pr.consumer(), pr.promise(), List.of());
        }
    }
}
