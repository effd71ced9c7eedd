package io.omnibus.openmessaging;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.NameMapping;
import io.omnibus.core.spi.Origin;
import io.omnibus.openmessaging.remoting.MessageProperty;
import io.omnibus.openmessaging.remoting.WireMessage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * RocketMQ messages ↔ envelopes (docs/openmessaging.md, "Message mapping").
 *
 * <p>In: the body is the payload (inflated when the producer compressed it); {@code UNIQ_KEY} the message id;
 * {@code KEYS} the key; {@code CORRELATION_ID} the correlation; the born time the creation time; reconsume times
 * the delivery count; user properties headers, {@code content-type} and {@code reply-to} the envelope's fields
 * (Spring's {@code contentType} the content type too when there is no {@code content-type}; it stays a header).
 * {@code TAGS}, a non-zero flag and the retry bookkeeping ({@code RETRY_TOPIC}, {@code ORIGIN_MESSAGE_ID},
 * {@code MAX_RECONSUME_TIMES}) are kept as {@code rocketmq.*} headers so they come back to RocketMQ consumers.
 * Send-side controls ({@code WAIT}, {@code DELAY}, transaction and timer properties) are acted on, not kept.
 * Out: the inverse; binary headers are not carried (RocketMQ properties are text).
 */
final class Translation {
    static final String CONTENT_TYPE = "content-type";
    static final String REPLY_TO = "reply-to";
    /** Header prefix for what RocketMQ has and the envelope does not. */
    static final String PREFIX = "rocketmq.";
    static final String TAGS_HEADER = PREFIX + "tags";
    static final String FLAG_HEADER = PREFIX + "flag";

    /** Properties kept as {@code rocketmq.} headers. */
    private static final Set<String> KEPT = Set.of(MessageProperty.RETRY_TOPIC, MessageProperty.ORIGIN_MESSAGE_ID, MessageProperty.MAX_RECONSUME_TIMES);
    /** Properties that steer the send or are the broker's, not carried. */
    private static final Set<String> CONTROL = Set.of("WAIT", MessageProperty.DELAY, MessageProperty.TRAN_MSG, MessageProperty.PGROUP, "REAL_TOPIC", "REAL_QID",
            "MIN_OFFSET", "MAX_OFFSET", "CONSUME_START_TIME", "MSG_REGION", "TRACE_ON", "TRAN_PREPARED_QUEUE_OFFSET",
            "TRANSACTION_CHECK_TIMES", "CHECK_IMMUNITY_TIME_IN_SECONDS", "RECONSUME_TIME", "CLUSTER", "INSTANCE_ID",
            MessageProperty.TIMER_DELIVER_MS, MessageProperty.TIMER_DELAY_SEC, MessageProperty.TIMER_DELAY_MS, MessageProperty.START_DELIVER_TIME, "__transactionId__",
            MessageProperty.UNIQ_KEY, MessageProperty.KEYS, MessageProperty.TAGS, MessageProperty.CORRELATION_ID, CONTENT_TYPE, REPLY_TO);

    private Translation() {
    }

    /**
     * The envelope of a sent message.
     *
     * @param payload already inflated when it was compressed
     */
    static Envelope toEnvelope(Address address, int flag, long bornTimestamp, int reconsumeTimes,
                               Map<String, String> props, ByteBuffer payload, Origin origin) {
        Envelope.Builder b = Envelope.builder(address).payload(payload).origin(origin).durable(true)
                .createdAt(bornTimestamp > 0 ? bornTimestamp : System.currentTimeMillis())
                .deliveryCount(Math.max(0, reconsumeTimes));
        String id = props.get(MessageProperty.UNIQ_KEY);
        if (id != null && !id.isEmpty()) {
            b.messageId(id);
        }
        String keys = props.get(MessageProperty.KEYS);
        if (keys != null && !keys.isEmpty()) {
            b.key(keys);
        }
        String tags = props.get(MessageProperty.TAGS);
        if (tags != null && !tags.isEmpty()) {
            b.header(TAGS_HEADER, tags);
        }
        if (flag != 0) {
            b.header(FLAG_HEADER, Integer.toString(flag));
        }
        String correlation = props.get(MessageProperty.CORRELATION_ID);
        if (correlation != null) {
            b.correlation(correlation.getBytes(StandardCharsets.UTF_8));
        }
        String contentType = props.get(CONTENT_TYPE);
        if (contentType == null || contentType.isEmpty()) {
            // Spring's header, as Spring Cloud Stream's RocketMQ binder sends it; it also stays a user property
            contentType = props.get(Header.SPRING_CONTENT_TYPE);
        }
        if (contentType != null && !contentType.isEmpty()) {
            b.contentType(contentType);
        }
        if (props.get(REPLY_TO) != null) {
            b.replyTo(props.get(REPLY_TO));
        }
        for (Map.Entry<String, String> e : props.entrySet()) {
            if (KEPT.contains(e.getKey())) {
                b.header(PREFIX + e.getKey(), e.getValue());
            } else if (!CONTROL.contains(e.getKey()) && !e.getKey().startsWith(Scheduler.INTERNAL)) {
                // (the gateway's own bookkeeping headers are never taken from a client)
                b.header(e.getKey(), e.getValue());
            }
        }
        return b.build();
    }

    /**
     * When a sent message is due, from its delay level or timer properties; 0 for at once.
     *
     * @throws RemotingException MESSAGE_ILLEGAL for a deliver time further than {@code max-delay}
     */
    static long deliverAt(Map<String, String> props, OpenMessagingConfig config, long now) {
        int level = number(props.get(MessageProperty.DELAY));
        if (level > 0) {
            return now + config.delayOf(level).toMillis();
        }
        long at = longNumber(props.get(MessageProperty.TIMER_DELIVER_MS));
        if (at <= 0) {
            at = longNumber(props.get(MessageProperty.START_DELIVER_TIME));
        }
        if (at <= 0 && longNumber(props.get(MessageProperty.TIMER_DELAY_SEC)) > 0) {
            at = now + longNumber(props.get(MessageProperty.TIMER_DELAY_SEC)) * 1000;
        }
        if (at <= 0 && longNumber(props.get(MessageProperty.TIMER_DELAY_MS)) > 0) {
            at = now + longNumber(props.get(MessageProperty.TIMER_DELAY_MS));
        }
        if (at > now + config.maxDelay().toMillis()) {
            throw new io.omnibus.openmessaging.remoting.RemotingException(
                    io.omnibus.openmessaging.remoting.ResponseCode.MESSAGE_ILLEGAL, "the deliver time is more than "
                    + "openmessaging.max-delay (" + config.maxDelay() + ") away");
        }
        return at > now ? at : 0;
    }

    /** The largest properties string RocketMQ's layout carries (its length is a signed short). */
    static final int MAX_PROPERTIES_BYTES = Short.MAX_VALUE;
    /** Kept when properties must be cut to fit: the message id and the tag. */
    private static final Set<String> ESSENTIAL = Set.of(MessageProperty.UNIQ_KEY, MessageProperty.TAGS);

    /**
     * The message a RocketMQ consumer gets for a stored envelope. Properties beyond what RocketMQ's layout holds
     * (32767 bytes) are left out, the latest headers first, and {@code cut} is run once.
     */
    static WireMessage toWire(String topic, int queueId, long queueOffset, long physicalOffset, Envelope e, Runnable cut) {
        Map<String, String> props = new LinkedHashMap<>();
        int flag = 0;
        for (Header h : e.headers()) {
            if (!h.isText()) {
                continue;
            }
            String name = h.name();
            if (name.equals(TAGS_HEADER)) {
                props.put(MessageProperty.TAGS, h.stringValue());
            } else if (name.equals(FLAG_HEADER)) {
                flag = number(h.stringValue());
            } else if (name.startsWith(PREFIX) && KEPT.contains(name.substring(PREFIX.length()))) {
                props.put(name.substring(PREFIX.length()), h.stringValue());
            } else if (!name.startsWith(PREFIX) && !CONTROL.contains(name)) {
                props.putIfAbsent(name, h.stringValue());
            }
        }
        if (e.hasKey()) {
            String keys = NameMapping.utf8(bytes(e.key()));
            if (keys != null) {
                props.put(MessageProperty.KEYS, keys);
            }
        }
        if (e.messageId() != null) {
            props.put(MessageProperty.UNIQ_KEY, e.messageId());
        }
        if (e.correlation() != null) {
            String c = NameMapping.utf8(bytes(e.correlation()));
            if (c != null) {
                props.put(MessageProperty.CORRELATION_ID, c);
            }
        }
        if (e.contentType() != null) {
            props.put(CONTENT_TYPE, e.contentType());
        }
        if (e.replyTo() != null) {
            props.put(REPLY_TO, e.replyTo());
        }
        if (propertiesBytes(props) > MAX_PROPERTIES_BYTES) {
            cut.run();
            java.util.List<String> names = new java.util.ArrayList<>(props.keySet());
            for (int i = names.size() - 1; i >= 0 && propertiesBytes(props) > MAX_PROPERTIES_BYTES; i--) {
                if (!ESSENTIAL.contains(names.get(i))) {
                    props.remove(names.get(i));
                }
            }
            if (propertiesBytes(props) > MAX_PROPERTIES_BYTES) {
                props.clear();
            }
        }
        long now = System.currentTimeMillis();
        return new WireMessage(topic, queueId, flag, 0, queueOffset, physicalOffset,
                e.createdAt() > 0 ? e.createdAt() : now, e.createdAt() > 0 ? e.createdAt() : now, e.deliveryCount(), 0,
                e.payload(), props);
    }

    static int propertiesBytes(Map<String, String> props) {
        return WireMessage.propertiesString(props).getBytes(StandardCharsets.UTF_8).length;
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static int number(String s) {
        long n = longNumber(s);
        return n > Integer.MAX_VALUE ? 0 : (int) n;
    }

    static long longNumber(String s) {
        if (s == null || s.isEmpty()) {
            return 0;
        }
        try {
            return Math.max(0, Long.parseLong(s.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** RocketMQ's names in SQL92 filters: {@code TAGS} is the message's tags, {@code KEYS} its key. */
    static Object selectorValue(Envelope e, String identifier) {
        return switch (identifier) {
            case MessageProperty.TAGS -> e.header(TAGS_HEADER);
            case MessageProperty.KEYS -> e.hasKey() ? NameMapping.utf8(bytes(e.key())) : null;
            default -> null;
        };
    }
}
