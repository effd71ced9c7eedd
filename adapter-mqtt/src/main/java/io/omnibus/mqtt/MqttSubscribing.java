package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttSubAckPayload;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.omnibus.core.spi.Consumer;
import io.omnibus.core.spi.ConsumerSpec;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.spi.TopicFilter;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;

import static io.omnibus.mqtt.ReasonCodes.NOT_AUTHORIZED;
import static io.omnibus.mqtt.ReasonCodes.NO_SUBSCRIPTION_EXISTED;
import static io.omnibus.mqtt.ReasonCodes.PROTOCOL_ERROR;
import static io.omnibus.mqtt.ReasonCodes.QUOTA_EXCEEDED;
import static io.omnibus.mqtt.ReasonCodes.TOPIC_FILTER_INVALID;
import static io.omnibus.mqtt.ReasonCodes.UNSPECIFIED_ERROR;

/**
 * A connection's SUBSCRIBE and UNSUBSCRIBE: filters and shared subscriptions ({@code $share/...}) checked, the access
 * rules asked, each subscription of the session a core subscription with a consumer attached to it, the session
 * record saved, SUBACK / UNSUBACK, and the retained messages a SUBSCRIBE gets. The session's subscriptions and their
 * consumers are the connection's ({@code subs}, {@code consumers}). On the connection's context.
 */
final class MqttSubscribing {
    private MqttSubscribing() {
    }

    /** Re-creates the consumers of every subscription of the session. */
    static Future<Void> resubscribeAll(MqttConnection conn) {
        List<Future<?>> all = new ArrayList<>();
        for (MqttSessionState.Sub s : new ArrayList<>(conn.subs.values())) {
            all.add(attach(conn, s));
        }
        return Future.all(all).mapEmpty();
    }

    static void subscribe(MqttConnection conn, MqttSubscribeMessage m) {
        int packetId = m.variableHeader().messageId();
        MqttProperties props = m.idAndPropertiesVariableHeader().properties();
        int subscriptionId = Translation.intProperty(props, MqttProperties.SUBSCRIPTION_IDENTIFIER, 0);
        List<MqttTopicSubscription> requested = m.payload().topicSubscriptions();
        int[] codes = new int[requested.size()];
        List<Future<?>> work = new ArrayList<>();
        List<MqttSessionState.Sub> retainedFor = new ArrayList<>();
        for (int i = 0; i < requested.size(); i++) {
            MqttTopicSubscription t = requested.get(i);
            String raw = t.topicFilter();
            String group = null;
            String filterText = raw;
            if (raw.startsWith("$share/")) {
                int slash = raw.indexOf('/', 7);
                group = slash < 0 ? "" : raw.substring(7, slash);
                filterText = slash < 0 ? "" : raw.substring(slash + 1);
                if (group.isEmpty() || group.contains("+") || group.contains("#") || filterText.isEmpty()) {
                    codes[i] = conn.v5 ? TOPIC_FILTER_INVALID & 0xff : 0x80; // [MQTT-4.8.2-1]
                    continue;
                }
                if (t.option().isNoLocal() && conn.v5) {
                    codes[i] = PROTOCOL_ERROR & 0xff; // [MQTT-3.8.3-4]
                    continue;
                }
            }
            try {
                TopicFilter.of(filterText);
            } catch (InvalidAddressException e) {
                MqttServer.LOG.info("mqtt {}: SUBSCRIBE {} refused: {}", conn.connectionId(), raw, e.getMessage());
                codes[i] = conn.v5 ? TOPIC_FILTER_INVALID & 0xff : 0x80;
                continue;
            }
            if (conn.server.ctx.authorizer().enforced() && !conn.server.ctx.authorizer().allows(conn.user, conn.clientId,
                    io.omnibus.core.spi.Authorizer.Action.SUBSCRIBE, filterText)) {
                MqttServer.LOG.info("mqtt {}: SUBSCRIBE {} by client {} as {} refused: not authorized", conn.connectionId(), raw,
                        conn.clientId, conn.user);
                codes[i] = conn.v5 ? NOT_AUTHORIZED & 0xff : 0x80;
                continue;
            }
            int qos = Math.min(t.qualityOfService().value(), 2);
            MqttSessionState.Sub sub = new MqttSessionState.Sub(filterText, group, qos, t.option().isNoLocal(),
                    t.option().isRetainAsPublished(), t.option().retainHandling().value(), subscriptionId);
            boolean existed = conn.subs.containsKey(sub.key());
            if (!existed && conn.subs.size() >= conn.server.config.maxSubscriptions()) {
                // 0x97 (Quota exceeded) where configured: Eclipse Paho v5 (1.2.5) drops the connection on it
                codes[i] = conn.v5 && conn.server.config.quotaExceeded() ? QUOTA_EXCEEDED & 0xff : 0x80;
                MqttServer.LOG.info("mqtt {}: SUBSCRIBE {} refused: max-subscriptions {} reached", conn.connectionId(), raw,
                        conn.server.config.maxSubscriptions());
                continue;
            }
            conn.subs().put(sub.key(), sub);
            codes[i] = qos;
            int rh = sub.retainHandling();
            if (group == null && (rh == 0 || (rh == 1 && !existed))) {
                retainedFor.add(sub); // [MQTT-3.3.1-9] [MQTT-3.3.1-10]; none for shared subscriptions (MQTT 5 §4.8.2)
            }
            String key = sub.key();
            work.add(existed ? Future.succeededFuture() : attach(conn, sub).onFailure(e -> {
                conn.subs().remove(key); // not subscribed after all: nothing to clean up for it later
                conn.consumers().remove(key);
            }));
        }
        Future<Void> saved = conn.persistent ? MqttSessionState.save(conn.broker(), conn.user, conn.clientId, conn.sessionExpiry, 0, conn.subs)
                : Future.succeededFuture();
        Future.all(work).compose(v -> saved).onComplete(ar -> {
            if (conn.closed) {
                return;
            }
            if (ar.failed()) {
                MqttServer.LOG.warn("mqtt {}: SUBSCRIBE failed: {}", conn.connectionId(), ar.cause().getMessage());
                for (int i = 0; i < codes.length; i++) {
                    if (codes[i] < 0x80) {
                        codes[i] = conn.v5 ? UNSPECIFIED_ERROR & 0xff : 0x80;
                    }
                }
            }
            conn.write(new MqttSubAckMessage(new MqttFixedHeader(MqttMessageType.SUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                    new MqttMessageIdAndPropertiesVariableHeader(packetId, MqttProperties.NO_PROPERTIES),
                    new MqttSubAckPayload(codes)));
            if (ar.succeeded()) {
                for (MqttSessionState.Sub s : retainedFor) {
                    for (Envelope e : conn.broker().retained(TopicFilter.of(s.filter()))) {
                        conn.outbound().sendRetained(e, s);
                    }
                }
            }
        });
    }

    /** Subscribes the session's core subscription for {@code sub} and attaches this connection to it. */
    private static Future<Void> attach(MqttConnection conn, MqttSessionState.Sub sub) {
        TopicFilter filter = TopicFilter.of(sub.filter());
        SubscriptionSpec spec = new SubscriptionSpec(sub.coreName(conn.clientId), filter, conn.persistent || sub.shareGroup() != null,
                null);
        String key = sub.key();
        // the window bounds QoS 1/2 deliveries unacknowledged; a QoS 0 subscription's are settled as they are written,
        // and a credit as small as the window only made each wait for the one before to come back
        int credit = sub.qos() == 0 ? Math.max(conn.window, conn.server.config.maxQueuedQos0()) : conn.window;
        return conn.broker().subscribe(spec).compose((Subscription s) -> s.attach(ConsumerSpec.push(conn.origin(), credit,
                d -> conn.outbound().onDelivery(key, d)))).map(c -> {
                    Consumer old = conn.consumers().put(key, c);
                    if (old != null) {
                        old.close();
                    }
                    if (conn.closed) {
                        c.close();
                    }
                    return null;
                });
    }

    static void unsubscribe(MqttConnection conn, MqttUnsubscribeMessage m) {
        int packetId = m.variableHeader().messageId();
        List<String> topics = m.payload().topics();
        List<Future<?>> work = new ArrayList<>();
        short[] codes = new short[topics.size()];
        for (int i = 0; i < topics.size(); i++) {
            MqttSessionState.Sub sub = conn.subs().remove(topics.get(i));
            if (sub == null) {
                codes[i] = NO_SUBSCRIPTION_EXISTED;
                continue;
            }
            Consumer c = conn.consumers().remove(sub.key());
            if (c != null) {
                work.add(c.close());
            }
            if (sub.shareGroup() == null) {
                work.add(conn.broker().unsubscribe(sub.coreName(conn.clientId)));
            }
        }
        if (conn.persistent) {
            work.add(MqttSessionState.save(conn.broker(), conn.user, conn.clientId, conn.sessionExpiry, 0, conn.subs));
        }
        Future.all(work).onComplete(ar -> {
            if (conn.closed) {
                return;
            }
            MqttMessageBuilders.UnsubAckBuilder b = MqttMessageBuilders.unsubAck().packetId(packetId);
            if (conn.v5) {
                for (short c : codes) {
                    b.addReasonCode(c);
                }
            }
            conn.write(b.build());
        });
    }
}
