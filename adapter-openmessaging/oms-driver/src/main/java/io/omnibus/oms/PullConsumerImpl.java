package io.omnibus.oms;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.omnibus.openmessaging.remoting.WireMessage;
import io.openmessaging.api.ExpressionType;
import io.openmessaging.api.Message;
import io.openmessaging.api.MessageSelector;
import io.openmessaging.api.OMSResponseStatus;
import io.openmessaging.api.PullConsumer;
import io.openmessaging.api.TopicPartition;
import io.openmessaging.api.exception.OMSRuntimeException;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link PullConsumer}: the application assigns partitions (a topic's queues, named {@code "0"}, {@code "1"}, ...)
 * or subscribes to whole topics, polls, seeks and commits. Positions start at the group's committed offset (which
 * the broker answers with 0 for a group without one while the queue still starts at 0, as RocketMQ's broker does),
 * else at the end (or the beginning with {@code omnibus.consumeFrom=first}). Meant for one thread, like Kafka's consumer.
 */
public final class PullConsumerImpl extends Lifecycle implements PullConsumer {
    private static final int MAX_MESSAGES = 32;

    private final String group;
    private final boolean fromFirst;
    private final Map<TopicPartition, Long> positions = new LinkedHashMap<>();
    private final Map<String, String> expressions = new ConcurrentHashMap<>();
    private final Set<TopicPartition> paused = new LinkedHashSet<>();
    private final Map<String, List<TopicPartitionChangeListener>> partitionListeners = new ConcurrentHashMap<>();
    private final Map<String, List<AssignedTopicPartitionChangeListener>> assignedListeners = new ConcurrentHashMap<>();
    private int nextQueue;

    PullConsumerImpl(ClientInstance instance, String group, Properties p) {
        super(instance, "pull consumer " + group);
        this.group = instance.wireGroup(group);
        this.fromFirst = "first".equalsIgnoreCase(p.getProperty("omnibus.consumeFrom", "last"));
    }

    @Override
    protected void onStart() {
        instance.pullConsumers.put(group, this);
        instance.heartbeat();
    }

    @Override
    protected void onShutdown() {
        instance.pullConsumers.remove(group, this);
    }

    /** This consumer's part of a heartbeat. */
    void describe(ObjectNode c) {
        c.put("groupName", group);
        c.put("consumeType", "CONSUME_ACTIVELY");
        c.put("messageModel", "CLUSTERING");
        c.put("consumeFromWhere", fromFirst ? "CONSUME_FROM_FIRST_OFFSET" : "CONSUME_FROM_LAST_OFFSET");
        c.put("unitMode", false);
        ArrayNode subs = c.putArray("subscriptionDataSet");
        for (Map.Entry<String, String> e : expressions.entrySet()) {
            subs.addObject().put("topic", e.getKey()).put("subString", e.getValue()).put("expressionType", "TAG")
                    .put("classFilterMode", false).put("subVersion", 0);
        }
    }

    @Override
    public Set<TopicPartition> topicPartitions(String topic) {
        int queues = instance.route(instance.wireTopic(topic)).queues();
        Set<TopicPartition> out = new LinkedHashSet<>();
        for (int i = 0; i < queues; i++) {
            out.add(new TopicPartition(topic, Integer.toString(i)));
        }
        return out;
    }

    @Override
    public void subscribe(String topic, String subExpression) {
        checkStarted();
        expressions.put(instance.wireTopic(topic), subExpression == null || subExpression.isBlank() ? "*" : subExpression);
        Set<TopicPartition> all = topicPartitions(topic);
        List<TopicPartition> assigned = new ArrayList<>(positions.keySet());
        assigned.addAll(all);
        assign(assigned);
        partitionListeners.getOrDefault(topic, List.of()).forEach(l -> l.onChanged(all));
        assignedListeners.getOrDefault(topic, List.of()).forEach(l -> l.onChanged(topic, all, all));
    }

    @Override
    public void subscribe(String topic, MessageSelector selector) {
        if (selector == null || selector.getType() != ExpressionType.TAG) {
            throw Errors.unsupported("an SQL92 selector (tags only)");
        }
        subscribe(topic, selector.getSubExpression());
    }

    @Override
    public void assign(Collection<TopicPartition> partitions) {
        checkStarted();
        Map<TopicPartition, Long> next = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            queueOf(tp);
            Long at = positions.get(tp);
            next.put(tp, at != null ? at : start(tp));
        }
        positions.clear();
        positions.putAll(next);
        paused.retainAll(next.keySet());
    }

    private long start(TopicPartition tp) {
        Long committed = committed(tp);
        if (committed != null) {
            return committed;
        }
        return offset(tp, fromFirst ? RequestCode.GET_MIN_OFFSET : RequestCode.GET_MAX_OFFSET);
    }

    private static int queueOf(TopicPartition tp) {
        try {
            return Integer.parseInt(tp.getPartition());
        } catch (NumberFormatException | NullPointerException e) {
            throw Errors.badParameter("the partition of " + tp + " is not a queue number");
        }
    }

    @Override
    public void registerTopicPartitionChangedListener(String topic, TopicPartitionChangeListener callback) {
        partitionListeners.computeIfAbsent(topic, t -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(callback);
    }

    @Override
    public void registerAssignedTopicPartitionChangedListener(String topic, AssignedTopicPartitionChangeListener callback) {
        assignedListeners.computeIfAbsent(topic, t -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(callback);
    }

    @Override
    public List<Message> poll(long timeout) {
        checkStarted();
        long deadline = System.currentTimeMillis() + Math.max(0, timeout);
        List<TopicPartition> active = new ArrayList<>(positions.keySet());
        active.removeAll(paused);
        if (active.isEmpty()) {
            return List.of();
        }
        do {
            // every queue once without waiting, then the next one held until the deadline (long polling)
            for (int i = 0; i <= active.size(); i++) {
                TopicPartition tp = active.get(Math.floorMod(nextQueue++, active.size()));
                long wait = i < active.size() ? 0 : Math.min(1_000, deadline - System.currentTimeMillis());
                List<Message> got = pull(tp, wait);
                if (!got.isEmpty()) {
                    return got;
                }
            }
        } while (System.currentTimeMillis() < deadline);
        return List.of();
    }

    private List<Message> pull(TopicPartition tp, long suspend) {
        String topic = instance.wireTopic(tp.getTopic());
        ClientInstance.Route route = instance.route(topic);
        long offset = positions.get(tp);
        RemotingCommand request = RemotingCommand.request(RequestCode.PULL_MESSAGE, 0).field("consumerGroup", group)
                .field("topic", topic).field("queueId", queueOf(tp)).field("queueOffset", offset)
                .field("maxMsgNums", MAX_MESSAGES).field("sysFlag", suspend > 0 ? 0x2 : 0).field("commitOffset", 0)
                .field("suspendTimeoutMillis", Math.max(0, suspend)).field("subscription", expressions.getOrDefault(topic, "*"))
                .field("subVersion", 0).field("expressionType", "TAG");
        RemotingCommand answer = ClientInstance.join(instance.call(route.brokerAddress(), request,
                Math.max(0, suspend) + instance.timeoutMillis, "pull from " + tp, ResponseCode.PULL_NOT_FOUND,
                ResponseCode.PULL_RETRY_IMMEDIATELY, ResponseCode.PULL_OFFSET_MOVED), "pull from " + tp);
        long next = ClientInstance.number(answer, "nextBeginOffset");
        List<Message> out = new ArrayList<>();
        if (answer.code() == ResponseCode.SUCCESS) {
            ByteBuffer body = ByteBuffer.wrap(ClientInstance.bytes(answer));
            try {
                while (body.hasRemaining()) {
                    out.add(Messages.toOms(WireMessage.decodeStored(body), tp.getTopic()));
                }
            } catch (IllegalArgumentException e) {
                throw Errors.of("pull from " + tp, e); // the position stays: nothing is skipped
            }
        }
        positions.put(tp, next);
        return out;
    }

    @Override
    public void seek(TopicPartition tp, long offset) {
        if (!positions.containsKey(tp)) {
            throw Errors.badParameter(tp + " is not assigned");
        }
        positions.put(tp, offset);
    }

    @Override
    public void seekToBeginning(TopicPartition tp) {
        seek(tp, offset(tp, RequestCode.GET_MIN_OFFSET));
    }

    @Override
    public void seekToEnd(TopicPartition tp) {
        seek(tp, offset(tp, RequestCode.GET_MAX_OFFSET));
    }

    private long offset(TopicPartition tp, int code) {
        String topic = instance.wireTopic(tp.getTopic());
        RemotingCommand answer = ClientInstance.join(instance.call(instance.route(topic).brokerAddress(),
                RemotingCommand.request(code, 0).field("topic", topic).field("queueId", queueOf(tp)), "offsets of " + tp),
                "offsets of " + tp);
        return ClientInstance.number(answer, "offset");
    }

    @Override
    public void pause(Collection<TopicPartition> partitions) {
        paused.addAll(partitions);
    }

    @Override
    public void resume(Collection<TopicPartition> partitions) {
        paused.removeAll(partitions);
    }

    @Override
    public Long offsetForTimestamp(TopicPartition tp, Long timestamp) {
        String topic = instance.wireTopic(tp.getTopic());
        RemotingCommand answer = ClientInstance.join(instance.call(instance.route(topic).brokerAddress(),
                RemotingCommand.request(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, 0).field("topic", topic)
                        .field("queueId", queueOf(tp)).field("timestamp", timestamp), "offset at a time of " + tp),
                "offset at a time of " + tp);
        return ClientInstance.number(answer, "offset");
    }

    @Override
    public Long committed(TopicPartition tp) {
        String topic = instance.wireTopic(tp.getTopic());
        RemotingCommand answer = ClientInstance.join(instance.call(instance.route(topic).brokerAddress(),
                RemotingCommand.request(RequestCode.QUERY_CONSUMER_OFFSET, 0).field("consumerGroup", group)
                        .field("topic", topic).field("queueId", queueOf(tp)), "committed offset of " + tp,
                ResponseCode.QUERY_NOT_FOUND), "committed offset of " + tp);
        return answer.code() == ResponseCode.SUCCESS ? ClientInstance.number(answer, "offset") : null;
    }

    @Override
    public void commitSync() {
        checkStarted();
        for (Map.Entry<TopicPartition, Long> e : positions.entrySet()) {
            String topic = instance.wireTopic(e.getKey().getTopic());
            try {
                ClientInstance.join(instance.call(instance.route(topic).brokerAddress(), RemotingCommand.request(
                        RequestCode.UPDATE_CONSUMER_OFFSET, 0).field("consumerGroup", group).field("topic", topic)
                        .field("queueId", queueOf(e.getKey())).field("commitOffset", e.getValue()), "commit"), "commit");
            } catch (OMSRuntimeException err) {
                throw new OMSRuntimeException(OMSResponseStatus.STATUS_1500.getStatusCode(), "committing " + e.getKey()
                        + " at " + e.getValue() + " failed", err);
            }
        }
    }
}
