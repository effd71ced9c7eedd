package io.omnibus.openmessaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The clients that sent heartbeats, by producer and consumer group, and orderly consumers' queue locks. Shared by
 * every connection's context: only concurrent maps and atomic per-key updates, no locks. A consumer group's
 * members are told (NOTIFY_CONSUMER_IDS_CHANGED) when one joins or leaves, so they rebalance at once.
 */
final class Clients {
    /** One client of a group: the connection its last heartbeat came on, and when. */
    record Member(RemotingConnection connection, long seenAt) {
    }

    /** An orderly consumer's lock on one queue. */
    record Lock(String clientId, long expiresAt) {
    }

    private final OpenMessagingServer server;
    private final Map<String, Map<String, Member>> consumers = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Member>> producers = new ConcurrentHashMap<>();
    private final Map<String, Lock> locks = new ConcurrentHashMap<>();
    /** Consumer groups' subscriptions by group and topic (RocketMQ names), as their heartbeats last said. */
    private final Map<String, Consuming.Expression> subscriptions = new ConcurrentHashMap<>();
    private final AtomicInteger opaque = new AtomicInteger(1 << 30);

    Clients(OpenMessagingServer server) {
        this.server = server;
    }

    Future<RemotingCommand> heartbeat(RemotingConnection conn, RemotingCommand cmd) {
        JsonNode hb = OpenMessagingServer.jsonBody(cmd);
        String clientId = hb.path("clientID").asText("");
        if (clientId.isEmpty()) {
            return Future.succeededFuture(cmd.reply(ResponseCode.SYSTEM_ERROR, "the heartbeat names no clientID"));
        }
        conn.identified(clientId);
        long now = System.currentTimeMillis();
        for (JsonNode p : hb.path("producerDataSet")) {
            String group = p.path("groupName").asText("");
            if (!group.isEmpty()) {
                join(producers, group, clientId, new Member(conn, now));
            }
        }
        for (JsonNode c : hb.path("consumerDataSet")) {
            String group = RocketNames.checkGroup(c.path("groupName").asText(""));
            for (JsonNode sub : c.path("subscriptionDataSet")) {
                String topic = sub.path("topic").asText("");
                if (!topic.isEmpty()) {
                    subscriptions.put(group + '\n' + topic, new Consuming.Expression(
                            sub.path("expressionType").asText("TAG"), sub.path("subString").asText("*")));
                }
            }
            Member before = join(consumers, group, clientId, new Member(conn, now));
            if (before == null || before.connection() != conn) {
                changed(group);
            }
        }
        return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null));
    }

    Future<RemotingCommand> unregister(RemotingConnection conn, RemotingCommand cmd) {
        String clientId = cmd.required("clientID");
        String producerGroup = cmd.field("producerGroup");
        String consumerGroup = cmd.field("consumerGroup");
        if (producerGroup != null) {
            remove(producers, producerGroup, clientId);
        }
        if (consumerGroup != null && remove(consumers, consumerGroup, clientId)) {
            changed(consumerGroup);
        }
        return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null));
    }

    Future<RemotingCommand> consumerList(RemotingCommand cmd) {
        String group = cmd.required("consumerGroup");
        List<String> ids = consumerIds(group);
        if (ids.isEmpty()) {
            return Future.succeededFuture(cmd.reply(ResponseCode.SYSTEM_ERROR, "no consumer for this group, " + group));
        }
        ObjectNode body = OpenMessagingServer.Json.MAPPER.createObjectNode();
        ArrayNode list = body.putArray("consumerIdList");
        ids.forEach(list::add);
        return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null).body(OpenMessagingServer.json(body)));
    }

    /** Adds or refreshes a member, atomically with the group's removal when it empties; answers the one it replaced. */
    private static Member join(Map<String, Map<String, Member>> groups, String group, String clientId, Member member) {
        Member[] before = new Member[1];
        groups.compute(group, (g, members) -> {
            Map<String, Member> m = members == null ? new ConcurrentHashMap<>() : members;
            before[0] = m.put(clientId, member);
            return m;
        });
        return before[0];
    }

    /** The subscription expression a consumer group's heartbeats gave for a topic; null when none did. */
    Consuming.Expression subscription(String group, String topic) {
        return subscriptions.get(group + '\n' + topic);
    }

    List<String> consumerIds(String group) {
        Map<String, Member> members = consumers.get(group);
        return members == null ? List.of() : new ArrayList<>(new TreeSet<>(members.keySet()));
    }

    /** A live connection of a producer of {@code group}, for a check-back; null when none. */
    RemotingConnection producer(String group) {
        Map<String, Member> members = producers.get(group);
        if (members == null) {
            return null;
        }
        for (Member m : members.values()) {
            if (m.connection().isOpen()) {
                return m.connection();
            }
        }
        return null;
    }

    /** LOCK_BATCH_MQ: takes (or renews) each queue not held by another live client; answers those it holds. */
    Future<RemotingCommand> lock(RemotingCommand cmd) {
        JsonNode body = OpenMessagingServer.jsonBody(cmd);
        String group = body.path("consumerGroup").asText("");
        String clientId = body.path("clientId").asText("");
        long now = System.currentTimeMillis();
        long until = now + server.config.lockExpiry().toMillis();
        ObjectNode answer = OpenMessagingServer.Json.MAPPER.createObjectNode();
        ArrayNode ok = answer.putArray("lockOKMQSet");
        for (JsonNode mq : body.path("mqSet")) {
            String key = group + '\n' + mq.path("topic").asText("") + '\n' + mq.path("queueId").asInt(-1);
            Lock held = locks.compute(key, (k, l) -> l == null || l.clientId().equals(clientId) || l.expiresAt() < now
                    ? new Lock(clientId, until) : l);
            if (held.clientId().equals(clientId)) {
                ok.add(mq);
            }
        }
        return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null).body(OpenMessagingServer.json(answer)));
    }

    Future<RemotingCommand> unlock(RemotingCommand cmd) {
        JsonNode body = OpenMessagingServer.jsonBody(cmd);
        String group = body.path("consumerGroup").asText("");
        String clientId = body.path("clientId").asText("");
        for (JsonNode mq : body.path("mqSet")) {
            String key = group + '\n' + mq.path("topic").asText("") + '\n' + mq.path("queueId").asInt(-1);
            locks.computeIfPresent(key, (k, l) -> l.clientId().equals(clientId) ? null : l);
        }
        return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null));
    }

    /** A connection closed: its clients leave their groups and give up their queue locks. */
    void disconnected(RemotingConnection conn, String clientId) {
        drop(producers, m -> m.connection() == conn);
        for (String group : drop(consumers, m -> m.connection() == conn)) {
            changed(group);
        }
        if (clientId != null) {
            locks.values().removeIf(l -> l.clientId().equals(clientId));
        }
    }

    /** Forgets clients whose last heartbeat is older than {@code client-expiry}, and expired locks. */
    void expire(long now) {
        long oldest = now - server.config.clientExpiry().toMillis();
        drop(producers, m -> m.seenAt() < oldest);
        for (String group : drop(consumers, m -> m.seenAt() < oldest)) {
            changed(group);
        }
        locks.values().removeIf(l -> l.expiresAt() < now);
    }

    /** Removes matching members; answers the groups that lost one. A group left empty goes, with its subscriptions. */
    private List<String> drop(Map<String, Map<String, Member>> groups, java.util.function.Predicate<Member> which) {
        List<String> changed = new ArrayList<>();
        for (String group : new ArrayList<>(groups.keySet())) {
            groups.computeIfPresent(group, (k, members) -> {
                if (members.values().removeIf(which)) {
                    changed.add(k);
                }
                return members.isEmpty() ? null : members;
            });
            forgetIfGone(groups, group);
        }
        return changed;
    }

    private boolean remove(Map<String, Map<String, Member>> groups, String group, String clientId) {
        boolean[] removed = new boolean[1];
        groups.computeIfPresent(group, (k, members) -> {
            removed[0] = members.remove(clientId) != null;
            return members.isEmpty() ? null : members;
        });
        forgetIfGone(groups, group);
        return removed[0];
    }

    private void forgetIfGone(Map<String, Map<String, Member>> groups, String group) {
        if (groups == consumers && !consumers.containsKey(group)) {
            subscriptions.keySet().removeIf(k -> k.startsWith(group + '\n'));
        }
    }

    /** Tells every member of a consumer group that its membership changed, so it rebalances now. */
    private void changed(String group) {
        Map<String, Member> members = consumers.get(group);
        if (members == null) {
            return;
        }
        for (Member m : members.values()) {
            if (m.connection().isOpen()) {
                m.connection().sendOneway(RemotingCommand.request(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED,
                        opaque.incrementAndGet()).field("consumerGroup", group));
            }
        }
    }
}
