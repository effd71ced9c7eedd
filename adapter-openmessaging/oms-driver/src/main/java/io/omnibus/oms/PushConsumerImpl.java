package io.omnibus.oms;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.omnibus.openmessaging.remoting.WireMessage;
import io.openmessaging.api.Action;
import io.openmessaging.api.AsyncGenericMessageListener;
import io.openmessaging.api.AsyncMessageListener;
import io.openmessaging.api.ConsumeContext;
import io.openmessaging.api.Consumer;
import io.openmessaging.api.ExpressionType;
import io.openmessaging.api.GenericMessageListener;
import io.openmessaging.api.Message;
import io.openmessaging.api.MessageListener;
import io.openmessaging.api.MessageSelector;
import io.openmessaging.api.OMSResponseStatus;
import io.openmessaging.api.batch.BatchConsumer;
import io.openmessaging.api.batch.BatchMessageListener;
import io.openmessaging.api.batch.GenericBatchMessageListener;
import io.openmessaging.api.exception.OMSRuntimeException;
import io.openmessaging.api.order.ConsumeOrderContext;
import io.openmessaging.api.order.GenericMessageOrderListener;
import io.openmessaging.api.order.MessageOrderListener;
import io.openmessaging.api.order.OrderAction;
import io.openmessaging.api.order.OrderConsumer;
import io.omnibus.openmessaging.remoting.MessageProperty;

import java.io.IOException;
import java.nio.ByteBuffer;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link Consumer}, {@link BatchConsumer} and {@link OrderConsumer}: a push consumer over long-polled pulls.
 *
 * <p>Clustering (the default, property {@code MessageModel}): the group's members split each topic's queues the way
 * RocketMQ's clients do (averagely, in client id order), rebalancing when the gateway says the group changed and
 * every few seconds; offsets are the group's, committed to the gateway. Broadcasting: every member reads every
 * queue, offsets stay in memory. Each queue is consumed in order, one message (or batch) after the other; queues
 * in parallel on {@code ConsumeThreadNums} threads. {@link Action#ReconsumeLater} (or an exception) sends the
 * message back to the gateway, which redelivers it through the group's retry topic with backoff and
 * dead-letters it past {@code MaxReconsumeTimes}. An order consumer locks its queues and retries a suspended
 * message in place.
 */
public final class PushConsumerImpl extends Lifecycle implements Consumer, BatchConsumer, OrderConsumer {
    private static final long SUSPEND_MILLIS = 15_000;
    private static final int PULL_BATCH = 32;
    private static final int FLAG_SUSPEND = 0x2;
    private static final int FLAG_SUBSCRIPTION = 0x4;

    private final String group;
    private final boolean orderly;
    private final boolean broadcasting;
    private final boolean fromFirst;
    private final int maxReconsumeTimes;
    private final int batchSize;
    private final long suspendRetryMillis;
    private final ExecutorService consumeThreads;
    private final Map<String, Sub> subscriptions = new ConcurrentHashMap<>();
    private final Map<Queue, Worker> workers = new ConcurrentHashMap<>();
    private final AtomicBoolean rebalancing = new AtomicBoolean();
    private final long subVersion = System.currentTimeMillis();
    private volatile ScheduledFuture<?> rebalanceTask;
    private volatile ScheduledFuture<?> commitTask;

    /** One subscribed topic (wire name) and what consumes it. */
    private record Sub(String omsTopic, String expression, Set<String> tags, Object listener) {
    }

    /** One queue of a wire topic. */
    private record Queue(String topic, int id) {
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

    private String retryTopic() {
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
        for (Worker w : workers.values()) {
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
            for (Map.Entry<Queue, Worker> e : workers.entrySet()) {
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
                    Worker w = new Worker(q);
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
        for (Worker w : workers.values()) {
            commit(w);
        }
    }

    private void commit(Worker w) {
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

    // ---- one queue -----------------------------------------------------------------------------------------

    /** Pulls one queue and consumes what comes, in order; stops when the queue is taken away. */
    private final class Worker {
        final Queue queue;
        final String broker;
        volatile long offset = -1;
        volatile long committed = -1;
        volatile boolean stopped;
        /** Attempts of messages consumed again in place (broadcasting, orderly), by queue offset. */
        private final Map<Long, Integer> retriesInPlace = new ConcurrentHashMap<>();

        Worker(Queue queue) {
            this.queue = queue;
            this.broker = instance.brokerFor(queue.topic());
        }

        void start() {
            consumeThreads.execute(() -> {
                try {
                    offset = initialOffset();
                    pull();
                } catch (RuntimeException e) {
                    workers.remove(queue, this); // taken again at the next rebalance
                }
            });
        }

        private long initialOffset() {
            if (!broadcasting) {
                RemotingCommand answer = ClientInstance.join(instance.call(broker, RemotingCommand.request(
                        RequestCode.QUERY_CONSUMER_OFFSET, 0).field("consumerGroup", group).field("topic", queue.topic())
                        .field("queueId", queue.id()), "offset of " + queue, ResponseCode.QUERY_NOT_FOUND), "offset of " + queue);
                if (answer.code() == ResponseCode.SUCCESS) {
                    long at = ClientInstance.number(answer, "offset");
                    committed = at; // the group's already
                    return at;
                }
            }
            if (fromFirst || queue.topic().equals(retryTopic())) {
                return 0;
            }
            RemotingCommand max = ClientInstance.join(instance.call(broker, RemotingCommand.request(
                    RequestCode.GET_MAX_OFFSET, 0).field("topic", queue.topic()).field("queueId", queue.id()),
                    "end of " + queue), "end of " + queue);
            return ClientInstance.number(max, "offset");
        }

        void pull() {
            if (stopped || !isStarted()) {
                return;
            }
            Sub sub = subscriptions.get(queue.topic());
            RemotingCommand request = RemotingCommand.request(RequestCode.PULL_MESSAGE, 0).field("consumerGroup", group)
                    .field("topic", queue.topic()).field("queueId", queue.id()).field("queueOffset", offset)
                    .field("maxMsgNums", PULL_BATCH).field("sysFlag", FLAG_SUSPEND | FLAG_SUBSCRIPTION).field("commitOffset", 0)
                    .field("suspendTimeoutMillis", SUSPEND_MILLIS).field("subscription", sub == null ? "*" : sub.expression())
                    .field("subVersion", subVersion).field("expressionType", "TAG");
            instance.call(broker, request, SUSPEND_MILLIS + instance.timeoutMillis, "pull from " + queue,
                    ResponseCode.PULL_NOT_FOUND, ResponseCode.PULL_RETRY_IMMEDIATELY, ResponseCode.PULL_OFFSET_MOVED)
                    .whenCompleteAsync((answer, err) -> {
                        if (stopped) {
                            return;
                        }
                        if (err != null) {
                            later(this::pull);
                            return;
                        }
                        try {
                            long next = ClientInstance.number(answer, "nextBeginOffset");
                            if (answer.code() == ResponseCode.SUCCESS && !consume(answer)) {
                                return; // a message must be consumed again: pulled again from it, later
                            }
                            offset = next;
                            pull();
                        } catch (Throwable t) { // a listener's Error, an answer that cannot be read: never a silent stop
                            System.getLogger(PushConsumerImpl.class.getName()).log(System.Logger.Level.WARNING,
                                    "consuming " + queue + " failed; pulled again from offset " + offset, t);
                            later(this::pull);
                        }
                    }, consumeThreads);
        }

        private void later(Runnable r) {
            instance.timer.schedule(() -> consumeThreads.execute(r), 1, TimeUnit.SECONDS);
        }

        /** Consumes a pull answer's messages in order; false when one must be pulled again (offset set to it). */
        private boolean consume(RemotingCommand answer) {
            ByteBuffer body = ByteBuffer.wrap(ClientInstance.bytes(answer));
            List<WireMessage> messages = new ArrayList<>();
            while (body.hasRemaining()) {
                messages.add(WireMessage.decodeStored(body));
            }
            for (int i = 0; i < messages.size() && !stopped; ) {
                WireMessage w = messages.get(i);
                Sub sub = subOf(w);
                if (sub == null) {
                    i++;
                    continue;
                }
                if (sub.listener() instanceof BatchMessageListener batch) {
                    List<WireMessage> group = new ArrayList<>();
                    while (i < messages.size() && group.size() < batchSize && subOf(messages.get(i)) == sub) {
                        group.add(messages.get(i++));
                    }
                    List<Message> oms = new ArrayList<>();
                    group.forEach(g -> oms.add(Messages.toOms(g, sub.omsTopic())));
                    if (action(() -> batch.consume(oms, new ConsumeContext())) == Action.ReconsumeLater) {
                        for (WireMessage g : group) {
                            if (!sendBack(g)) {
                                offset = g.queueOffset();
                                consumeThreads.execute(this::pull);
                                return false;
                            }
                        }
                    }
                    continue;
                }
                Message m = Messages.toOms(w, sub.omsTopic());
                if (sub.listener() instanceof MessageOrderListener ordered) {
                    int attempts = 0;
                    while (!stopped && orderAction(ordered, m) == OrderAction.Suspend) {
                        m.setReconsumeTimes(++attempts);
                        sleep(suspendRetryMillis);
                    }
                } else if (action(() -> ((MessageListener) sub.listener()).consume(m, new ConsumeContext()))
                        == Action.ReconsumeLater && !sendBack(w)) {
                    offset = w.queueOffset();
                    consumeThreads.execute(this::pull);
                    return false;
                }
                i++;
            }
            return !stopped;
        }

        /** The subscription a pulled message is for (a retried one: its original topic's), null when none takes it. */
        private Sub subOf(WireMessage w) {
            String topic = queue.topic().equals(retryTopic()) && w.properties().get(MessageProperty.RETRY_TOPIC) != null
                    ? w.properties().get(MessageProperty.RETRY_TOPIC) : queue.topic();
            Sub sub = subscriptions.get(topic);
            if (sub == null || sub.tags() != null && !sub.tags().contains(w.properties().get(MessageProperty.TAGS))) {
                return null;
            }
            return sub;
        }

        /**
         * A message its listener could not consume: sent back (redelivered through the group's retry topic). A
         * broadcasting or orderly consumer reads no retry topic: it sleeps and consumes the message again, up to
         * MaxReconsumeTimes. False when the message must be pulled again.
         */
        private boolean sendBack(WireMessage w) {
            if (broadcasting || orderly) {
                int again = retriesInPlace.merge(w.queueOffset(), 1, Integer::sum);
                if (again <= maxReconsumeTimes) {
                    sleep(suspendRetryMillis);
                    return false;
                }
                retriesInPlace.remove(w.queueOffset());
                System.getLogger(PushConsumerImpl.class.getName()).log(System.Logger.Level.WARNING,
                        "message " + w.properties().get(MessageProperty.UNIQ_KEY) + " of " + queue + " not consumed after "
                                + maxReconsumeTimes + " attempts; skipped");
                return true;
            }
            return sendBackToGateway(w);
        }

        private boolean sendBackToGateway(WireMessage w) {
            RemotingCommand back = RemotingCommand.request(RequestCode.CONSUMER_SEND_MSG_BACK, 0).field("offset",
                    w.physicalOffset()).field("group", group).field("delayLevel", 0)
                    .field("originMsgId", w.properties().get(MessageProperty.UNIQ_KEY)).field("originTopic", w.topic())
                    .field("unitMode", false).field("maxReconsumeTimes", maxReconsumeTimes);
            try {
                ClientInstance.join(instance.call(broker, back, "send-back"), "send-back");
                return true;
            } catch (OMSRuntimeException e) {
                sleep(suspendRetryMillis); // consumed again after a pause, not in a tight loop
                return false;
            }
        }
    }

    private static Action action(java.util.function.Supplier<Action> consume) {
        try {
            Action a = consume.get();
            return a == null ? Action.ReconsumeLater : a;
        } catch (RuntimeException e) {
            return Action.ReconsumeLater;
        }
    }

    private static OrderAction orderAction(MessageOrderListener listener, Message m) {
        try {
            OrderAction a = listener.consume(m, new ConsumeOrderContext());
            return a == null ? OrderAction.Suspend : a;
        } catch (RuntimeException e) {
            return OrderAction.Suspend;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
