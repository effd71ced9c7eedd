package io.omnibus.core.internal;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/** Hand-overs between contexts, done on purpose (no future hops onto a pool by accident). */
final class Contexts {
    private Contexts() {
    }

    /** Runs {@code task} on {@code ctx}: now if we are on it, else as a task queued behind earlier ones. */
    static void run(Context ctx, Runnable task) {
        if (Vertx.currentContext() == ctx) {
            task.run();
        } else {
            ctx.runOnContext(v -> task.run());
        }
    }

    /** A future that completes like {@code source} but on {@code caller} (as is, when caller is null). */
    static <T> Future<T> on(Context caller, Future<T> source) {
        if (caller == null) {
            return source;
        }
        Promise<T> result = Promise.promise();
        source.onComplete(ar -> complete(caller, result, ar));
        return result.future();
    }

    static <T> void complete(Context caller, Promise<T> promise, AsyncResult<T> ar) {
        if (caller == null || Vertx.currentContext() == caller) {
            promise.handle(ar);
        } else {
            caller.runOnContext(v -> promise.handle(ar));
        }
    }

    /** Fails fast when confined state is touched from the wrong thread. */
    static void check(Context owner, String what) {
        if (Vertx.currentContext() != owner) {
            throw new IllegalStateException(what + " is confined to its broker context; called from "
                    + Thread.currentThread().getName());
        }
    }
}
