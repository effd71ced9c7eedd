package io.omnibus.openmessaging;

import io.micrometer.core.instrument.Counter;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Broker;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.PreparedTransaction;
import io.omnibus.core.spi.Transaction;
import io.omnibus.openmessaging.remoting.MessageProperty;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RemotingException;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.omnibus.openmessaging.remoting.WireMessage;
import io.vertx.core.Future;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Transactional (half) messages, as prepared transactions of the core ({@link Transaction#prepare}): a half message
 * is a transaction of one message staged for its queue, durable in the core's {@link Transaction#PREPARED} log and
 * invisible to consumers; its RocketMQ commit log offset is its place there. END_TRANSACTION resolves it
 * ({@link Broker#resolve}: a commit publishes it, atomically with its outcome, once; a rollback records the outcome).
 * A half message left unresolved past {@code transaction-timeout} is asked about (CHECK_TRANSACTION_STATE to a live
 * producer of its group), again every {@code transaction-check-interval}, up to {@code transaction-max-checks}
 * times, after which it is rolled back (counted). The check counts live here, on the services' context: a restart
 * starts them again.
 */
final class Transactions {
    static final Address ADDRESS = Transaction.PREPARED;
    /** The prepared transaction's attributes: the producer group, and that it is RocketMQ's. */
    static final String GROUP = "rocketmq.producer-group";
    private static final int COMMIT = 8;
    private static final int ROLLBACK = 12;

    private final OpenMessagingServer server;
    private final Broker broker;
    private final AtomicInteger opaque = new AtomicInteger(1 << 29);
    private final Counter abandoned;
    private final Counter checks;
    /** Check-backs sent per half message (by id) and when the last went; confined to the services' context. */
    private final Map<String, long[]> asked = new HashMap<>();
    private long timer = -1;

    Transactions(OpenMessagingServer server) {
        this.server = server;
        this.broker = server.ctx.broker();
        this.abandoned = Counter.builder("omnibus.openmessaging.transactions.abandoned")
                .description("Half messages rolled back after transaction-max-checks unanswered check-backs")
                .register(server.ctx.meters());
        this.checks = Counter.builder("omnibus.openmessaging.transactions.checks")
                .description("CHECK_TRANSACTION_STATE requests sent to producers").register(server.ctx.meters());
    }

    /** On the services' context: the check-backs' timer. */
    Future<Void> start() {
        long every = Math.max(50, Math.min(server.config.transactionTimeout().toMillis(),
                server.config.transactionCheckInterval().toMillis()) / 2);
        timer = server.ctx.vertx().setPeriodic(every, t -> server.onService(this::checkDue));
        return Future.succeededFuture();
    }

    Future<Void> stop() {
        if (timer >= 0) {
            server.ctx.vertx().cancelTimer(timer);
        }
        return Future.succeededFuture();
    }

    /** Stores a half message bound for {@code queue} of its address: a prepared transaction of one message. */
    Future<Producing.Stored> prepare(Envelope env, int queue, String group) {
        Transaction tx = broker.begin();
        return tx.publish(Scheduler.withoutInternal(env.toBuilder()).build(), queue)
                .compose(x -> tx.prepare(Map.of(GROUP, group)))
                .map(id -> new Producing.Stored(ADDRESS, 0, Long.parseLong(id)));
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
        String id = Long.toString(Routing.offsetOf(physical));
        boolean commit = type == COMMIT;
        return broker.preparedTransactions().compose(open -> {
            PreparedTransaction tx = open.stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
            if (tx != null && !group.equals(tx.attributes().get(GROUP))) {
                throw new RemotingException(ResponseCode.SYSTEM_ERROR, "The producer group wrong");
            }
            return broker.resolve(id, commit); // resolved before: its first outcome stands
        }).map(v -> cmd.reply(ResponseCode.SUCCESS, null)).recover(err -> {
            if (err instanceof BrokerException b && b.reason() == BrokerException.Reason.NOT_FOUND) {
                return Future.failedFuture(new RemotingException(ResponseCode.SYSTEM_ERROR,
                        "Find prepared transaction message failed"));
            }
            OpenMessagingServer.LOG.warn("openmessaging: END_TRANSACTION of half message {} ({}) failed: {}", id,
                    commit ? "commit" : "rollback", err.getMessage());
            return Future.failedFuture(err);
        });
    }

    /** On the services' context: asks producers about the half messages due for a check; rolls back the abandoned. */
    private Future<Void> checkDue() {
        return broker.preparedTransactions().map(open -> {
            long now = System.currentTimeMillis();
            Set<String> live = new HashSet<>();
            for (PreparedTransaction tx : open) {
                String group = tx.attributes().get(GROUP);
                if (group == null) {
                    continue; // another protocol's
                }
                live.add(tx.id());
                if (now - tx.preparedAt() < server.config.transactionTimeout().toMillis()) {
                    continue;
                }
                long[] state = asked.computeIfAbsent(tx.id(), k -> new long[2]); // {count, last asked at}
                if (state[1] > 0 && now - state[1] < server.config.transactionCheckInterval().toMillis()) {
                    continue;
                }
                if (state[0] >= server.config.transactionMaxChecks()) {
                    abandoned.increment();
                    OpenMessagingServer.LOG.warn("openmessaging: half message {} of producer group {} unresolved after "
                            + "{} check-backs; rolled back", tx.id(), group, state[0]);
                    state[1] = now;
                    broker.resolve(tx.id(), false);
                    continue;
                }
                state[0]++;
                state[1] = now;
                RemotingConnection producer = server.clients.producer(group);
                if (producer != null) {
                    checks.increment();
                    broker.preparedMessages(tx.id()).onSuccess(staged -> producer.sendOneway(checkRequest(tx, staged)));
                }
            }
            asked.keySet().retainAll(live);
            return null;
        });
    }

    /** CHECK_TRANSACTION_STATE: the half message as RocketMQ's broker sends it (its real topic and queue). */
    private RemotingCommand checkRequest(PreparedTransaction tx, List<PreparedTransaction.Staged> staged) {
        Envelope e = staged.get(0).envelope();
        int queue = Math.max(0, staged.get(0).partition());
        long half = Long.parseLong(tx.id());
        long physical = Routing.physical(ADDRESS, 0, half);
        String topic = RocketNames.toRocket(e.address());
        WireMessage m = server.wire(topic, queue, half, physical, e);
        m.properties().put(MessageProperty.PGROUP, tx.attributes().get(GROUP));
        m.properties().put(MessageProperty.TRAN_MSG, "true");
        String offsetId = WireMessage.offsetMessageId(server.hostBytes(), server.advertisedPort(), physical);
        String id = e.messageId() != null ? e.messageId() : offsetId;
        return RemotingCommand.request(RequestCode.CHECK_TRANSACTION_STATE, opaque.incrementAndGet())
                .field("tranStateTableOffset", half).field("commitLogOffset", physical).field("msgId", id)
                .field("transactionId", id).field("offsetMsgId", offsetId)
                .body(m.encodeStoredWhole(server.hostBytes(), server.advertisedPort()));
    }
}
