package io.omnibus.oms;

import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.WireMessage;
import io.openmessaging.api.Message;
import io.openmessaging.api.MessageBuilder;
import io.openmessaging.api.OnExceptionContext;
import io.openmessaging.api.Producer;
import io.openmessaging.api.SendCallback;
import io.openmessaging.api.SendResult;
import io.openmessaging.api.TransactionalResult;
import io.openmessaging.api.exception.OMSRuntimeException;
import io.openmessaging.api.order.OrderProducer;
import io.openmessaging.api.transaction.GenericLocalTransactionChecker;
import io.openmessaging.api.transaction.GenericLocalTransactionExecuter;
import io.openmessaging.api.transaction.LocalTransactionChecker;
import io.openmessaging.api.transaction.LocalTransactionExecuter;
import io.openmessaging.api.transaction.TransactionProducer;
import io.openmessaging.api.transaction.TransactionStatus;
import io.omnibus.openmessaging.remoting.MessageProperty;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link Producer}, {@link OrderProducer} and {@link TransactionProducer} over SEND_MESSAGE. A send returns (or
 * calls back) once the gateway stored the message. Queues are taken in turn; an order producer's sharding key picks
 * one queue for every message with that key; a transaction producer sends a half message, runs the local
 * transaction and ends it, and answers the gateway's check-backs with its checker.
 */
public final class ProducerImpl extends Lifecycle implements Producer, OrderProducer, TransactionProducer {
    private static final int TRANSACTION_PREPARED = 0x4;
    private static final int COMMIT = 8;
    private static final int ROLLBACK = 12;
    private static final int UNKNOWN = 0;

    private final String group;
    private final LocalTransactionChecker checker;
    private final Map<String, LocalTransactionChecker> checkers = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger();
    private volatile Executor callbackExecutor;

    ProducerImpl(ClientInstance instance, String group, Properties properties, LocalTransactionChecker checker) {
        super(instance, "producer " + group);
        this.group = instance.wireGroup(group);
        this.checker = checker;
    }

    @Override
    protected void onStart() {
        if (instance.producers.putIfAbsent(group, this) != null) {
            throw new OMSRuntimeException(io.openmessaging.api.OMSResponseStatus.STATUS_1409.getStatusCode(),
                    "a producer of group " + group + " is already started on this access point");
        }
    }

    @Override
    protected void onShutdown() {
        instance.producers.remove(group, this);
    }

    @Override
    public <T> MessageBuilder<T> messageBuilder() {
        throw Errors.unsupported("MessageBuilder (schemas and serializers)");
    }

    @Override
    public void setCallbackExecutor(ExecutorService callbackExecutor) {
        this.callbackExecutor = callbackExecutor;
    }

    // ---- sends -------------------------------------------------------------------------------------------------

    @Override
    public SendResult send(Message message) {
        return ClientInstance.join(sendAsync(message, -1, 0), "send to " + message.getTopic());
    }

    @Override
    public void sendOneway(Message message) {
        checkStarted();
        Outgoing out = outgoing(message, -1, 0);
        try {
            instance.connection(out.route.brokerAddress()).oneway(out.request);
        } catch (IOException e) {
            throw Errors.of("oneway send to " + message.getTopic(), e);
        }
    }

    @Override
    public void sendAsync(Message message, SendCallback callback) {
        Executor executor = callbackExecutor != null ? callbackExecutor : instance.callbacks;
        CompletableFuture<SendResult> sent;
        try {
            sent = sendAsync(message, -1, 0);
        } catch (OMSRuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenCompleteAsync((result, err) -> {
            if (err == null) {
                callback.onSuccess(result);
            } else {
                OnExceptionContext ctx = new OnExceptionContext();
                ctx.setTopic(message.getTopic());
                ctx.setMessageId(message.getMsgID());
                ctx.setException(Errors.of("send to " + message.getTopic(), err));
                callback.onException(ctx);
            }
        }, executor);
    }

    @Override
    public SendResult send(Message message, String shardingKey) {
        if (shardingKey == null || shardingKey.isEmpty()) {
            throw Errors.badParameter("an ordered send needs a sharding key");
        }
        message.setShardingKey(shardingKey);
        int queues = instance.route(instance.wireTopic(message.getTopic())).queues();
        return ClientInstance.join(sendAsync(message, (shardingKey.hashCode() & Integer.MAX_VALUE) % queues, 0),
                "ordered send to " + message.getTopic());
    }

    /** The message as a request, and the route it goes by. */
    private record Outgoing(ClientInstance.Route route, RemotingCommand request, String id) {
    }

    private Outgoing outgoing(Message m, int queue, int sysFlag) {
        if (m == null || m.getTopic() == null || m.getTopic().isEmpty()) {
            throw Errors.badParameter("a message needs a topic");
        }
        if (m.getBody() == null) {
            throw new io.openmessaging.api.exception.OMSMessageFormatException(
                    io.openmessaging.api.OMSResponseStatus.STATUS_1402.getStatusCode(), "the message has no body");
        }
        String topic = instance.wireTopic(m.getTopic());
        ClientInstance.Route route = instance.route(topic);
        String id = Messages.newId();
        Map<String, String> props = Messages.properties(m, id);
        if ((sysFlag & TRANSACTION_PREPARED) != 0) {
            props.put(MessageProperty.TRAN_MSG, "true");
            props.put(MessageProperty.PGROUP, group);
        }
        int q = queue >= 0 ? queue : (next.getAndIncrement() & Integer.MAX_VALUE) % route.queues();
        RemotingCommand request = RemotingCommand.request(RequestCode.SEND_MESSAGE, 0).field("producerGroup", group)
                .field("topic", topic).field("defaultTopic", "TBW102").field("defaultTopicQueueNums", 4).field("queueId", q)
                .field("sysFlag", sysFlag).field("bornTimestamp", System.currentTimeMillis()).field("flag", 0)
                .field("properties", WireMessage.propertiesString(props)).field("reconsumeTimes", 0)
                .field("unitMode", false).field("batch", false).body(m.getBody());
        return new Outgoing(route, request, id);
    }

    /** Sends; completes with the result (the message id set on {@code message} too). */
    private CompletableFuture<SendResult> sendAsync(Message message, int queue, int sysFlag) {
        checkStarted();
        Outgoing out = outgoing(message, queue, sysFlag);
        return instance.call(out.route.brokerAddress(), out.request, "send to " + message.getTopic()).thenApply(answer -> {
            message.setMsgID(out.id);
            SendResult r = sysFlag != 0 ? new Prepared(answer) : new SendResult();
            r.setTopic(message.getTopic());
            r.setMessageId(out.id);
            return r;
        });
    }

    // ---- transactions --------------------------------------------------------------------------------------

    @Override
    public SendResult send(Message message, LocalTransactionExecuter executer, Object arg) {
        Prepared half = (Prepared) ClientInstance.join(sendAsync(message, -1, TRANSACTION_PREPARED),
                "transactional send to " + message.getTopic());
        TransactionStatus status;
        try {
            status = executer.execute(message, arg);
        } catch (RuntimeException e) {
            status = TransactionStatus.Unknow; // decided later, by a check-back
        }
        try {
            half.end(status, false);
        } catch (OMSRuntimeException e) {
            // the local transaction ran: the gateway asks the checker (check-back) while it does not know the outcome
            System.getLogger(ProducerImpl.class.getName()).log(System.Logger.Level.WARNING, "ending the transaction of "
                    + half.getMessageId() + " failed; the gateway will check back", e);
        }
        return half;
    }

    @Override
    public <T> SendResult send(Message message, GenericLocalTransactionExecuter<T> executer, Object arg) {
        throw Errors.unsupported("GenericLocalTransactionExecuter (schemas and serializers)");
    }

    @Override
    public TransactionalResult prepare(Message message) {
        return (Prepared) ClientInstance.join(sendAsync(message, -1, TRANSACTION_PREPARED),
                "transactional send to " + message.getTopic());
    }

    @Override
    public <T> boolean registerGenericLocalTransactionChecker(String topic, GenericLocalTransactionChecker<T> c) {
        throw Errors.unsupported("GenericLocalTransactionChecker (schemas and serializers)");
    }

    @Override
    public boolean registerLocalTransactionChecker(String topic, LocalTransactionChecker c) {
        return checkers.put(instance.wireTopic(topic), c) == null;
    }

    /** A half message sent: its location at the gateway, to end it. */
    private final class Prepared extends TransactionalResult {
        private final long physicalOffset;
        private final long queueOffset;

        Prepared(RemotingCommand answer) {
            this.physicalOffset = WireMessage.physicalOffsetOf(answer.field("msgId"));
            this.queueOffset = Long.parseLong(answer.field("queueOffset"));
        }

        @Override
        public void commit() {
            end(TransactionStatus.CommitTransaction, false);
        }

        @Override
        public void rollback() {
            end(TransactionStatus.RollbackTransaction, false);
        }

        void end(TransactionStatus status, boolean fromCheck) {
            endTransaction(instance.route(instance.wireTopic(getTopic())).brokerAddress(), status, physicalOffset,
                    queueOffset, getMessageId(), fromCheck);
        }
    }

    private void endTransaction(String address, TransactionStatus status, long physicalOffset, long queueOffset, String id,
                                boolean fromCheck) {
        int type = switch (status) {
            case CommitTransaction -> COMMIT;
            case RollbackTransaction -> ROLLBACK;
            default -> UNKNOWN;
        };
        // two-way (RocketMQ's clients send it oneway): an outcome the gateway did not store is an error, retried once
        OMSRuntimeException last = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            RemotingCommand end = RemotingCommand.request(RequestCode.END_TRANSACTION, 0).field("producerGroup", group)
                    .field("tranStateTableOffset", queueOffset).field("commitLogOffset", physicalOffset)
                    .field("commitOrRollback", type).field("fromTransactionCheck", fromCheck).field("msgId", id)
                    .field("transactionId", id);
            try {
                ClientInstance.join(instance.call(address, end, "ending the transaction of " + id),
                        "ending the transaction of " + id);
                return;
            } catch (OMSRuntimeException e) {
                last = e;
            }
        }
        throw last;
    }

    /** A check-back for a half message of this producer's group: answers with the checker's verdict. */
    boolean checkBack(String address, RemotingCommand request) {
        if (request.body() == null) {
            return false;
        }
        WireMessage w;
        try {
            w = WireMessage.decodeStored(ByteBuffer.wrap(ClientInstance.bytes(request)));
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (!group.equals(w.properties().get(MessageProperty.PGROUP))) {
            return false;
        }
        LocalTransactionChecker c = checkers.getOrDefault(w.topic(), checker);
        if (c == null) {
            return true; // nobody can tell: asked again later
        }
        Message m = Messages.toOms(w, instance.omsTopic(w.topic()));
        TransactionStatus status;
        try {
            status = c.check(m);
        } catch (RuntimeException e) {
            status = TransactionStatus.Unknow;
        }
        try {
            endTransaction(address, status, ClientInstance.number(request, "commitLogOffset"),
                    ClientInstance.number(request, "tranStateTableOffset"), m.getMsgID(), true);
        } catch (OMSRuntimeException e) {
            // asked again later
        }
        return true;
    }
}
