package io.omnibus.oms;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.openmessaging.api.Action;
import io.openmessaging.api.AsyncGenericMessageListener;
import io.openmessaging.api.AsyncMessageListener;
import io.openmessaging.api.Consumer;
import io.openmessaging.api.ExpressionType;
import io.openmessaging.api.GenericMessageListener;
import io.openmessaging.api.MessageListener;
import io.openmessaging.api.MessageSelector;
import io.openmessaging.api.OMSResponseStatus;
import io.openmessaging.api.batch.BatchConsumer;
import io.openmessaging.api.batch.BatchMessageListener;
import io.openmessaging.api.batch.GenericBatchMessageListener;
import io.openmessaging.api.exception.OMSRuntimeException;
import io.openmessaging.api.order.GenericMessageOrderListener;
import io.openmessaging.api.order.MessageOrderListener;
import io.openmessaging.api.order.OrderConsumer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link Consumer}, {@link BatchConsumer} and {@link OrderConsumer}: a push consumer over long-polled pulls.
 *
 * <p>Clustering (the default, property {@code MessageModel}): the group's members split each topic's queues the way
 * RocketMQ's clients do (averagely, in client id order), rebalancing when the gateway says the group changed and
 * every few seconds; offsets are the group's, committed to the gateway. Broadcasting: every member reads every
 * queue, offsets stay in memory. Each queue is consumed in order, one message (or batch) after the other; queues
 * in parallel on {@code ConsumeThreadNums} threads ({@link QueueWorker}, one per queue taken). {@link Action#ReconsumeLater} (or an exception) sends the
 * message back to the gateway, which redelivers it through the group's retry topic with backoff and
 * dead-letters it past {@code MaxReconsumeTimes}. An order consumer locks its queues and retries a suspended
 * message in place.
 */
public final class PushConsumerImpl extends Lifecycle implements Consumer, BatchConsumer, OrderConsumer {
    final String group;
    final boolean orderly;
    final boolean broadcasting;
    final boolean fromFirst;
    final int maxReconsumeTimes;
    final int batchSize;
    final long suspendRetryMillis;
    final ExecutorService consumeThreads;
    final Map<String, Sub> subscriptions = new ConcurrentHashMap<>();
    final Map<Queue, QueueWorker> workers = new ConcurrentHashMap<>();
    private final AtomicBoolean rebalancing = new AtomicBoolean();
    final long subVersion = System.currentTimeMillis();
    private volatile ScheduledFuture<?> rebalanceTask;
    private volatile ScheduledFuture<?> commitTask;

    /** One subscribed topic (wire name) and what consumes it. */
    record Sub(String omsTopic, String expression, Set<String> tags, Object listener) {
    }

    /** One queue of a wire topic. */
    record Queue(String topic, int id) {
    }

    PushConsumerImpl(ClientInstance instance, String group, Properties p, boolean orderly) {
        super(instance, "consumer " + group);
        this.group = instance.wireGroup(group);
        this.orderly = orderly;
        this.broadcasting = "BROADCASTING".equalsIgnoreCase(p.getProperty("MessageModel", "CLUSTERING"));
        this.fromFirst = "first".equalsIgnoreCase(p.getProperty("omnibus.consumeFrom", "last"));
        this.maxReconsumeTimes = Integer.parseInt(p.getProperty("MaxReconsumeTimes", "16"));
        this.batchSize = Math.max(1, Integer.parseInt(p.getProperty("ConsumeMessageBatchMaxSize", "32")));
        this.suspendRetryMillis = Long.parseLong(p.getProperty("SuspendTimeMillis", "1000"));
        this.consumeThreads = Executors.newFixedThreadPool(Math.max(1, Integer.parseInt(p.getProperty("ConsumeThreadNums",
                "4"))), ClientInstance.daemon("omnibus-oms-consume-" + group));
    }

    // ---- subscriptions -------------------------------------------------------------------------------------

    @Override
    public void subscribe(String topic, String subExpression, MessageListener listener) {
        add(topic, subExpression, listener);
    }

    @Override
    public void subscribe(String topic, MessageSelector selector, MessageListener listener) {
        add(topic, tagExpression(selector), listener);
    }

    @Override
    public void subscribe(String topic, String subExpression, BatchMessageListener listener) {
        add(topic, subExpression, listener);
    }

    @Override
    public void subscribe(String topic, String subExpression, MessageOrderListener listener) {
        add(topic, subExpression, listener);
    }

    @Override
    public void subscribe(String topic, MessageSelector selector, MessageOrderListener listener) {
        add(topic, tagExpression(selector), listener);
    }

    @Override
    public <T> void subscribe(String topic, String subExpression, GenericMessageListener<T> listener) {
        throw Errors.unsupported("GenericMessageListener (schemas and serializers)");
    }

    @Override
    public <T> void subscribe(String topic, MessageSelector selector, GenericMessageListener<T> listener) {
        throw Errors.unsupported("GenericMessageListener (schemas and serializers)");
    }

    @Override
    public void subscribe(String topic, String subExpression, AsyncMessageListener listener) {
        throw Errors.unsupported("AsyncMessageListener");
    }

    @Override
    public void subscribe(String topic, MessageSelector selector, AsyncMessageListener listener) {
        throw Errors.unsupported("AsyncMessageListener");
    }

    @Override
    public <T> void subscribe(String topic, String subExpression, AsyncGenericMessageListener<T> listener) {
        throw Errors.unsupported("AsyncGenericMessageListener");
    }

    @Override
    public <T> void subscribe(String topic, MessageSelector selector, AsyncGenericMessageListener<T> listener) {
        throw Errors.unsupported("AsyncGenericMessageListener");
    }

    @Override
    public <T> void subscribe(String topic, String subExpression, GenericBatchMessageListener<T> listener) {
        throw Errors.unsupported("GenericBatchMessageListener (schemas and serializers)");
    }

    @Override
    public <T> void subscribe(String topic, String subExpression, GenericMessageOrderListener<T> listener) {
        throw Errors.unsupported("GenericMessageOrderListener (schemas and serializers)");
    }

    @Override
    public <T> void subscribe(String topic, MessageSelector selector, GenericMessageOrderListener<T> listener) {
        throw Errors.unsupported("GenericMessageOrderListener (schemas and serializers)");
    }

    @Override
    public void unsubscribe(String topic) {
        subscriptions.remove(instance.wireTopic(topic));
        rebalanceSoon();
    }

    private static String tagExpression(MessageSelector selector) {
        if (selector == null || selector.getType() != ExpressionType.TAG) {
            throw Errors.unsupported("an SQL92 selector (tags only)");
        }
        return selector.getSubExpression();
    }

    private void add(String topic, String expression, Object listener) {
        if (topic == null || topic.isEmpty() || listener == null) {
            throw Errors.badParameter("a subscription needs a topic and a listener");
        }
        String e = expression == null || expression.isBlank() ? "*" : expression.trim();
        Set<String> tags = null;
        if (!e.equals("*")) {
            tags = new HashSet<>();
            for (String t : e.split("\\|\\|")) {
                tags.add(t.trim());
            }
        }
        subscriptions.put(instance.wireTopic(topic), new Sub(topic, e, tags, listener));
        if (isStarted()) {
            instance.heartbeat();
            rebalanceSoon();
        }
    }

    String retryTopic() {
        return "%RETRY%" + group;
    }

    /** The topics whose queues this consumer reads: its subscriptions, and its group's retry topic when it has one. */
    private Set<String> topics() {
        Set<String> out = new HashSet<>(subscriptions.keySet());
        if (!broadcasting && !orderly && !out.isEmpty()) {
            out.add(retryTopic());
        }
        return out;
    }

    // ---- life cycle ----------------------------------------------------------------------------------------

    @Override
    protected void onStart() {
        if (instance.consumers.putIfAbsent(group, this) != null) {
            throw new OMSRuntimeException(OMSResponseStatus.STATUS_1408.getStatusCode(),
                    "a consumer of group " + group + " is already started on this access point");
        }
        instance.heartbeat();
        rebalanceTask = instance.every(5_000, this::rebalance);
        commitTask = instance.every(1_000, this::commitOffsets);
    }

    @Override
    protected void onShutdown() {
        rebalanceTask.cancel(false);
        commitTask.cancel(false);
        for (QueueWorker w : workers.values()) {
            w.stopped = true;
        }
        commitOffsets();
        if (orderly) {
            unlock(new HashSet<>(workers.keySet()));
        }
        workers.clear();
        instance.consumers.remove(group, this);
        try {
            instance.connection(instance.endpoint).oneway(RemotingCommand.request(RequestCode.UNREGISTER_CLIENT, 0)
                    .field("clientID", instance.clientId).field("consumerGroup", group));
        } catch (IOException e) {
            // the gateway forgets the client when its connection closes or its heartbeats stop
        }
        consumeThreads.shutdown();
    }

    /** The gateway said the group changed: rebalance now, not at the next round. */
    void rebalanceSoon() {
        if (isStarted()) {
            instance.work.execute(this::rebalance);
        }
    }

    /** This consumer's part of a heartbeat. */
    void describe(ObjectNode c) {
        c.put("groupName", group);
        c.put("consumeType", "CONSUME_PASSIVELY");
        c.put("messageModel", broadcasting ? "BROADCASTING" : "CLUSTERING");
        c.put("consumeFromWhere", fromFirst ? "CONSUME_FROM_FIRST_OFFSET" : "CONSUME_FROM_LAST_OFFSET");
        c.put("unitMode", false);
        ArrayNode subs = c.putArray("subscriptionDataSet");
        for (String topic : topics()) {
            Sub s = subscriptions.get(topic);
            ObjectNode d = subs.addObject();
            d.put("topic", topic);
            d.put("subString", s == null ? "*" : s.expression());
            d.putArray("tagsSet");
            d.putArray("codeSet");
            d.put("subVersion", subVersion);
            d.put("expressionType", "TAG");
            d.put("classFilterMode", false);
        }
    }

    // ---- rebalancing ---------------------------------------------------------------------------------------

    private void rebalance() {
        if (!isStarted() || !rebalancing.compareAndSet(false, true)) {
            return;
        }
        try {
            Set<Queue> want = new HashSet<>();
            for (String topic : topics()) {
                try {
                    want.addAll(share(topic));
                } catch (OMSRuntimeException e) {
                    // this topic keeps the queues it had until the next round
                    workers.keySet().stream().filter(q -> q.topic().equals(topic)).forEach(want::add);
                }
            }
            if (orderly) {
                Set<Queue> locked = lock(want);
                // the gateway could not be asked: keep what is held until the next round, rather than drop it all
                want = locked != null ? locked : new HashSet<>(workers.keySet());
            }
            for (Map.Entry<Queue, QueueWorker> e : workers.entrySet()) {
                if (!want.contains(e.getKey())) {
                    e.getValue().stopped = true;
                    commit(e.getValue());
                    workers.remove(e.getKey());
                    if (orderly) {
                        unlock(Set.of(e.getKey()));
                    }
                }
            }
            for (Queue q : want) {
                if (!workers.containsKey(q)) {
                    QueueWorker w = new QueueWorker(this, q);
                    workers.put(q, w);
                    w.start();
                }
            }
        } finally {
            rebalancing.set(false);
        }
    }

    /** This member's queues of a topic. */
    private List<Queue> share(String topic) {
        ClientInstance.Route route = instance.route(topic);
        List<Queue> all = new ArrayList<>();
        for (int i = 0; i < route.queues(); i++) {
            all.add(new Queue(topic, i));
        }
        if (broadcasting) {
            return all;
        }
        RemotingCommand answer = ClientInstance.join(instance.call(route.brokerAddress(),
                RemotingCommand.request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, 0).field("consumerGroup", group),
                "members of " + group, ResponseCode.SYSTEM_ERROR), "members of " + group);
        List<String> ids = new ArrayList<>();
        if (answer.code() == ResponseCode.SUCCESS) {
            try {
                ClientInstance.JSON.readTree(ClientInstance.bytes(answer)).path("consumerIdList").forEach(n -> ids.add(n.asText()));
            } catch (IOException e) {
                throw Errors.of("members of " + group, e);
            }
        }
        ids.sort(null);
        int index = ids.indexOf(instance.clientId);
        if (index < 0) {
            return List.of(); // the gateway has not seen this member's heartbeat yet
        }
        // RocketMQ's AllocateMessageQueueAveragely, so members on either client agree
        int n = all.size();
        int members = ids.size();
        int mod = n % members;
        int average = n <= members ? 1 : (mod > 0 && index < mod ? n / members + 1 : n / members);
        int start = mod > 0 && index < mod ? index * average : index * average + mod;
        int range = Math.min(average, n - start);
        List<Queue> mine = new ArrayList<>();
        for (int i = 0; i < range; i++) {
            mine.add(all.get((start + i) % n));
        }
        return mine;
    }

    /** The queues the gateway locked for this member; null when it could not be asked. */
    private Set<Queue> lock(Set<Queue> queues) {
        Set<Queue> locked = new HashSet<>();
        if (queues.isEmpty()) {
            return locked;
        }
        try {
            RemotingCommand answer = ClientInstance.join(instance.call(instance.brokerFor(queues.iterator().next().topic()),
                    RemotingCommand.request(RequestCode.LOCK_BATCH_MQ, 0).body(lockBody(queues)), "locking queues"),
                    "locking queues");
            for (JsonNode mq : ClientInstance.JSON.readTree(ClientInstance.bytes(answer)).path("lockOKMQSet")) {
                locked.add(new Queue(mq.path("topic").asText(), mq.path("queueId").asInt()));
            }
        } catch (IOException | OMSRuntimeException e) {
            return null;
        }
        return locked;
    }

    private void unlock(Set<Queue> queues) {
        if (queues.isEmpty()) {
            return;
        }
        try {
            instance.connection(instance.brokerFor(queues.iterator().next().topic()))
                    .oneway(RemotingCommand.request(RequestCode.UNLOCK_BATCH_MQ, 0).body(lockBody(queues)));
        } catch (IOException | OMSRuntimeException e) {
            // the locks expire
        }
    }

    private byte[] lockBody(Set<Queue> queues) throws IOException {
        ObjectNode body = ClientInstance.JSON.createObjectNode();
        body.put("consumerGroup", group);
        body.put("clientId", instance.clientId);
        ArrayNode set = body.putArray("mqSet");
        for (Queue q : queues) {
            set.addObject().put("topic", q.topic()).put("brokerName", instance.route(q.topic()).brokerName())
                    .put("queueId", q.id());
        }
        return ClientInstance.JSON.writeValueAsBytes(body);
    }

    // ---- offsets -------------------------------------------------------------------------------------------

    private void commitOffsets() {
        for (QueueWorker w : workers.values()) {
            commit(w);
        }
    }

    private void commit(QueueWorker w) {
        long offset = w.offset;
        if (broadcasting || offset < 0 || offset == w.committed) {
            return;
        }
        try {
            instance.connection(instance.brokerFor(w.queue.topic())).oneway(RemotingCommand.request(
                    RequestCode.UPDATE_CONSUMER_OFFSET, 0).field("consumerGroup", group).field("topic", w.queue.topic())
                    .field("queueId", w.queue.id()).field("commitOffset", offset));
            w.committed = offset;
        } catch (IOException | OMSRuntimeException e) {
            // committed at the next round
        }
    }
}
