package io.omnibus.server;

import io.omnibus.core.internal.ConnectionRegistry;
import io.omnibus.core.internal.DefaultBroker;
import io.omnibus.core.internal.SubscriptionView;
import io.omnibus.core.spi.Address;
import io.omnibus.server.bridge.Bridges;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import static io.omnibus.server.AdminApi.address;
import static io.omnibus.server.AdminApi.answer;
import static io.omnibus.server.AdminApi.error;
import static io.omnibus.server.AdminApi.json;
import static io.omnibus.server.AdminApi.partitionExists;

/**
 * The admin API's actions: purge, pause and resume, delete a subscription or an address, move dead letters back,
 * disconnect a connection, pause and resume a bridge. {@link AdminApi} routes here after authorization.
 */
final class AdminActions {
    private final DefaultBroker broker;
    private final ConnectionRegistry connections;
    private final Bridges bridges;

    AdminActions(DefaultBroker broker, ConnectionRegistry connections, Bridges bridges) {
        this.broker = broker;
        this.connections = connections;
        this.bridges = bridges;
    }

    /**
     * {@code POST /api/bridges/{name}/pause} and {@code .../resume}: a paused bridge closes its connection and keeps
     * its cursor (its lag grows); resumed, it connects again.
     */
    void controlBridge(RoutingContext ctx) {
        String name = ctx.pathParam("param0");
        String action = ctx.pathParam("param1");
        if (!action.equals("pause") && !action.equals("resume")) {
            error(ctx, 404, "a bridge's actions are pause and resume, not " + action);
            return;
        }
        Future<Void> done = bridges.control(name, action.equals("pause"));
        if (done == null) {
            error(ctx, 404, "no bridge named " + name);
            return;
        }
        answer(ctx, done.map(v -> bridges.status(name)));
    }

    /** {@code POST /api/subscriptions/{name}/purge | pause | resume}. */
    void subscriptionAction(RoutingContext ctx) {
        String name = ctx.pathParam("param0");
        String action = ctx.pathParam("param1");
        if (!operable(ctx, name)) {
            return;
        }
        if (action.equals("purge")) {
            answer(ctx, broker.operators().purge(name).map(n -> new JsonObject().put("name", name).put("purged", n)));
        } else {
            answer(ctx, broker.operators().pause(name, action.equals("pause")).map(found -> {
                SubscriptionView v = broker.subscriptionView(name);
                return v == null ? new JsonObject().put("name", name) : AdminApi.subscription(v);
            }));
        }
    }

    /** {@code DELETE /api/subscriptions/{name}}: its consumers stay attached and get nothing more. */
    void deleteSubscription(RoutingContext ctx) {
        String name = ctx.pathParam("param0");
        if (!operable(ctx, name)) {
            return;
        }
        answer(ctx, broker.unsubscribe(name).map(v -> new JsonObject().put("deleted", name)));
    }

    /** Whether the subscription exists and is not the broker's own; answers 404 or 409 when not. */
    private boolean operable(RoutingContext ctx, String name) {
        io.omnibus.core.spi.Subscription s = broker.subscription(name);
        if (s == null) {
            error(ctx, 404, "no subscription named " + name);
            return false;
        }
        return !internal(ctx, s.filter().filter());
    }

    /**
     * The broker's own addresses ({@code $tx/...}: prepared transactions in doubt) are not for operators to delete or
     * move: answers 409 and returns true for them.
     */
    private static boolean internal(RoutingContext ctx, String name) {
        if (name.startsWith("$tx/")) {
            error(ctx, 409, name + " is the gateway's own (prepared transactions): resolve them instead "
                    + "(docs/openmessaging.md#transactions, XA recover)");
            return true;
        }
        return false;
    }

    /** {@code DELETE /api/topics/{address}}: the address and its log. */
    void deleteTopic(RoutingContext ctx) {
        Address address = address(ctx, ctx.pathParam("param0"));
        if (address == null || internal(ctx, address.name())) {
            return;
        }
        answer(ctx, broker.operators().deleteAddress(address).compose(existed -> existed
                ? Future.succeededFuture(new JsonObject().put("deleted", address.name()))
                : Future.failedFuture(new AdminApi.NotFound("no address " + address.name()))));
    }

    /** {@code POST /api/topics/{dead-letter address}/redrive}: dead letters back to the addresses they came from. */
    void redrive(RoutingContext ctx) {
        Address address = address(ctx, ctx.pathParam("param0"));
        if (address == null || internal(ctx, address.name()) || !partitionExists(broker, ctx, address, 0)) {
            return;
        }
        answer(ctx, broker.operators().redrive(address).map(r -> new JsonObject().put("address", address.name()).put("moved", r[0])
                .put("kept", r[1])));
    }

    /** {@code POST /api/connections/{id}/disconnect}. */
    void disconnect(RoutingContext ctx) {
        String id = ctx.pathParam("param0");
        ConnectionRegistry.Live l = connections.find(id);
        if (l == null) {
            error(ctx, 404, "no connection " + id);
            return;
        }
        l.control().disconnect();
        json(ctx, new JsonObject().put("disconnected", id).put("protocol", l.info().protocol()));
    }
}
