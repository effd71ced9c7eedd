package io.omnibus.core.internal;

import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The broker's contexts (shards), a fixed set spread over the event loops, and which one owns what: a topic
 * partition the one its name hashes to; a new subscription one on the event loop of the connection that makes it
 * ({@link #near}), and later one on the loop of its consumers (its {@link Mailbox} moves); the subscription registry
 * the first.
 */
final class Shards {
    private final List<Context> all;

    private Shards(List<Context> all) {
        this.all = all;
    }

    /** Starts {@code n} contexts (Vert.x spreads them over its event loops in turn). */
    static Future<Shards> start(Vertx vertx, int n) {
        List<Context> started = new CopyOnWriteArrayList<>();
        return vertx.deployVerticle(() -> new VerticleBase() {
            @Override
            public Future<?> start() {
                started.add(context);
                return Future.succeededFuture();
            }
        }, new DeploymentOptions().setInstances(n)).map(id -> new Shards(List.copyOf(started)));
    }

    List<Context> all() {
        return all;
    }

    /** The shard that owns what is named so (a topic partition; a subscription made with no connection's context). */
    Context forName(String name) {
        return all.get((name.hashCode() & Integer.MAX_VALUE) % all.size());
    }

    /**
     * The shard of a new subscription: one that runs on the event loop of the connection that asks for it, chosen
     * among those by the name, when there is one; else {@link #forName}. Its consumer (the one, as a rule, of an
     * MQTT subscription or a JMS queue receiver) is then served by the thread that serves the subscription: each
     * delivery and each acknowledgement is a task queued on the same thread, not a hand-over that wakes another.
     */
    Context near(Context caller, String name) {
        if (caller != null && caller.isEventLoopContext()) {
            List<Context> near = new ArrayList<>(all.size());
            for (Context shard : all) {
                if (Mailbox.sameLoop(shard, caller)) {
                    near.add(shard);
                }
            }
            if (!near.isEmpty()) {
                return near.get((name.hashCode() & Integer.MAX_VALUE) % near.size());
            }
        }
        return forName(name);
    }

    /** The context that writes the subscription registry and queues atomic appends. */
    Context registry() {
        return all.get(0);
    }
}
