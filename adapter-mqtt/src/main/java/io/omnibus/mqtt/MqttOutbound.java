package io.omnibus.mqtt;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.TopicFilter;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.omnibus.mqtt.ReasonCodes.PACKET_ID_NOT_FOUND;
import static io.omnibus.mqtt.ReasonCodes.SUCCESS;

/**
 * What goes to a connection's client: the deliveries of its subscriptions' consumers and the retained messages
 * its SUBSCRIBEs get, in order, within the window (the client's Receive Maximum and {@code max-inflight}) and never
 * into a full socket; the QoS 1 and 2 messages in flight and their PUBACK, PUBREC, PUBREL and PUBCOMP; topic aliases
 * chosen for the client; one copy for overlapping subscriptions (MQTT 5). Made at the first message for the client
 * (or a resumed session's unfinished QoS 2 exchange): an idle connection has none. On the connection's context only.
 */
final class MqttOutbound {
    /** A message on its way to the client; {@code consumer} is null for retained messages sent on SUBSCRIBE. */
    private record Outbound(Delivery delivery, Envelope envelope, Consumer consumer, MqttSessionState.Sub sub,
                            boolean retainedOnSubscribe, List<Integer> alsoIds) {
        Outbound(Delivery delivery, Envelope envelope, Consumer consumer, MqttSessionState.Sub sub,
                 boolean retainedOnSubscribe) {
            this(delivery, envelope, consumer, sub, retainedOnSubscribe, List.of());
        }
    }

    /** The inflight entry of a QoS 2 message the client has (PUBREC came): only PUBREL / PUBCOMP are left. */
    private static final Outbound RELEASE_PENDING = new Outbound(null, null, null, null, false);
    private static final int MAX_MERGED = 10_000;

    private final MqttConnection c;
    private int nextPacketId = 1;
    // Each starts as an immutable empty collection, which reads like an empty one, and is replaced by a real one on
    // its first change (the accessor below); closing puts the empty one back.
    private Map<Integer, Outbound> inflight = Map.of();
    /** Messages waiting for the socket or the window, in order; null until the first has to wait. */
    private ArrayDeque<Outbound> waiting;
    /** Topic aliases this server chose for the client, up to the client's Topic Alias Maximum. */
    private LinkedHashMap<String, Integer> outboundAliases; // in access order: the eldest is reused first
    /** Copies of merged messages still to come from the other overlapping subscriptions, oldest first; bounded. */
    private LinkedHashMap<String, Integer> mergedCopies;
    /** Parsed filters of the session's subscriptions, for finding overlaps. */
    private Map<String, TopicFilter> filters;

    MqttOutbound(MqttConnection connection) {
        this.c = connection;
    }

    private Map<Integer, Outbound> inflight() {
        if (!(inflight instanceof HashMap)) {
            inflight = new HashMap<>();
        }
        return inflight;
    }

    /** QoS 1 and 2 messages sent and not yet acknowledged (QoS 2: until PUBCOMP). */
    int inFlight() {
        return inflight.size();
    }

    /** A retained message for a subscription a SUBSCRIBE just made [MQTT-3.3.1-9]. */
    void sendRetained(Envelope e, MqttSessionState.Sub sub) {
        send(new Outbound(null, e, null, sub, true));
    }

    /** Packet ids of QoS 2 messages the client has (PUBREC came) whose PUBCOMP has not come. */
    Set<Integer> pendingRelease() {
        Set<Integer> pending = new HashSet<>();
        inflight.forEach((pid, o) -> {
            if (o == RELEASE_PENDING) {
                pending.add(pid);
            }
        });
        return pending;
    }

    /** A resumed session's QoS 2 exchanges whose PUBCOMP had not come when its last connection left. */
    void resumePendingRelease(Set<Integer> packetIds) {
        packetIds.forEach(pid -> inflight().put(pid, RELEASE_PENDING));
    }

    /** [MQTT-4.4.0-1] The PUBRELs of a resumed session go again, with their packet ids. */
    void resendReleases() {
        inflight.forEach((pid, o) -> {
            if (o == RELEASE_PENDING) {
                c.write(new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBREL, false, MqttQoS.AT_LEAST_ONCE, false,
                        0), new MqttPubReplyMessageVariableHeader(pid, SUCCESS, MqttProperties.NO_PROPERTIES)));
            }
        });
    }

    /**
     * The connection closed: messages never sent go back to their consumers (no failed attempt to count); those in
     * flight go back as the consumers close.
     */
    void close() {
        for (Outbound o : waiting == null ? List.<Outbound>of() : waiting) {
            if (o.consumer() != null) {
                o.consumer().release(o.delivery());
            }
        }
        waiting = null;
    }

    void onDelivery(String key, Delivery d) {
        MqttSessionState.Sub sub = c.subs.get(key);
        Consumer consumer = c.consumers.get(key);
        if (sub == null || consumer == null || c.closed) {
            return; // unsubscribed meanwhile: the consumer's close gives it back
        }
        Envelope e = d.envelope();
        if (sub.noLocal() && "mqtt".equals(e.origin().protocol()) && c.clientId.equals(e.origin().clientId())) {
            consumer.ackAndCredit(d, 1); // No Local [MQTT-3.8.3-3]
            return;
        }
        List<MqttSessionState.Sub> overlap = c.v5 ? overlapping(sub, e.address()) : List.of();
        if (overlap.isEmpty()) {
            send(new Outbound(d, e, consumer, sub, false));
            return;
        }
        // [MQTT-3.3.4-3..5] overlapping subscriptions of this session with the same QoS: one copy, carrying every
        // matching subscription identifier; the other subscriptions' copies are settled as they arrive
        String message = e.address().name() + '#' + d.partition() + '@' + d.offset();
        if (mergedCopies == null) {
            mergedCopies = new java.util.LinkedHashMap<>();
        }
        Integer left = mergedCopies.remove(message);
        if (left != null) {
            if (left > 1) {
                mergedCopies.put(message, left - 1);
            }
            consumer.ackAndCredit(d, 1);
            return;
        }
        mergedCopies.put(message, overlap.size());
        if (mergedCopies.size() > MAX_MERGED) { // a copy that never comes (subscribed after the message) is forgotten
            var eldest = mergedCopies.keySet().iterator();
            eldest.next();
            eldest.remove();
        }
        List<Integer> ids = new ArrayList<>(overlap.size());
        for (MqttSessionState.Sub o : overlap) {
            if (o.subscriptionId() > 0) {
                ids.add(o.subscriptionId());
            }
        }
        send(new Outbound(d, e, consumer, sub, false, ids));
    }

    /** The session's other non-shared subscriptions matching {@code address} with the same QoS and options as {@code sub}. */
    private List<MqttSessionState.Sub> overlapping(MqttSessionState.Sub sub, Address address) {
        if (sub.shareGroup() != null || c.subs.size() < 2) {
            return List.of();
        }
        if (filters == null) {
            filters = new HashMap<>();
        }
        boolean exact = !filters.computeIfAbsent(sub.filter(), TopicFilter::of).hasWildcard();
        List<MqttSessionState.Sub> out = null;
        for (MqttSessionState.Sub o : c.subs.values()) {
            if (o == sub || o.shareGroup() != null || o.qos() != sub.qos() || o.noLocal() != sub.noLocal()
                    || o.retainAsPublished() != sub.retainAsPublished()) {
                continue;
            }
            TopicFilter f = filters.computeIfAbsent(o.filter(), TopicFilter::of);
            if ((!exact || f.hasWildcard()) && f.matches(address)) { // two exact filters of one session never overlap
                if (out == null) {
                    out = new ArrayList<>(2);
                }
                out.add(o);
            }
        }
        return out == null ? List.of() : out;
    }

    void send(Outbound o) {
        int qos = Math.min(Translation.qosOf(o.envelope()), o.sub().qos());
        // in order, and never into a full socket: a subscriber that stops reading stops getting credit back
        if (anyWaiting() || c.socket.writeQueueFull() || (qos > 0 && inflight.size() >= c.window)) {
            if (waiting == null) {
                waiting = new ArrayDeque<>(4);
            }
            waiting.add(o);
            return;
        }
        transmit(o, qos);
    }

    private void transmit(Outbound o, int qos) {
        Envelope e = o.envelope();
        boolean retain = o.retainedOnSubscribe() || (o.sub().retainAsPublished() && e.retain());
        MqttProperties props = c.v5 ? Translation.properties(e, o.sub().subscriptionId(), System.currentTimeMillis())
                : MqttProperties.NO_PROPERTIES;
        for (int id : o.alsoIds()) {
            props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER, id));
        }
        ByteBuffer payload = e.payload();
        String topic = e.address().name();
        Integer newAlias = null;
        if (c.v5 && c.clientTopicAliasMax > 0 && c.server.config.outboundTopicAliases()) {
            // [MQTT-3.3.2-11] aliases the client allowed: a topic sent once goes as its alias afterwards
            if (outboundAliases == null) {
                outboundAliases = new java.util.LinkedHashMap<>(16, 0.75f, true);
            }
            Integer alias = outboundAliases.get(topic);
            if (alias != null) {
                props.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS, alias));
                topic = "";
            } else {
                // a free alias, else the least recently used one, mapped to this topic anew (topic and alias sent)
                newAlias = outboundAliases.size() < c.clientTopicAliasMax ? outboundAliases.size() + 1
                        : outboundAliases.values().iterator().next();
                props.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS, newAlias));
            }
        }
        if (c.clientMaxPacketSize != Integer.MAX_VALUE // a client that set none: its topic is not measured twice
                && PacketSize.publish(topic, qos, props, payload.remaining(), c.v5) > c.clientMaxPacketSize) {
            // [MQTT-3.1.2-24, 3.1.2-25] a packet larger than the client's Maximum Packet Size is discarded, as if
            // delivered (QoS 1/2 included); packets that fit are sent
            MqttServer.LOG.debug("mqtt {}: message on {} exceeds the client's maximum packet size {}; discarded",
                    c.connectionId(), e.address(), c.clientMaxPacketSize);
            settle(o);
            return;
        }
        if (newAlias != null) {
            if (outboundAliases.size() >= c.clientTopicAliasMax) {
                outboundAliases.remove(outboundAliases.keySet().iterator().next());
            }
            outboundAliases.put(e.address().name(), newAlias);
        }
        c.server.losses.delivered(e, c.v5 ? "mqtt5" : "mqtt3");
        int packetId = 0;
        if (qos > 0) {
            packetId = nextPacketId();
            inflight().put(packetId, o);
        }
        boolean dup = qos > 0 && o.delivery() != null && o.delivery().redelivered();
        MqttPublishMessage msg = new MqttPublishMessage(
                new MqttFixedHeader(MqttMessageType.PUBLISH, dup, MqttQoS.valueOf(qos), retain, 0),
                new MqttPublishVariableHeader(topic, packetId, props),
                Unpooled.wrappedBuffer(payload));
        c.write(msg);
        if (qos == 0) {
            settle(o);
        }
    }

    private int nextPacketId() {
        while (true) {
            int id = nextPacketId;
            nextPacketId = nextPacketId == 65_535 ? 1 : nextPacketId + 1;
            if (!inflight.containsKey(id)) {
                return id;
            }
        }
    }

    /** The client has the message: acknowledge it to the broker and make room for the next. */
    private void settle(Outbound o) {
        if (o.consumer() != null) {
            o.consumer().ackAndCredit(o.delivery(), 1);
        }
    }

    void onPubAck(int packetId) {
        Outbound o = inflight().remove(packetId);
        if (o != null) {
            settle(o);
            drainWaiting();
        }
    }

    void onPubRec(int packetId) {
        Outbound o = inflight.get(packetId);
        if (o != null && o != RELEASE_PENDING) {
            settle(o); // the client owns the message now; the packet id stays in use until PUBCOMP
            inflight().put(packetId, RELEASE_PENDING);
            c.saveQos2(); // the PUBREL owed goes again after a gateway crash [MQTT-4.4.0-1]
        }
        c.write(new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBREL, false, MqttQoS.AT_LEAST_ONCE, false, 0),
                new MqttPubReplyMessageVariableHeader(packetId, o != null || !c.v5 ? SUCCESS : PACKET_ID_NOT_FOUND,
                        MqttProperties.NO_PROPERTIES)));
    }

    void onPubComp(int packetId) {
        Outbound o = inflight().remove(packetId);
        if (o == RELEASE_PENDING) {
            c.saveQos2(); // done: no PUBREL to send again
        }
        if (o != null) {
            drainWaiting();
        }
    }

    private boolean anyWaiting() {
        return waiting != null && !waiting.isEmpty();
    }

    void drainWaiting() {
        while (anyWaiting() && !c.closed && !c.socket.writeQueueFull()) {
            Outbound o = waiting.peek();
            int qos = Math.min(Translation.qosOf(o.envelope()), o.sub().qos());
            if (qos > 0 && inflight.size() >= c.window) {
                return;
            }
            waiting.poll();
            transmit(o, qos);
        }
    }
}
