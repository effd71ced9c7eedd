package io.omnibus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.PublishRuns;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.omnibus.mqtt.ReasonCodes.MALFORMED_PACKET;
import static io.omnibus.mqtt.ReasonCodes.NOT_AUTHORIZED;
import static io.omnibus.mqtt.ReasonCodes.PACKET_ID_NOT_FOUND;
import static io.omnibus.mqtt.ReasonCodes.PACKET_TOO_LARGE;
import static io.omnibus.mqtt.ReasonCodes.PROTOCOL_ERROR;
import static io.omnibus.mqtt.ReasonCodes.QUOTA_EXCEEDED;
import static io.omnibus.mqtt.ReasonCodes.RECEIVE_MAXIMUM_EXCEEDED;
import static io.omnibus.mqtt.ReasonCodes.SERVER_SHUTTING_DOWN;
import static io.omnibus.mqtt.ReasonCodes.SUCCESS;
import static io.omnibus.mqtt.ReasonCodes.TOPIC_ALIAS_INVALID;
import static io.omnibus.mqtt.ReasonCodes.TOPIC_NAME_INVALID;
import static io.omnibus.mqtt.ReasonCodes.UNSPECIFIED_ERROR;

/**
 * What a connection's client publishes (PUBLISH, PUBREL): its topic aliases, its publish rights asked once per
 * topic, the messages on their way to the store, and the PUBACK / PUBREC owed for them, sent in the order the
 * PUBLISH packets came. Made at a connection's first publish (or will check, or resumed QoS 2 exchange): a client
 * that only subscribes, or only keeps its connection open, has none. On the connection's context only.
 */
final class MqttInbound {
    /** Payload bytes of one connection's publishes that may wait for the store before its socket stops being read. */
    private static final long MAX_STORING_BYTES = 16L << 20;
    private final MqttConnection c;
    /**
     * The address of this client's last PUBLISH: most clients publish to a few topics over and over, and the same
     * address again is neither checked again nor hashed again by the maps it goes through (its name keeps its hash).
     */
    private Address lastAddress;
    /** Topics this client published to and whether it may: the rules are asked once per topic (bounded). */
    private HashMap<String, Boolean> publishAllowed;
    private Map<Integer, String> inboundAliases; // allocated on the first alias: most clients never use one
    /** Packet ids of QoS 2 messages stored and acknowledged with PUBREC, waiting for their PUBREL. */
    private Set<Integer> awaitingRelease = Set.of(); // see awaitingRelease()
    /** QoS 1 and 2 publishes not yet acknowledged to the client (QoS 2: until PUBREL). */
    int unackedInbound;
    private int storing;
    private long storingBytes;
    private boolean paused;
    /** PUBACK / PUBREC owed, in the order of their PUBLISH packets; the head goes first. */
    private ArrayDeque<InboundReply> inboundReplies; // allocated on the first QoS 1/2 publish
    /**
     * QoS 0 and 1 publishes of the read under way, in runs to one address for the broker at once ({@link #flush});
     * tagged with the PUBACK each owes (none for QoS 0). Made at the first of them.
     */
    private PublishRuns<InboundReply> runs;

    MqttInbound(MqttConnection connection) {
        this.c = connection;
    }

    private Set<Integer> awaitingRelease() {
        if (!(awaitingRelease instanceof HashSet)) {
            awaitingRelease = new HashSet<>();
        }
        return awaitingRelease;
    }

    /** The QoS 2 messages waiting for their PUBREL, now (a copy is the caller's to make). */
    Set<Integer> awaitingReleaseNow() {
        return awaitingRelease;
    }

    /** A resumed session's QoS 2 exchanges that were waiting for their PUBREL when its last connection left. */
    void resumeAwaitingRelease(Set<Integer> packetIds) {
        awaitingRelease().addAll(packetIds);
        unackedInbound += packetIds.size();
    }

    void onPublish(MqttPublishMessage m) {
        int qos = m.fixedHeader().qosLevel().value();
        int packetId = m.variableHeader().packetId();
        if (qos == 3) {
            c.disconnect(MALFORMED_PACKET, "QoS 3 [MQTT-3.3.1-4]");
            return;
        }
        MqttProperties props = m.variableHeader().properties();
        String topic = m.variableHeader().topicName();
        int alias = Translation.intProperty(props, MqttProperties.TOPIC_ALIAS, -1);
        if (alias == 0) {
            c.disconnect(TOPIC_ALIAS_INVALID, "topic alias 0 [MQTT-3.3.2-8]");
            return;
        }
        if (alias > 0) {
            if (alias > c.server.config.topicAliasMaximum()) {
                c.disconnect(TOPIC_ALIAS_INVALID, "topic alias " + alias + " above the maximum "
                        + c.server.config.topicAliasMaximum() + " [MQTT-3.3.2-9]");
                return;
            }
            if (topic == null || topic.isEmpty()) {
                topic = inboundAliases == null ? null : inboundAliases.get(alias);
                if (topic == null) {
                    c.disconnect(PROTOCOL_ERROR, "topic alias " + alias + " was never defined (MQTT 5 §3.3.2.3.4)");
                    return;
                }
            } else {
                if (inboundAliases == null) {
                    inboundAliases = new HashMap<>();
                }
                inboundAliases.put(alias, topic);
            }
        }
        if (lastAddress == null || !lastAddress.name().equals(topic)) {
            try {
                lastAddress = Address.of(topic);
            } catch (InvalidAddressException e) {
                c.disconnect(TOPIC_NAME_INVALID, "PUBLISH topic refused: " + e.getMessage());
                return;
            }
        }
        Address address = lastAddress;
        if (qos == 2 && awaitingRelease.contains(packetId)) {
            // a DUP of a QoS 2 message we have already: acknowledge again, do not publish twice [MQTT-4.3.3-9]
            InboundReply again = new InboundReply(MqttMessageType.PUBREC, packetId);
            owe(again);
            replied(again, SUCCESS, false);
            return;
        }
        if (!mayPublish(address.name())) {
            refusePublish(qos, packetId, topic);
            return;
        }
        if (qos > 0 && ++unackedInbound > c.server.config.receiveMaximum() && c.v5) {
            // MQTT 5 announced Receive Maximum in CONNACK, so going past it is a protocol error; a 3.1.1 client was
            // told nothing: it is slowed down instead (its socket stops being read below)
            c.disconnect(RECEIVE_MAXIMUM_EXCEEDED, "more than receive-maximum " + c.server.config.receiveMaximum()
                    + " unacknowledged publishes [MQTT-3.3.4-8]");
            return;
        }
        ByteBuf payload = m.payload();
        byte[] bytes = new byte[payload.readableBytes()];
        payload.getBytes(payload.readerIndex(), bytes);
        Envelope envelope = Translation.toEnvelope(address, bytes, qos, m.fixedHeader().isRetain(), props, c.origin(),
                System.currentTimeMillis());
        storing++;
        storingBytes += bytes.length;
        if ((storing >= c.server.config.receiveMaximum() || storingBytes >= MAX_STORING_BYTES) && !paused) {
            paused = true; // the store is behind: stop reading this client
            c.socket.pause();
        }
        if (qos < 2 && !m.fixedHeader().isRetain() && bytes.length <= c.broker().maxMessageSize()) {
            InboundReply reply = qos == 0 ? null : new InboundReply(MqttMessageType.PUBACK, packetId);
            if (reply != null) {
                owe(reply);
            }
            if (runs == null) {
                runs = new PublishRuns<>(c.broker(), this::runStored);
            }
            runs.add(envelope, reply);
            return;
        }
        flush(); // what came before goes first
        // retained first: if either step fails the client resends, and setting the retained message twice is harmless
        Future<?> stored = m.fixedHeader().isRetain()
                ? c.broker().retain(envelope).compose(v -> c.broker().publish(envelope))
                : c.broker().publish(envelope);
        if (qos == 2) {
            awaitingRelease().add(packetId);
            // the PUBREC promises the message once: the packet id is in the session record first, so a PUBLISH sent
            // again after a gateway crash is answered, not published twice [MQTT-4.3.3-9]
            stored = stored.compose(v -> c.saveQos2());
        }
        InboundReply reply = qos == 0 ? null
                : new InboundReply(qos == 1 ? MqttMessageType.PUBACK : MqttMessageType.PUBREC, packetId);
        if (reply != null) {
            owe(reply);
        }
        stored.onComplete(ar -> {
            leftStore(1, bytes.length);
            if (c.closed) {
                return;
            }
            byte reason = ar.succeeded() ? SUCCESS : reasonFor(ar.cause());
            if (ar.failed()) {
                MqttServer.LOG.warn("mqtt {}: publish to {} failed: {}", c.connectionId(), address, ar.cause().getMessage());
                if (qos == 2) {
                    awaitingRelease().remove(packetId);
                    unackedInbound--; // no PUBREL follows a failed PUBREC
                }
            }
            if (qos == 1) {
                unackedInbound--;
            }
            if (reply != null) {
                // MQTT 3.1.1 has no negative PUBACK / PUBREC: the connection closes when that answer's turn comes
                replied(reply, reason, ar.failed() && !c.v5);
            }
        });
    }

    /**
     * Hands the run of QoS 0 and 1 publishes gathered to the broker ({@link PublishRuns}): the connection calls this
     * once it handled the read's packets, and before any other packet; a publish that goes its own way (retained,
     * QoS 2, too large) calls it first. Their PUBACKs follow together, in order, once the run is stored (a run the
     * store refused is refused whole: the client sends it again).
     */
    void flush() {
        if (runs != null) {
            runs.flush();
        }
    }

    private void runStored(List<Envelope> envelopes, List<InboundReply> replies, AsyncResult<Void> ar) {
        long bytes = 0;
        for (Envelope e : envelopes) {
            bytes += e.payloadSize();
        }
        leftStore(envelopes.size(), bytes);
        if (c.closed) {
            return;
        }
        byte reason = ar.succeeded() ? SUCCESS : reasonFor(ar.cause());
        if (ar.failed()) {
            MqttServer.LOG.warn("mqtt {}: publish of {} message(s) to {} failed: {}", c.connectionId(),
                    envelopes.size(), envelopes.get(0).address(), ar.cause().getMessage());
        }
        for (InboundReply reply : replies) {
            if (c.closed) { // a refusal closed it (MQTT 3.1.1)
                return;
            }
            if (reply != null) {
                unackedInbound--;
                // MQTT 3.1.1 has no negative PUBACK: the connection closes when that answer's turn comes
                replied(reply, reason, ar.failed() && !c.v5);
            }
        }
    }

    /** {@code n} publishes of {@code bytes} left the store's hands: a client paused for them is read again. */
    private void leftStore(int n, long bytes) {
        storing -= n;
        storingBytes -= bytes;
        if (paused && storing < c.server.config.receiveMaximum() / 2 + 1 && storingBytes < MAX_STORING_BYTES / 2) {
            paused = false;
            c.socket.resume();
        }
    }

    /** A PUBACK or PUBREC owed to the client, sent in the order the PUBLISH packets came [MQTT-4.6.0-2] [MQTT-4.6.0-3]. */
    private static final class InboundReply {
        final MqttMessageType type;
        final int packetId;
        boolean ready;
        byte reason;
        boolean refuse;

        InboundReply(MqttMessageType type, int packetId) {
            this.type = type;
            this.packetId = packetId;
        }
    }

    private void owe(InboundReply reply) {
        if (inboundReplies == null) {
            inboundReplies = new ArrayDeque<>(4);
        }
        inboundReplies.add(reply);
    }

    /**
     * Publishes to different topics are stored by different partitions and finish in any order; their answers
     * wait for the ones owed before them.
     */
    private void replied(InboundReply reply, byte reason, boolean refuse) {
        reply.ready = true;
        reply.reason = reason;
        reply.refuse = refuse;
        while (!inboundReplies.isEmpty() && inboundReplies.peek().ready) {
            InboundReply r = inboundReplies.poll();
            if (r.refuse) {
                c.close("cannot acknowledge a publish the store refused (MQTT 3.1.1 has no negative "
                        + (r.type == MqttMessageType.PUBACK ? "PUBACK" : "PUBREC") + ")");
                return;
            }
            c.writePubReply(r.type, r.packetId, r.reason);
        }
    }

    private static byte reasonFor(Throwable cause) {
        if (cause instanceof BrokerException b) {
            return switch (b.reason()) {
                case MESSAGE_TOO_LARGE -> PACKET_TOO_LARGE;
                case INVALID_ADDRESS, UNKNOWN_ADDRESS -> TOPIC_NAME_INVALID;
                case SHUTTING_DOWN -> SERVER_SHUTTING_DOWN;
                case STORE_FAILURE -> QUOTA_EXCEEDED;
                default -> UNSPECIFIED_ERROR;
            };
        }
        return UNSPECIFIED_ERROR;
    }

    void onPubRel(int packetId) {
        boolean known = awaitingRelease().remove(packetId);
        if (known) {
            unackedInbound--;
        }
        // out of the record before PUBCOMP: the client may use the packet id for a new message right after
        Future<Void> saved = known ? c.saveQos2() : Future.succeededFuture();
        saved.onComplete(ar -> {
            if (!c.closed) {
                c.writePubReply(MqttMessageType.PUBCOMP, packetId, known || !c.v5 ? SUCCESS : PACKET_ID_NOT_FOUND);
            }
        });
    }

    /** Whether the access rules let this client publish to {@code topic} (asked once per topic and connection). */
    boolean mayPublish(String topic) {
        io.omnibus.core.spi.Authorizer rules = c.server.ctx.authorizer();
        if (!rules.enforced()) {
            return true;
        }
        if (publishAllowed == null) {
            publishAllowed = new java.util.HashMap<>();
        }
        Boolean known = publishAllowed.get(topic);
        if (known == null) {
            known = rules.allows(c.user, c.clientId, io.omnibus.core.spi.Authorizer.Action.PUBLISH, topic);
            if (publishAllowed.size() >= 1024) {
                publishAllowed.clear();
            }
            publishAllowed.put(topic, known);
        }
        return known;
    }

    /**
     * A PUBLISH the rules refuse: MQTT 5 answers PUBACK or PUBREC 0x87 (Not authorized) in its turn, and drops a
     * QoS 0 message; MQTT 3.1.1 has no negative answer, so the connection closes [MQTT-3.3.5-2].
     */
    private void refusePublish(int qos, int packetId, String topic) {
        MqttServer.LOG.info("mqtt {}: PUBLISH to {} by client {} as {} refused: not authorized", c.connectionId(), topic,
                c.clientId, c.user);
        if (qos == 0) {
            if (!c.v5) {
                c.close("not authorized to publish to " + topic + " (MQTT 3.1.1 has no negative answer)");
            }
            return;
        }
        InboundReply reply = new InboundReply(qos == 1 ? MqttMessageType.PUBACK : MqttMessageType.PUBREC, packetId);
        owe(reply);
        replied(reply, NOT_AUTHORIZED, !c.v5);
    }
}
