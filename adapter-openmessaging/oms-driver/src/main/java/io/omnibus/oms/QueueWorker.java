package io.omnibus.oms;

import io.omnibus.openmessaging.remoting.MessageProperty;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.omnibus.openmessaging.remoting.WireMessage;
import io.openmessaging.api.Action;
import io.openmessaging.api.ConsumeContext;
import io.openmessaging.api.Message;
import io.openmessaging.api.MessageListener;
import io.openmessaging.api.batch.BatchMessageListener;
import io.openmessaging.api.exception.OMSRuntimeException;
import io.openmessaging.api.order.ConsumeOrderContext;
import io.openmessaging.api.order.MessageOrderListener;
import io.openmessaging.api.order.OrderAction;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One queue of a {@link PushConsumerImpl}: pulls it (long-polled) and consumes what comes, in order, on the
 * consumer's threads; stops when the queue is taken away by a rebalance. Its offset is what the consumer commits.
 */
final class QueueWorker {
    private static final long SUSPEND_MILLIS = 15_000;
    private static final int PULL_BATCH = 32;
    private static final int FLAG_SUSPEND = 0x2;
    private static final int FLAG_SUBSCRIPTION = 0x4;

    private final PushConsumerImpl c;
    final PushConsumerImpl.Queue queue;
    final String broker;
    volatile long offset = -1;
    volatile long committed = -1;
    volatile boolean stopped;
    /** Attempts of messages consumed again in place (broadcasting, orderly), by queue offset. */
    private final Map<Long, Integer> retriesInPlace = new ConcurrentHashMap<>();

    QueueWorker(PushConsumerImpl c, PushConsumerImpl.Queue queue) {
        this.c = c;
        this.queue = queue;
        this.broker = c.instance.brokerFor(queue.topic());
    }

    void start() {
        c.consumeThreads.execute(() -> {
            try {
                offset = initialOffset();
                pull();
            } catch (RuntimeException e) {
                c.workers.remove(queue, this); // taken again at the next rebalance
            }
        });
    }

    private long initialOffset() {
        if (!c.broadcasting) {
            RemotingCommand answer = ClientInstance.join(c.instance.call(broker, RemotingCommand.request(
                    RequestCode.QUERY_CONSUMER_OFFSET, 0).field("consumerGroup", c.group).field("topic", queue.topic())
                    .field("queueId", queue.id()), "offset of " + queue, ResponseCode.QUERY_NOT_FOUND), "offset of " + queue);
            if (answer.code() == ResponseCode.SUCCESS) {
                long at = ClientInstance.number(answer, "offset");
                committed = at; // the group's already
                return at;
            }
        }
        if (c.fromFirst || queue.topic().equals(c.retryTopic())) {
            return 0;
        }
        RemotingCommand max = ClientInstance.join(c.instance.call(broker, RemotingCommand.request(
                RequestCode.GET_MAX_OFFSET, 0).field("topic", queue.topic()).field("queueId", queue.id()),
                "end of " + queue), "end of " + queue);
        return ClientInstance.number(max, "offset");
    }

    void pull() {
        if (stopped || !c.isStarted()) {
            return;
        }
        PushConsumerImpl.Sub sub = c.subscriptions.get(queue.topic());
        RemotingCommand request = RemotingCommand.request(RequestCode.PULL_MESSAGE, 0).field("consumerGroup", c.group)
                .field("topic", queue.topic()).field("queueId", queue.id()).field("queueOffset", offset)
                .field("maxMsgNums", PULL_BATCH).field("sysFlag", FLAG_SUSPEND | FLAG_SUBSCRIPTION).field("commitOffset", 0)
                .field("suspendTimeoutMillis", SUSPEND_MILLIS).field("subscription", sub == null ? "*" : sub.expression())
                .field("subVersion", c.subVersion).field("expressionType", "TAG");
        c.instance.call(broker, request, SUSPEND_MILLIS + c.instance.timeoutMillis, "pull from " + queue,
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
                }, c.consumeThreads);
    }

    private void later(Runnable r) {
        c.instance.timer.schedule(() -> c.consumeThreads.execute(r), 1, TimeUnit.SECONDS);
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
            PushConsumerImpl.Sub sub = subOf(w);
            if (sub == null) {
                i++;
                continue;
            }
            if (sub.listener() instanceof BatchMessageListener batch) {
                List<WireMessage> group = new ArrayList<>();
                while (i < messages.size() && group.size() < c.batchSize && subOf(messages.get(i)) == sub) {
                    group.add(messages.get(i++));
                }
                List<Message> oms = new ArrayList<>();
                group.forEach(g -> oms.add(Messages.toOms(g, sub.omsTopic())));
                if (action(() -> batch.consume(oms, new ConsumeContext())) == Action.ReconsumeLater) {
                    for (WireMessage g : group) {
                        if (!sendBack(g)) {
                            offset = g.queueOffset();
                            c.consumeThreads.execute(this::pull);
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
                    sleep(c.suspendRetryMillis);
                }
            } else if (action(() -> ((MessageListener) sub.listener()).consume(m, new ConsumeContext()))
                    == Action.ReconsumeLater && !sendBack(w)) {
                offset = w.queueOffset();
                c.consumeThreads.execute(this::pull);
                return false;
            }
            i++;
        }
        return !stopped;
    }

    /** The subscription a pulled message is for (a retried one: its original topic's), null when none takes it. */
    private PushConsumerImpl.Sub subOf(WireMessage w) {
        String topic = queue.topic().equals(c.retryTopic()) && w.properties().get(MessageProperty.RETRY_TOPIC) != null
                ? w.properties().get(MessageProperty.RETRY_TOPIC) : queue.topic();
        PushConsumerImpl.Sub sub = c.subscriptions.get(topic);
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
        if (c.broadcasting || c.orderly) {
            int again = retriesInPlace.merge(w.queueOffset(), 1, Integer::sum);
            if (again <= c.maxReconsumeTimes) {
                sleep(c.suspendRetryMillis);
                return false;
            }
            retriesInPlace.remove(w.queueOffset());
            System.getLogger(PushConsumerImpl.class.getName()).log(System.Logger.Level.WARNING,
                    "message " + w.properties().get(MessageProperty.UNIQ_KEY) + " of " + queue + " not consumed after "
                            + c.maxReconsumeTimes + " attempts; skipped");
            return true;
        }
        return sendBackToGateway(w);
    }

    private boolean sendBackToGateway(WireMessage w) {
        RemotingCommand back = RemotingCommand.request(RequestCode.CONSUMER_SEND_MSG_BACK, 0).field("offset",
                w.physicalOffset()).field("group", c.group).field("delayLevel", 0)
                .field("originMsgId", w.properties().get(MessageProperty.UNIQ_KEY)).field("originTopic", w.topic())
                .field("unitMode", false).field("maxReconsumeTimes", c.maxReconsumeTimes);
        try {
            ClientInstance.join(c.instance.call(broker, back, "send-back"), "send-back");
            return true;
        } catch (OMSRuntimeException e) {
            sleep(c.suspendRetryMillis); // consumed again after a pause, not in a tight loop
            return false;
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
