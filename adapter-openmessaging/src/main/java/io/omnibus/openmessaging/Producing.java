package io.omnibus.openmessaging;

import io.micrometer.core.instrument.Counter;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.Logs;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RemotingException;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.omnibus.openmessaging.remoting.WireMessage;
import io.omnibus.openmessaging.remoting.MessageProperty;
import io.vertx.core.Future;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Sends (single, batch; sync, async and oneway are the client's matter) and consumers' send-backs. A message is
 * answered SEND_OK only once stored as durably as the store's policy says; a connection's plain sends to one queue that
 * come together are appended together ({@link SendRuns}). Delayed messages are held by the
 * {@link Scheduler}, half messages by {@link Transactions}; a send-back goes to the group's retry topic after its
 * delay level's backoff, or to its dead-letter topic past the maximum reconsume times.
 */
final class Producing {
    /** SEND_MESSAGE_V2's one-letter header names, in RocketMQ's order. */
    private static final String[] V2_NAMES = {"producerGroup", "topic", "defaultTopic", "defaultTopicQueueNums", "queueId",
        "sysFlag", "bornTimestamp", "flag", "properties", "reconsumeTimes", "unitMode", "maxReconsumeTimes", "batch",
        "brokerName"};

    /** Where a sent message was stored (for its offset message id). */
    record Stored(Address address, int queue, long offset) {
    }

    private final OpenMessagingServer server;
    private final Logs logs;
    private final Counter deadLettered;

    Producing(OpenMessagingServer server) {
        this.server = server;
        this.logs = server.ctx.broker().logs();
        this.deadLettered = Counter.builder("omnibus.openmessaging.dead.lettered")
                .description("RocketMQ messages moved to a group's %DLQ% topic").register(server.ctx.meters());
    }

    /** The send header by its full names, whether it came in V1 or V2 form. */
    private static Map<String, String> header(RemotingCommand cmd) {
        if (cmd.code() == RequestCode.SEND_MESSAGE) {
            return cmd.fields();
        }
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < V2_NAMES.length; i++) {
            String v = cmd.field(String.valueOf((char) ('a' + i)));
            if (v != null) {
                out.put(V2_NAMES[i], v);
            }
        }
        return out;
    }

    Future<RemotingCommand> send(RemotingConnection conn, RemotingCommand cmd) {
        Map<String, String> h = header(cmd);
        String topic = required(h, "topic");
        int sysFlag = number(h, "sysFlag", 0);
        Map<String, String> props = properties(h.get("properties"));
        ByteBuffer payload = payload(cmd.body(), sysFlag);
        int requested = number(h, "queueId", -1);
        int reconsume = number(h, "reconsumeTimes", 0);
        return server.routing.queues(topic, true).compose(n -> {
            Address address = RocketNames.toAddress(topic);
            int queue = queue(requested, n, topic);
            Envelope env = Translation.toEnvelope(address, number(h, "flag", 0), number(h, "bornTimestamp", 0L),
                    reconsume, props, payload, conn.origin);
            if (RocketNames.isRetry(address) && reconsume >= number(h, "maxReconsumeTimes", server.config.maxReconsumeTimes())) {
                // a consumer's own send-back (when CONSUMER_SEND_MSG_BACK failed) past its maximum
                String group = address.name().substring(RocketNames.RETRY_ADDRESS.length());
                return deadLetter(env, group);
            }
            long now = System.currentTimeMillis();
            boolean prepared = (sysFlag & WireMessage.TRANSACTION_TYPE_MASK) == WireMessage.TRANSACTION_PREPARED
                    || "true".equals(props.get(MessageProperty.TRAN_MSG));
            if (prepared) {
                return server.transactions.prepare(env, queue, required(h, "producerGroup"));
            }
            long deliverAt = Translation.deliverAt(props, server.config, now);
            if (deliverAt > 0) {
                return server.scheduler.schedule(env, queue, deliverAt);
            }
            // with the connection's other sends to that queue, in one append ({@link SendRuns})
            return conn.sends().add(address, queue, env).map(offset -> new Stored(address, queue, offset));
        }).map(stored -> sendReply(cmd, stored, requested < 0 ? stored.queue() : requested,
                offsetMessageId(stored.address(), stored.queue(), stored.offset()), props.get(MessageProperty.UNIQ_KEY)));
    }

    Future<RemotingCommand> sendBatch(RemotingConnection conn, RemotingCommand cmd) {
        Map<String, String> h = header(cmd);
        String topic = required(h, "topic");
        if (cmd.body() == null) {
            throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the batch has no messages");
        }
        List<WireMessage.BatchItem> items;
        try {
            items = WireMessage.decodeBatch(cmd.body());
        } catch (IllegalArgumentException e) {
            throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the batch is malformed: " + e.getMessage());
        }
        if (items.isEmpty()) {
            throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the batch has no messages");
        }
        if (items.size() > server.config.maxBatchMessages()) {
            throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the batch holds " + items.size()
                    + " messages; openmessaging.max-batch-messages is " + server.config.maxBatchMessages());
        }
        long born = number(h, "bornTimestamp", 0L);
        int requested = number(h, "queueId", -1);
        for (WireMessage.BatchItem item : items) {
            if (!item.body().hasRemaining()) {
                throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "a message of the batch has an empty body");
            }
            if (Translation.propertiesBytes(item.properties()) > Translation.MAX_PROPERTIES_BYTES) {
                throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "a message of the batch has more than "
                        + Translation.MAX_PROPERTIES_BYTES + " bytes of properties");
            }
            checkSize(item.body());
            if (Translation.deliverAt(item.properties(), server.config, System.currentTimeMillis()) > 0
                    || "true".equals(item.properties().get(MessageProperty.TRAN_MSG))) {
                throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL,
                        "delayed and transactional messages cannot be sent in a batch");
            }
        }
        return server.routing.queues(topic, true).compose(n -> {
            Address address = RocketNames.toAddress(topic);
            if (RocketNames.isRetry(address)) {
                throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "batches cannot be sent to a retry topic");
            }
            int queue = queue(requested, n, topic);
            List<Envelope> batch = new ArrayList<>(items.size());
            for (WireMessage.BatchItem item : items) {
                batch.add(Translation.toEnvelope(address, item.flag(), born, 0, item.properties(), item.body(), conn.origin));
            }
            return logs.append(batch, queue).map(r -> {
                StringJoiner ids = new StringJoiner(",");
                for (int i = 0; i < items.size(); i++) {
                    ids.add(offsetMessageId(address, queue, r.offset() + i));
                }
                return sendReply(cmd, new Stored(address, queue, r.offset()), queue, ids.toString(), null);
            });
        });
    }

    /**
     * CONSUMER_SEND_MSG_BACK: a consumer could not process a message. It goes to the group's retry topic after the
     * delay of its level (3 + its reconsume times when the consumer names none), or to the dead-letter topic once it
     * was reconsumed the maximum times (or the consumer asks for it with a negative level).
     */
    Future<RemotingCommand> sendBack(RemotingConnection conn, RemotingCommand cmd) {
        String group = RocketNames.checkGroup(cmd.required("group"));
        long physical = cmd.requiredLong("offset");
        Address origin = null;
        try {
            origin = cmd.field("originTopic") == null ? null : RocketNames.toAddress(cmd.field("originTopic"));
        } catch (InvalidAddressException e) {
            // located by the physical offset alone
        }
        int max = cmd.intField("maxReconsumeTimes", server.config.maxReconsumeTimes());
        int level = cmd.intField("delayLevel", 0);
        String originMsgId = cmd.field("originMsgId");
        java.util.function.Predicate<Address> mayRead = conn.mayRead();
        return server.routing.find(physical, RocketNames.retryTopic(group), origin).compose(found -> {
            if (found == null) {
                throw new RemotingException(ResponseCode.SYSTEM_ERROR, "look message by offset failed, " + physical);
            }
            if (!mayRead.test(found.address())) { // a send-back copies the message into the group's retry topic
                throw new RemotingException(ResponseCode.NO_PERMISSION, "not authorized to read that message's topic");
            }
            Address from = found.address();
            Envelope e = found.entry().envelope();
            int reconsumed = e.deliveryCount();
            Envelope.Builder b = e.toBuilder().deliveryCount(reconsumed + 1);
            if (e.header(Translation.PREFIX + MessageProperty.RETRY_TOPIC) == null) {
                b.header(Translation.PREFIX + MessageProperty.RETRY_TOPIC, RocketNames.toRocket(from));
            }
            if (e.header(Translation.PREFIX + MessageProperty.ORIGIN_MESSAGE_ID) == null) {
                String id = originMsgId != null && !originMsgId.isEmpty() ? originMsgId : e.messageId();
                if (id != null) {
                    b.header(Translation.PREFIX + MessageProperty.ORIGIN_MESSAGE_ID, id);
                }
            }
            if (reconsumed >= max || level < 0) {
                return deadLetter(b.build(), group);
            }
            Address retry = RocketNames.retryTopic(group);
            int delayLevel = level == 0 ? 3 + reconsumed : level;
            long at = System.currentTimeMillis() + server.config.delayOf(Math.max(1, delayLevel)).toMillis();
            return logs.partitions(retry, 1, true)
                    .compose(n -> server.scheduler.schedule(b.address(retry).build(), 0, at));
        }).map(stored -> cmd.reply(ResponseCode.SUCCESS, null));
    }

    private Future<Stored> deadLetter(Envelope env, String group) {
        Address dlq = RocketNames.deadLetterTopic(group);
        Envelope out = env.toBuilder().address(dlq).deliverAt(0).build();
        return logs.partitions(dlq, 1, true).compose(n -> logs.append(out, 0)).map(r -> {
            deadLettered.increment();
            return new Stored(dlq, 0, r.offset());
        });
    }

    private RemotingCommand sendReply(RemotingCommand cmd, Stored stored, int queue, String msgId, String transactionId) {
        return cmd.reply(ResponseCode.SUCCESS, null).field("msgId", msgId).field("queueId", queue)
                .field("queueOffset", stored.offset()).field("transactionId", transactionId)
                .field("MSG_REGION", "DefaultRegion").field("TRACE_ON", "true");
    }

    String offsetMessageId(Address address, int queue, long offset) {
        return WireMessage.offsetMessageId(server.hostBytes(), server.advertisedPort(), Routing.physical(address, queue, offset));
    }

    private static int queue(int requested, int queues, String topic) {
        if (requested < 0) {
            return ThreadLocalRandom.current().nextInt(queues);
        }
        if (requested >= queues) {
            throw new RemotingException(ResponseCode.SYSTEM_ERROR, "request queueId[" + requested + "] is illegal, topic:["
                    + topic + "] topicConfig.writeQueueNums:[" + queues + "]");
        }
        return requested;
    }

    /** The payload of a single send: the body, inflated when the producer compressed it (zlib). */
    private ByteBuffer payload(ByteBuffer body, int sysFlag) {
        if (body == null || !body.hasRemaining()) {
            throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the message body is empty");
        }
        if ((sysFlag & WireMessage.COMPRESSED) == 0) {
            checkSize(body);
            return body;
        }
        int type = sysFlag & WireMessage.COMPRESSION_TYPE_MASK;
        if (type != 0 && type != WireMessage.COMPRESSION_ZLIB) {
            throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the body is compressed with a codec the gateway "
                    + "does not read (sysFlag " + sysFlag + "); only zlib is");
        }
        int max = server.ctx.broker().maxMessageSize();
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(body.duplicate());
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, body.remaining() * 4));
            byte[] chunk = new byte[8192];
            while (!inflater.finished()) {
                int n = inflater.inflate(chunk);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the compressed body is truncated");
                }
                out.write(chunk, 0, n);
                if (out.size() > max) {
                    throw tooLarge(out.size());
                }
            }
            return ByteBuffer.wrap(out.toByteArray());
        } catch (DataFormatException e) {
            throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the compressed body is not zlib: " + e.getMessage());
        } finally {
            inflater.end();
        }
    }

    private void checkSize(ByteBuffer body) {
        if (body.remaining() > server.ctx.broker().maxMessageSize()) {
            throw tooLarge(body.remaining());
        }
    }

    private RemotingException tooLarge(int size) {
        return new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the message body size over max value, MAX: "
                + server.ctx.broker().maxMessageSize() + " (this one: " + size + " bytes or more)");
    }

    /** A send's properties; more than RocketMQ's layout can carry back (32767 bytes) is refused, as RocketMQ does. */
    private static Map<String, String> properties(String text) {
        if (text != null && text.length() > Translation.MAX_PROPERTIES_BYTES
                && text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > Translation.MAX_PROPERTIES_BYTES) {
            throw new RemotingException(ResponseCode.MESSAGE_ILLEGAL, "the message properties are more than "
                    + Translation.MAX_PROPERTIES_BYTES + " bytes");
        }
        return WireMessage.parseProperties(text);
    }

    private static String required(Map<String, String> h, String name) {
        String v = h.get(name);
        if (v == null || v.isEmpty()) {
            throw new RemotingException(ResponseCode.SYSTEM_ERROR, "the header field '" + name + "' is missing");
        }
        return v;
    }

    private static int number(Map<String, String> h, String name, int absent) {
        return (int) number(h, name, (long) absent);
    }

    private static long number(Map<String, String> h, String name, long absent) {
        String v = h.get(name);
        if (v == null || v.isEmpty()) {
            return absent;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new RemotingException(ResponseCode.SYSTEM_ERROR, "the header field '" + name + "' is not a number: '" + v + "'");
        }
    }
}
