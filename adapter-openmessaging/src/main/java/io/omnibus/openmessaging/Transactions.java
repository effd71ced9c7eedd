package io.omnibus.openmessaging;

import io.micrometer.core.instrument.Counter;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.Transaction;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RemotingException;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.omnibus.openmessaging.remoting.WireMessage;
import io.omnibus.openmessaging.remoting.MessageProperty;
import io.vertx.core.Future;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Transactional (half) messages. A half message is stored in the gateway's log {@code $rocketmq/half}, invisible
 * to consumers. END_TRANSACTION commits it through a core {@link Transaction} (the message appended to its queue and
 * the outcome kept, in one atomic append) or rolls it back (the outcome kept). A durable core subscription on the half log hands each half message back after
 * {@code transaction-timeout}: unresolved, its producer group is asked (CHECK_TRANSACTION_STATE to a live producer
 * of the group) and the question is asked again every {@code transaction-check-interval}, up to
 * {@code transaction-max-checks} times, after which it is rolled back (counted). Outcomes are forgotten once
 * retention removed their half message, so a late or repeated END_TRANSACTION never commits twice.
 */
final class Transactions {
    static final Address ADDRESS = Address.of("$rocketmq/half");
    static final String SUBSCRIPTION = "$rocketmq-half";
    static final String OUTCOMES = "rocketmq.transactions";
    static final String GROUP = Scheduler.INTERNAL + "group";
    static final String HALF_OFFSET = Scheduler.INTERNAL + "half-offset";
    static final String CHECKS = Scheduler.INTERNAL + "checks";
    private static final int COMMIT = 8;
    private static final int ROLLBACK = 12;

    private final OpenMessagingServer server;
    private final Broker broker;
    private final Logs logs;
    /** What became of a half message. */
    private enum Outcome { ENDING, COMMITTED, ROLLED_BACK }

    /**
     * Half messages by their offset in the half log, once an END_TRANSACTION is being handled (ENDING: its commit
     * is being stored) or done.
     */
    private final Map<Long, Outcome> outcomes = new ConcurrentHashMap<>();
    private final AtomicInteger opaque = new AtomicInteger(1 << 29);
    private final Counter abandoned;
    private final Counter checks;
    private Consumer consumer;

    Transactions(OpenMessagingServer server) {
        this.server = server;
        this.broker = server.ctx.broker();
        this.logs = broker.logs();
        this.abandoned = Counter.builder("omnibus.openmessaging.transactions.abandoned")
                .description("Half messages rolled back after transaction-max-checks unanswered check-backs")
                .register(server.ctx.meters());
        this.checks = Counter.builder("omnibus.openmessaging.transactions.checks")
                .description("CHECK_TRANSACTION_STATE requests sent to producers").register(server.ctx.meters());
    }

    /** On the services' context. */
    Future<Void> start() {
        broker.states(OUTCOMES).forEach((k, v) -> outcomes.put(Long.parseLong(k),
                v.length > 0 && v[0] == 'c' ? Outcome.COMMITTED : Outcome.ROLLED_BACK));
        return Scheduler.holder(broker, ADDRESS, SUBSCRIPTION, this::due).map(c -> {
            consumer = c;
            return null;
        });
    }

    Future<Void> stop() {
        return consumer == null ? Future.succeededFuture() : consumer.close();
    }

    /** Stores a half message bound for {@code queue} of its address; checked first after the transaction timeout. */
    Future<Producing.Stored> prepare(Envelope env, int queue, String group) {
        Envelope half = Scheduler.withoutInternal(env.toBuilder()).address(ADDRESS)
                .deliverAt(System.currentTimeMillis() + server.config.transactionTimeout().toMillis())
                .header(Scheduler.TARGET, env.address().name()).header(Scheduler.TARGET_QUEUE, Integer.toString(queue))
                .header(GROUP, group).build();
        return logs.append(half, 0).map(r -> new Producing.Stored(ADDRESS, 0, r.offset()));
    }

    /** END_TRANSACTION (oneway from the client: a failure is only logged and answered to a two-way request). */
    Future<RemotingCommand> end(RemotingCommand cmd) {
        int type = cmd.requiredInt("commitOrRollback");
        long physical = cmd.requiredLong("commitLogOffset");
        String group = cmd.required("producerGroup");
        if (type != COMMIT && type != ROLLBACK) {
            return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null)); // unknown: asked again later
        }
        if (!Routing.within(ADDRESS, physical)) {
            throw new RemotingException(ResponseCode.SYSTEM_ERROR, "the offset " + physical + " is not a half message's");
        }
        long half = Routing.offsetOf(physical);
        boolean commit = type == COMMIT;
        if (outcomes.putIfAbsent(half, Outcome.ENDING) != null) {
            return Future.succeededFuture(cmd.reply(ResponseCode.SUCCESS, null)); // resolved before, or being resolved
        }
        return logs.read(ADDRESS, 0, half, 1).compose(entries -> {
            if (entries.isEmpty() || entries.get(0).offset() != half) {
                throw new RemotingException(ResponseCode.SYSTEM_ERROR, "Find prepared transaction message failed");
            }
            Envelope e = entries.get(0).envelope();
            if (!group.equals(e.header(GROUP))) {
                throw new RemotingException(ResponseCode.SYSTEM_ERROR, "The producer group wrong");
            }
            if (!commit) {
                return broker.putState(OUTCOMES, Long.toString(half), "r".getBytes(StandardCharsets.UTF_8));
            }
            // the message and the outcome in one core transaction: after a crash both are there or neither, so a
            // commit repeated after a restart finds its outcome and never publishes twice
            Address target = Address.of(e.header(Scheduler.TARGET));
            int queue = Translation.number(e.header(Scheduler.TARGET_QUEUE));
            return logs.partitions(target, 0, true).compose(n -> {
                Transaction tx = broker.begin();
                tx.putState(OUTCOMES, Long.toString(half), "c".getBytes(StandardCharsets.UTF_8));
                return tx.publish(Scheduler.release(e, target), Math.min(queue, n - 1)).compose(x -> tx.commit());
            });
        }).map(v -> {
                    outcomes.put(half, commit ? Outcome.COMMITTED : Outcome.ROLLED_BACK);
                    return cmd.reply(ResponseCode.SUCCESS, null);
                })
                .onFailure(err -> {
                    outcomes.remove(half);
                    OpenMessagingServer.LOG.warn("openmessaging: END_TRANSACTION of half message {} ({}) failed: {}", half,
                            commit ? "commit" : "rollback", err.getMessage());
                });
    }

    /** A half message is due for a check: resolved ones are done; others are asked about, then held again. */
    private void due(Delivery d) {
        Envelope e = d.envelope();
        long half;
        try {
            half = e.header(HALF_OFFSET) == null ? d.offset() : Long.parseLong(e.header(HALF_OFFSET));
            Address.of(e.header(Scheduler.TARGET));
        } catch (RuntimeException bad) { // not what the gateway wrote
            consumer.reject(d, "a half message without a valid destination");
            consumer.credit(1);
            return;
        }
        Outcome outcome = outcomes.get(half);
        if (outcome == Outcome.ENDING) {
            // an END_TRANSACTION is being stored: looked at again after the interval, in case it fails
            holdAgain(d, e, half, Translation.number(e.header(CHECKS)));
            return;
        }
        if (outcome != null) {
            settle(d, true);
            return;
        }
        int asked = Translation.number(e.header(CHECKS));
        if (asked >= server.config.transactionMaxChecks()) {
            abandoned.increment();
            OpenMessagingServer.LOG.warn("openmessaging: half message {} of producer group {} unresolved after {} "
                    + "check-backs; rolled back", half, e.header(GROUP), asked);
            if (outcomes.putIfAbsent(half, Outcome.ROLLED_BACK) == null) {
                broker.putState(OUTCOMES, Long.toString(half), "r".getBytes(StandardCharsets.UTF_8))
                        .onComplete(ar -> settle(d, ar.succeeded()));
            } else {
                settle(d, true);
            }
            return;
        }
        RemotingConnection producer = server.clients.producer(e.header(GROUP));
        if (producer != null) {
            checks.increment();
            producer.sendOneway(checkRequest(e, half));
        }
        holdAgain(d, e, half, asked + 1);
    }

    /** Holds a copy of the half message for another look after the check interval, then settles this one. */
    private void holdAgain(Delivery d, Envelope e, long half, int asked) {
        Envelope again = e.toBuilder().removeHeaders(CHECKS).header(CHECKS, Integer.toString(asked))
                .removeHeaders(HALF_OFFSET).header(HALF_OFFSET, Long.toString(half))
                .deliverAt(System.currentTimeMillis() + server.config.transactionCheckInterval().toMillis()).build();
        logs.append(again, 0).onComplete(ar -> settle(d, ar.succeeded()));
    }

    private void settle(Delivery d, boolean done) {
        if (done) {
            consumer.ack(d);
        } else {
            consumer.nack(d);
        }
        consumer.credit(1);
    }

    /** CHECK_TRANSACTION_STATE: the half message as RocketMQ's broker sends it (its real topic and queue). */
    private RemotingCommand checkRequest(Envelope e, long half) {
        Address target = Address.of(e.header(Scheduler.TARGET));
        int queue = Translation.number(e.header(Scheduler.TARGET_QUEUE));
        long physical = Routing.physical(ADDRESS, 0, half);
        String topic = RocketNames.toRocket(target);
        WireMessage m = server.wire(topic, queue, half, physical, Scheduler.release(e, target));
        m.properties().put(MessageProperty.PGROUP, e.header(GROUP));
        m.properties().put(MessageProperty.TRAN_MSG, "true");
        String offsetId = WireMessage.offsetMessageId(server.hostBytes(), server.advertisedPort(), physical);
        String id = e.messageId() != null ? e.messageId() : offsetId;
        return RemotingCommand.request(RequestCode.CHECK_TRANSACTION_STATE, opaque.incrementAndGet())
                .field("tranStateTableOffset", half).field("commitLogOffset", physical).field("msgId", id)
                .field("transactionId", id).field("offsetMsgId", offsetId)
                .body(m.encodeStoredWhole(server.hostBytes(), server.advertisedPort()));
    }

    /** Forgets outcomes of half messages retention removed (on the services' context). */
    Future<Void> prune() {
        long start = logs.startOffset(ADDRESS, 0);
        outcomes.entrySet().removeIf(entry -> {
            long half = entry.getKey();
            if (half < start && entry.getValue() != Outcome.ENDING) {
                broker.putState(OUTCOMES, Long.toString(half), null);
                return true;
            }
            return false;
        });
        return Future.succeededFuture();
    }
}
