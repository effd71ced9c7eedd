package io.omnibus.mqtt;

import io.omnibus.core.spi.Broker;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A persistent session as the broker keeps it: its expiry interval, when its client went away,
 * and its subscriptions with their options. Each subscription is also a durable core
 * subscription, which holds the queued messages.
 */
final class MqttSessionState {
    record Sub(String filter, String shareGroup, int qos, boolean noLocal, boolean retainAsPublished, int retainHandling,
               int subscriptionId) {
        /** The core subscription's name. */
        String coreName(String clientId) {
            // the client id is URL-encoded: "v/s" + "t" and "v" + "s/t" must not name the same subscription
            return shareGroup != null ? "$share/" + shareGroup + "/" + filter
                    : "mqtt/" + java.net.URLEncoder.encode(clientId, java.nio.charset.StandardCharsets.UTF_8) + "/" + filter;
        }

        /** The filter as the client wrote it, which is how MQTT identifies a subscription. */
        String key() {
            return shareGroup != null ? "$share/" + shareGroup + "/" + filter : filter;
        }

        JsonObject toJson() {
            return new JsonObject().put("filter", filter).put("share", shareGroup).put("qos", qos).put("noLocal", noLocal)
                    .put("rap", retainAsPublished).put("rh", retainHandling).put("sid", subscriptionId);
        }

        static Sub fromJson(JsonObject j) {
            return new Sub(j.getString("filter"), j.getString("share"), j.getInteger("qos"), j.getBoolean("noLocal"),
                    j.getBoolean("rap"), j.getInteger("rh"), j.getInteger("sid", 0));
        }
    }

    private MqttSessionState() {
    }

    static List<Sub> load(Broker broker, String clientId) {
        byte[] bytes = broker.state(MqttServer.SESSIONS, clientId);
        List<Sub> out = new ArrayList<>();
        if (bytes != null) {
            JsonArray subs = new JsonObject(Buffer.buffer(bytes)).getJsonArray("subscriptions", new JsonArray());
            for (int i = 0; i < subs.size(); i++) {
                out.add(Sub.fromJson(subs.getJsonObject(i)));
            }
        }
        return out;
    }

    static boolean exists(Broker broker, String clientId) {
        return broker.state(MqttServer.SESSIONS, clientId) != null;
    }

    static Future<Void> save(Broker broker, String owner, String clientId, long expirySeconds, long disconnectedAt,
                             Map<String, Sub> subs) {
        return save(broker, owner, clientId, expirySeconds, disconnectedAt, subs, null);
    }

    /**
     * The user whose session this is: "" for an anonymous client's, null for none or a record written before
     * owners were kept (whoever resumes it first owns it from then on).
     */
    static String owner(Broker broker, String clientId) {
        byte[] bytes = broker.state(MqttServer.SESSIONS, clientId);
        return bytes == null ? null : new JsonObject(Buffer.buffer(bytes)).getString("owner");
    }

    /** Saves the record; {@code qos2} (half-done QoS 2 exchanges) is written when the client goes away. */
    static Future<Void> save(Broker broker, String owner, String clientId, long expirySeconds, long disconnectedAt,
                             Map<String, Sub> subs, MqttServer.Qos2State qos2) {
        JsonArray list = new JsonArray();
        subs.values().forEach(s -> list.add(s.toJson()));
        JsonObject record = new JsonObject().put("expiry", expirySeconds).put("disconnectedAt", disconnectedAt)
                .put("subscriptions", list);
        record.put("owner", owner == null ? "" : owner);
        if (qos2 != null) {
            record.put("qos2In", new JsonArray(List.copyOf(qos2.awaitingRelease())))
                    .put("qos2Out", new JsonArray(List.copyOf(qos2.pendingRelease())));
        }
        return broker.putState(MqttServer.SESSIONS, clientId, record.toBuffer().getBytes());
    }

    /** The half-done QoS 2 exchanges a record kept over a restart, or null. */
    static MqttServer.Qos2State qos2(Broker broker, String clientId) {
        byte[] bytes = broker.state(MqttServer.SESSIONS, clientId);
        if (bytes == null) {
            return null;
        }
        JsonObject record = new JsonObject(Buffer.buffer(bytes));
        JsonArray in = record.getJsonArray("qos2In");
        JsonArray out = record.getJsonArray("qos2Out");
        if (in == null && out == null) {
            return null;
        }
        java.util.Set<Integer> ins = new java.util.HashSet<>();
        java.util.Set<Integer> outs = new java.util.HashSet<>();
        if (in != null) {
            in.forEach(v -> ins.add(((Number) v).intValue()));
        }
        if (out != null) {
            out.forEach(v -> outs.add(((Number) v).intValue()));
        }
        return new MqttServer.Qos2State(ins, outs);
    }

    /** Ends a session: its private subscriptions and their queued messages go, and so does its record. */
    static Future<Void> end(Broker broker, String clientId) {
        List<Future<?>> all = new ArrayList<>();
        for (Sub s : load(broker, clientId)) {
            if (s.shareGroup() == null) {
                all.add(broker.unsubscribe(s.coreName(clientId)));
            }
        }
        all.add(broker.putState(MqttServer.SESSIONS, clientId, null));
        return Future.all(all).mapEmpty();
    }
}
