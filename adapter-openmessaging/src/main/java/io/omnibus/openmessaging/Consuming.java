package io.omnibus.openmessaging;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.Logs;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RemotingException;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.vertx.core.Future;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Pulls and consumer offsets. A pull reads the address's partition log from the client's offset (RocketMQ
 * consumers keep their own position, as Kafka's do), filtered by the subscription's tags; at the end of the log it
 * is held until a message arrives or the suspend time ends (long polling). Offsets a group commits are kept in the
 * broker's durable state and survive restarts.
 */
final class Consuming {
    static final String OFFSETS = "rocketmq.offsets";
    private static final int PULL_COMMIT_OFFSET = 0x1;
    private static final int PULL_SUSPEND = 0x2;

    private final OpenMessagingServer server;
    private final Broker broker;
    private final Logs logs;
    private final Map<String, Long> offsets = new ConcurrentHashMap<>();
    /**
     * A queue whose first message (offset 0) is younger than this is new: a group without an offset starts at 0 there.
     * RocketMQ's broker asks whether the first message is still in memory; the gateway asks how old it is.
     */
    private static final Duration YOUNG_QUEUE = Duration.ofMinutes(10);

    Consuming(OpenMessagingServer server) {
        this.server = server;
        this.broker = server.ctx.broker();
        this.logs = broker.logs();
    }

    Future<Void> load() {
        broker.states(OFFSETS).forEach((k, v) -> offsets.put(k, ByteBuffer.wrap(v).getLong()));
        return Future.succeededFuture();
    }

    /** One queue a request names. */
    record Queue(String topic, Address address, int id) {
    }

    /** The queue of a request's {@code topic} and {@code queueId} fields; it must exist and be readable. */
    Queue queue(RemotingCommand cmd) {
        String topic = cmd.required("topic");
        int id = cmd.requiredInt("queueId");
        Address address;
        try {
            address = RocketNames.toAddress(topic);
        } catch (InvalidAddressException e) {
            throw new RemotingException(ResponseCode.TOPIC_NOT_EXIST, e.getMessage());
        }
        if (!RocketNames.readable(address)) {
            throw new RemotingException(ResponseCode.NO_PERMISSION, "the topic " + topic + " is the gateway's own");
        }
        int n = Math.min(logs.partitionCount(address), Routing.MAX_QUEUES);
        if (n == 0) {
            throw new RemotingException(ResponseCode.TOPIC_NOT_EXIST, "topic[" + topic + "] not exist, apply first please!");
        }
        if (id < 0 || id >= n) {
            throw new RemotingException(ResponseCode.SYSTEM_ERROR, "queueId[" + id + "] is illegal, topic:[" + topic
                    + "] topicConfig.readQueueNums:[" + n + "]");
        }
        return new Queue(topic, address, id);
    }

    Future<RemotingCommand> pull(RemotingConnection conn, RemotingCommand cmd) {
        String group = RocketNames.checkGroup(cmd.required("consumerGroup"));
        Queue q = queue(cmd);
        long offset = cmd.requiredLong("queueOffset");
        int max = Math.max(1, Math.min(cmd.requiredInt("maxMsgNums"), 1024));
        int sysFlag = cmd.requiredInt("sysFlag");
        Predicate<Envelope> filter = filter(cmd, group, q.topic());
        long commit = cmd.longField("commitOffset", -1);
        if ((sysFlag & PULL_COMMIT_OFFSET) != 0 && commit >= 0) {
            commit(group, q, commit);
        }
        long suspend = (sysFlag & PULL_SUSPEND) != 0
                ? Math.min(Math.max(0, cmd.longField("suspendTimeoutMillis", 0)), server.config.maxSuspend().toMillis()) : 0;
        if (suspend > 0 && conn.holdPull()) {
            return read(cmd, q, offset, max, filter, System.currentTimeMillis() + suspend)
                    .onComplete(ar -> conn.pullReleased());
        }
        return read(cmd, q, offset, max, filter, 0); // not held: answered at once
    }

    /** A subscription's filter as a client states it: {@code TAG} ({@code a || b}, {@code *}) or {@code SQL92}. */
    record Expression(String type, String text) {
    }

    /**
     * What a pull filters by (null: nothing): its own subscription when it carries one, else the group's for that
     * topic as its heartbeats said (RocketMQ's push consumers do not send their subscription with their pulls).
     */
    private Predicate<Envelope> filter(RemotingCommand cmd, String group, String topic) {
        String expression = cmd.field("subscription");
        if (expression == null) {
            Expression known = server.clients.subscription(group, topic);
            return known == null ? null : filter(known);
        }
        return filter(new Expression(cmd.field("expressionType"), expression));
    }

    /**
     * The filter of a subscription expression: tags, or a SQL92 expression evaluated by the core's selector engine
     * ({@code TAGS} and the message's properties by name). One that does not parse: SUBSCRIPTION_PARSE_FAILED.
     */
    Predicate<Envelope> filter(Expression expression) {
        String type = expression.type();
        if (type != null && type.equalsIgnoreCase("SQL92")) {
            try {
                return server.ctx.broker().selector(expression.text());
            } catch (io.omnibus.core.spi.BrokerException e) {
                throw new RemotingException(ResponseCode.SUBSCRIPTION_PARSE_FAILED, e.getMessage());
            }
        }
        Set<String> tags = tags(type, expression.text());
        return tags == null ? null : e -> tags.contains(e.header(Translation.TAGS_HEADER));
    }

    /** CHECK_CLIENT_CONFIG: a consumer with a SQL92 (or TAG) subscription asks whether its filter is taken. */
    Future<RemotingCommand> checkClientConfig(RemotingCommand cmd) {
        com.fasterxml.jackson.databind.JsonNode sub = OpenMessagingServer.jsonBody(cmd).path("subscriptionData");
        filter(new Expression(sub.path("expressionType").asText("TAG"), sub.path("subString").asText("*")));
        return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null));
    }

    private Future<RemotingCommand> read(RemotingCommand cmd, Queue q, long offset, int max, Predicate<Envelope> filter,
                                         long deadline) {
        long start = logs.startOffset(q.address(), q.id());
        long end = logs.endOffset(q.address(), q.id());
        if (offset < start || offset > end) {
            return Future.succeededFuture(pullReply(cmd, ResponseCode.PULL_OFFSET_MOVED, offset < start ? start : end,
                    start, end));
        }
        if (offset == end) {
            long wait = deadline - System.currentTimeMillis();
            if (wait <= 0) {
                return Future.succeededFuture(pullReply(cmd, ResponseCode.PULL_NOT_FOUND, offset, start, end));
            }
            return logs.awaitAppend(q.address(), q.id(), offset, Duration.ofMillis(wait))
                    .compose(arrived -> read(cmd, q, offset, max, filter, arrived ? deadline : 0));
        }
        return logs.read(q.address(), q.id(), offset, max).map(entries -> {
            long now = System.currentTimeMillis();
            List<ByteBuffer> parts = new ArrayList<>(entries.size() * 3);
            long next = offset;
            int bytes = 0;
            for (Logs.Entry entry : entries) {
                Envelope e = entry.envelope();
                if (bytes > 0 && bytes + e.payloadSize() > server.config.pullMaxBytes()) {
                    break;
                }
                next = entry.offset() + 1;
                if (e.isExpired(now) || !matches(filter, e)) {
                    continue;
                }
                server.losses.delivered(e, "rocketmq");
                for (ByteBuffer b : server.wire(q.topic(), q.id(), entry.offset(),
                        Routing.physical(q.address(), q.id(), entry.offset()), e)
                        .encodeStored(server.hostBytes(), server.advertisedPort())) {
                    parts.add(b);
                    bytes += b.remaining();
                }
            }
            long last = logs.endOffset(q.address(), q.id());
            if (parts.isEmpty()) {
                // nothing here for this subscription: the client moves on at once (RocketMQ's NO_MATCHED_MSG)
                return pullReply(cmd, next > offset ? ResponseCode.PULL_RETRY_IMMEDIATELY : ResponseCode.PULL_NOT_FOUND,
                        next, start, last);
            }
            return pullReply(cmd, ResponseCode.SUCCESS, next, start, last).bodyParts(parts.toArray(ByteBuffer[]::new));
        });
    }

    private static RemotingCommand pullReply(RemotingCommand cmd, int code, long next, long min, long max) {
        return cmd.reply(code, null).field("suggestWhichBrokerId", 0).field("nextBeginOffset", next)
                .field("minOffset", min).field("maxOffset", max);
    }

    /** The tags a TAG subscription accepts; null for all ({@code *}, empty, absent). */
    static Set<String> tags(String type, String expression) {
        if (type != null && !type.isEmpty() && !type.equals("TAG")) {
            throw new RemotingException(ResponseCode.SUBSCRIPTION_PARSE_FAILED, "the gateway filters by TAG or SQL92, not "
                    + type);
        }
        if (expression == null || expression.isBlank() || expression.trim().equals("*")) {
            return null;
        }
        Set<String> out = new HashSet<>();
        for (String t : expression.split("\\|\\|")) {
            if (!t.isBlank()) {
                out.add(t.trim());
            }
        }
        return out.isEmpty() ? null : out;
    }

    private static boolean matches(Predicate<Envelope> filter, Envelope e) {
        return filter == null || filter.test(e);
    }

    // ---- offsets ---------------------------------------------------------------------------------------------

    Future<RemotingCommand> queryOffset(RemotingCommand cmd) {
        String group = RocketNames.checkGroup(cmd.required("consumerGroup"));
        Queue q = queue(cmd);
        Long offset = offsets.get(key(group, q));
        if (offset != null) {
            return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null).field("offset", offset));
        }
        Future<Boolean> young = logs.startOffset(q.address(), q.id()) != 0 ? Future.succeededFuture(false)
                : logs.offsetAt(q.address(), q.id(), System.currentTimeMillis() - YOUNG_QUEUE.toMillis()).map(o -> o == 0);
        return young.map(fromStart -> fromStart
                // RocketMQ's broker starts a new group at 0 while the queue's first message is still in memory (a
                // young queue): a consumer started before the first sends to a new topic misses none of them
                ? cmd.reply(ResponseCode.SUCCESS, null).field("offset", 0L)
                : cmd.reply(ResponseCode.QUERY_NOT_FOUND, "Not found, the group " + group + " has no offset for this queue"));
    }

    Future<RemotingCommand> updateOffset(RemotingCommand cmd) {
        String group = RocketNames.checkGroup(cmd.required("consumerGroup"));
        Queue q = queue(cmd);
        return commit(group, q, cmd.requiredLong("commitOffset")).map(v -> cmd.reply(ResponseCode.SUCCESS, null));
    }

    private Future<Void> commit(String group, Queue q, long offset) {
        String key = key(group, q);
        Long before = offsets.put(key, offset);
        if (before != null && before == offset) {
            return Future.succeededFuture();
        }
        return broker.putState(OFFSETS, key, ByteBuffer.allocate(8).putLong(offset).array())
                .onSuccess(v -> broker.commitPosition(cursorName(group, q.address()), q.address(), q.id(), offset)
                        .onFailure(e -> OpenMessagingServer.LOG.warn("rocketmq: group {}: its cursor on {} was not moved: {}",
                                group, q.address(), e.toString())));
    }

    /** The group's cursor in the core: its lag in the admin API, its backlog kept by retention. */
    static String cursorName(String group, Address address) {
        return "rocketmq-group:" + group + "@" + address.name();
    }

    private static String key(String group, Queue q) {
        return group + '\n' + q.id() + '\n' + q.address().name();
    }

    Future<RemotingCommand> maxOffset(RemotingCommand cmd) {
        Queue q = queue(cmd);
        return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null)
                .field("offset", logs.endOffset(q.address(), q.id())));
    }

    Future<RemotingCommand> minOffset(RemotingCommand cmd) {
        Queue q = queue(cmd);
        return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null)
                .field("offset", logs.startOffset(q.address(), q.id())));
    }

    Future<RemotingCommand> searchOffset(RemotingCommand cmd) {
        Queue q = queue(cmd);
        return logs.offsetAt(q.address(), q.id(), cmd.requiredLong("timestamp"))
                .map(o -> cmd.reply(ResponseCode.SUCCESS, null).field("offset", o));
    }

    Future<RemotingCommand> earliestTime(RemotingCommand cmd) {
        Queue q = queue(cmd);
        return logs.read(q.address(), q.id(), logs.startOffset(q.address(), q.id()), 1).map(entries -> entries.isEmpty()
                ? cmd.reply(ResponseCode.SYSTEM_ERROR, "the queue is empty")
                : cmd.reply(ResponseCode.SUCCESS, null).field("timestamp", entries.get(0).envelope().createdAt()));
    }

    /** VIEW_MESSAGE_BY_ID: the message a physical offset (of an offset message id) points at. */
    Future<RemotingCommand> view(RemotingCommand cmd, java.util.function.Predicate<Address> mayRead) {
        long physical = cmd.requiredLong("offset");
        return server.routing.find(physical).map(found -> {
            if (found != null && RocketNames.readable(found.address()) && !mayRead.test(found.address())) {
                return cmd.reply(ResponseCode.NO_PERMISSION, "not authorized to read that message's topic");
            }
            if (found == null || !RocketNames.readable(found.address())) {
                return cmd.reply(ResponseCode.SYSTEM_ERROR, "can not find message by the offset, " + physical);
            }
            return cmd.reply(ResponseCode.SUCCESS, null).body(server.wire(RocketNames.toRocket(found.address()),
                    Routing.queueOf(physical), found.entry().offset(), physical, found.entry().envelope())
                    .encodeStoredWhole(server.hostBytes(), server.advertisedPort()));
        });
    }
}
