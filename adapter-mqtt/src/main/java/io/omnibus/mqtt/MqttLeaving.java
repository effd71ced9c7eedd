package io.omnibus.mqtt;

import io.netty.util.ReferenceCountUtil;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.Envelope;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.omnibus.mqtt.MqttConnection.NEVER_EXPIRES;

/**
 * What an MQTT connection leaves when it closes: what it never sent goes back to its consumers, its QoS 2 exchanges
 * are kept for the session's next connection, the session is saved (with its expiry timer) or ends with it
 * [MQTT-3.1.2-23], and its will is published, now or after its delay. The connection stays in
 * {@code server.connected} until all of that is written, so a connection taking the session over reads it after.
 * On the connection's context.
 */
final class MqttLeaving {
    private MqttLeaving() {
    }

    /** Runs when the channel of {@code c} closes, however that happened: every piece of connection state goes. */
    static void closed(MqttConnection c) {
        if (c.closed) {
            return;
        }
        c.closed = true;
        c.server.unwatchKeepAlive(c.context, c);
        c.server.ctx.connections().closed(c);
        c.server.connections.decrementAndGet();
        if (!c.connected()) {
            c.left();
            return;
        }
        List<Future<?>> closing = new ArrayList<>();
        if (c.handshake != null) {
            c.handshake.early.forEach(ReferenceCountUtil::release);
            c.handshake.early = List.of();
        }
        if (c.outbound != null) {
            c.outbound.close(); // what was never sent goes back to its consumer
        }
        for (Consumer k : c.consumers.values()) {
            closing.add(k.close()); // unacknowledged deliveries go back: redelivered with DUP on reconnect
        }
        c.consumers = Map.of();
        // Still in server.connected until the leaving work below is done: a new connection for this client id
        // finds it there and waits (takeOver), so it never reads the session before this close has written it.
        boolean current = c.clientId != null && c.server.connected.get(c.clientId) == c;
        MqttServer.Qos2State leftQos2 = null;
        if (c.persistent && c.restored) { // also when taken over: the new connection picks it up after this close
            Set<Integer> pending = c.pendingRelease();
            if (!pending.isEmpty() || !c.awaitingRelease().isEmpty()) {
                // kept for the session's next connection, and in its record for a restart
                leftQos2 = new MqttServer.Qos2State(Set.copyOf(c.awaitingRelease()), Set.copyOf(pending));
                c.server.qos2.put(c.clientId, leftQos2);
            }
        }
        c.outbound = null;
        String id = c.clientId;
        if (c.clientId != null && c.restored) {
            if (!c.persistent) {
                for (MqttSessionState.Sub s : c.subs.values()) {
                    if (s.shareGroup() == null) {
                        closing.add(c.broker().unsubscribe(s.coreName(id)));
                    }
                }
                // the session ends with the connection [MQTT-3.1.2-23], also when a new connection for the client id came
                // in before this close ran (it is no longer current then): that one waits for this close (takeOver)
                // before it reads the session, so it must find none; it writes its own only after
                if (MqttSessionState.exists(c.broker(), id)) {
                    closing.add(c.broker().putState(MqttServer.SESSIONS, id, null));
                }
            } else if (current) {
                closing.add(MqttSessionState.save(c.broker(), c.user, id, c.sessionExpiry, System.currentTimeMillis(), c.subs,
                        leftQos2));
                if (c.sessionExpiry != NEVER_EXPIRES) {
                    c.server.scheduleExpiry(id, c.sessionExpiry * 1000);
                }
            }
        }
        if (c.will != null) {
            publishWill(c, id, current);
        }
        Future.all(closing).onComplete(x -> {
            if (id != null) {
                c.server.connected.remove(id, c);
            }
            MqttConnection.Contexts.on(c.context, c::left); // the store's futures may complete elsewhere
        });
        MqttServer.LOG.info("mqtt {} closed: client {}", c.connectionId(), id);
    }

    /** The will: now, after its delay unless the session was resumed meanwhile, or not at all when taken over. */
    private static void publishWill(MqttConnection c, String id, boolean current) {
        Envelope w = c.will.message();
        Runnable send = () -> {
            c.broker().publish(w).onFailure(e -> MqttServer.LOG.warn("mqtt {}: will of {} not published: {}",
                    c.connectionId(), id, e.getMessage()));
            if (w.retain()) {
                c.broker().retain(w);
            }
        };
        long delay = Math.min(c.will.delaySeconds(), c.persistent ? c.sessionExpiry : 0);
        if (delay <= 0) {
            send.run();
        } else if (current) {
            long timer = c.server.ctx.vertx().setTimer(delay * 1000, t -> {
                c.server.willTimers.remove(id);
                if (!c.server.connected.containsKey(id)) {
                    send.run(); // nobody resumed the session within the delay
                }
            });
            c.server.willTimers.put(id, timer);
        }
        // taken over with a will delay: the new connection resumed the session, so no will [MQTT-3.1.3-9]
    }
}
