package io.omnibus.oms;

import io.omnibus.openmessaging.remoting.MessageProperty;
import io.omnibus.openmessaging.remoting.WireMessage;
import io.openmessaging.api.Message;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * OpenMessaging messages ↔ RocketMQ wire properties, the mapping of docs/openmessaging.md: tag is {@code TAGS},
 * key {@code KEYS}, sharding key {@code __SHARDINGKEY}, start deliver time {@code __STARTDELIVERTIME}, the message
 * id {@code UNIQ_KEY} (made here for each send), user properties are properties.
 */
final class Messages {
    /** Properties of the wire that are not user properties of an OpenMessaging message. */
    private static final Set<String> SYSTEM = Set.of(MessageProperty.TAGS, MessageProperty.KEYS, MessageProperty.UNIQ_KEY, MessageProperty.SHARDING_KEY, MessageProperty.START_DELIVER_TIME, MessageProperty.RETRY_TOPIC,
            MessageProperty.TRAN_MSG, MessageProperty.PGROUP, MessageProperty.ORIGIN_MESSAGE_ID, MessageProperty.MAX_RECONSUME_TIMES, "RECONSUME_TIME", "WAIT", MessageProperty.DELAY, "MIN_OFFSET",
            "MAX_OFFSET", "REAL_TOPIC", "REAL_QID", "CONSUME_START_TIME");

    private Messages() {
    }

    /** A fresh message id: 32 upper-case hex digits, like RocketMQ's. */
    static String newId() {
        UUID u = UUID.randomUUID();
        return String.format("%016X%016X", u.getMostSignificantBits(), u.getLeastSignificantBits());
    }

    /** The wire properties of a message to send, with {@code id} as its message id. */
    static Map<String, String> properties(Message m, String id) {
        Map<String, String> props = new LinkedHashMap<>();
        m.getUserProperties().forEach((k, v) -> props.put(String.valueOf(k), String.valueOf(v)));
        put(props, MessageProperty.TAGS, m.getTag());
        put(props, MessageProperty.KEYS, m.getKey());
        put(props, MessageProperty.SHARDING_KEY, m.getSystemProperties(Message.SystemPropKey.SHARDINGKEY));
        if (m.getStartDeliverTime() > 0) {
            props.put(MessageProperty.START_DELIVER_TIME, Long.toString(m.getStartDeliverTime()));
        }
        props.put(MessageProperty.UNIQ_KEY, id);
        return props;
    }

    private static void put(Map<String, String> props, String name, String value) {
        if (value != null && !value.isEmpty()) {
            props.put(name, value);
        }
    }

    /** The OpenMessaging message of a pulled (or checked-back) one, on {@code topic} (namespace taken off). */
    static Message toOms(WireMessage w, String topic) {
        Message m = new Message();
        m.setTopic(topic);
        ByteBuffer body = w.body().duplicate();
        byte[] bytes = new byte[body.remaining()];
        body.get(bytes);
        m.setBody(bytes);
        Map<String, String> p = w.properties();
        if (p.get(MessageProperty.TAGS) != null) {
            m.setTag(p.get(MessageProperty.TAGS));
        }
        if (p.get(MessageProperty.KEYS) != null) {
            m.setKey(p.get(MessageProperty.KEYS));
        }
        if (p.get(MessageProperty.SHARDING_KEY) != null) {
            m.setShardingKey(p.get(MessageProperty.SHARDING_KEY));
        }
        if (p.get(MessageProperty.START_DELIVER_TIME) != null) {
            m.putSystemProperties(Message.SystemPropKey.STARTDELIVERTIME, p.get(MessageProperty.START_DELIVER_TIME));
        }
        String id = p.get(MessageProperty.UNIQ_KEY);
        m.setMsgID(id != null ? id : Long.toHexString(w.physicalOffset()));
        m.setReconsumeTimes(w.reconsumeTimes());
        m.setBornTimestamp(w.bornTimestamp());
        m.putSystemProperties(Message.SystemPropKey.CONSUMEOFFSET, Long.toString(w.queueOffset()));
        m.putSystemProperties(Message.SystemPropKey.PARTITION, Integer.toString(w.queueId()));
        p.forEach((k, v) -> {
            if (!SYSTEM.contains(k)) {
                m.putUserProperties(k, v);
            }
        });
        return m;
    }
}
