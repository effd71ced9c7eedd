package io.omnibus.core.transport;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;

import java.util.function.Supplier;

/**
 * A Vert.x context of its own for state an adapter shares between its connections (Kafka's group coordinator,
 * RocketMQ's delayed and transactional messages): the state is touched only there, work reaches it as a task,
 * and its answers come back on the caller's context.
 */
public final class ServiceContext {
    private final Vertx vertx;
    private final Context context;
    private final String deployment;

    private ServiceContext(Vertx vertx, Context context, String deployment) {
        this.vertx = vertx;
        this.context = context;
        this.deployment = deployment;
    }

    /** Deploys an empty verticle for its context. */
    public static Future<ServiceContext> deploy(Vertx vertx) {
        Promise<Context> made = Promise.promise();
        return vertx.deployVerticle(new VerticleBase() {
            @Override
            public Future<?> start() {
                made.complete(context);
                return Future.succeededFuture();
            }
        }).map(id -> new ServiceContext(vertx, made.future().result(), id));
    }

    /** Runs {@code work} on this context; the returned future completes on the caller's. */
    public <T> Future<T> call(Supplier<Future<T>> work) {
        Promise<T> result = Promise.promise();
        Future<T> answer = here(result.future()); // registered here, on the caller's context
        context.runOnContext(v -> {
            Future<T> f;
            try {
                f = work.get();
            } catch (RuntimeException e) {
                f = Future.failedFuture(e);
            }
            f.onComplete(result);
        });
        return answer;
    }

    public Future<Void> undeploy() {
        return vertx.undeploy(deployment);
    }

    /** A future completing like {@code f}, but on the caller's context (f may complete on another's). */
    public static <T> Future<T> here(Future<T> f) {
        Context caller = Vertx.currentContext();
        if (caller == null) {
            return f;
        }
        Promise<T> result = Promise.promise();
        f.onComplete(ar -> {
            if (Vertx.currentContext() == caller) {
                result.handle(ar);
            } else {
                caller.runOnContext(v -> result.handle(ar));
            }
        });
        return result.future();
    }
}
