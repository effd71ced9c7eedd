package io.omnibus.amqp;

import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.transport.Listeners;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The AMQP listener and what outlives one connection: the consumers of volatile shared subscriptions
 * (the subscription goes with its last consumer) and the connections, for shutdown.
 */
final class AmqpServer implements ProtocolAdapter {
    static final Logger LOG = LoggerFactory.getLogger(AmqpServer.class);

    final AdapterContext ctx;
    /** What deliveries lose in AMQP (omnibus.translation.losses). */
    final io.omnibus.core.spi.TranslationLosses losses;
    final AmqpConfig config;
    final AtomicInteger connectionCount = new AtomicInteger();
    final Set<AmqpConnection> connections = ConcurrentHashMap.newKeySet();
    /** Consumers attached to each non-durable shared subscription, by subscription name. */
    final ConcurrentHashMap<String, Integer> volatileShared = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private Listeners listener;

    AmqpServer(AdapterContext ctx, AmqpConfig config) {
        this.ctx = ctx;
        this.config = config;
        this.losses = new io.omnibus.core.spi.TranslationLosses(ctx.meters());
        ctx.broker().addSelectorVocabulary(AmqpTranslation::selectorValue);
    }

    @Override
    public Future<Void> start() {
        return Listeners.bind(ctx, config.listeners(), "amqp", (ch, context) -> {
            AmqpConnection c = new AmqpConnection(this, ch, context, "amqp-" + ids.incrementAndGet());
            ch.pipeline().addLast("amqp", c);
        }).map(l -> {
            listener = l;
            return null;
        });
    }

    @Override
    public Future<Void> stop() {
        if (listener == null) {
            return Future.succeededFuture();
        }
        return listener.close().onComplete(ar -> connections.forEach(AmqpConnection::shutdown));
    }

    @Override
    public Map<String, Object> status() {
        return listener == null ? Map.of() : listener.status();
    }

    @Override
    public java.util.Map<String, Object> render(io.omnibus.core.spi.Envelope e, String variant) {
        org.apache.qpid.proton.message.Message m = AmqpTranslation.toMessage(e, e.deliveryCount(), System.currentTimeMillis());
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("protocol", "amqp");
        java.util.Map<String, Object> header = new java.util.LinkedHashMap<>();
        if (m.getHeader() != null) {
            header.put("durable", m.getHeader().getDurable());
            header.put("priority", m.getHeader().getPriority() == null ? null : m.getHeader().getPriority().intValue());
            header.put("ttl", m.getHeader().getTtl() == null ? null : m.getHeader().getTtl().longValue());
            header.put("delivery-count", m.getHeader().getDeliveryCount() == null ? null
                    : m.getHeader().getDeliveryCount().longValue());
        }
        out.put("header", header);
        java.util.Map<String, Object> props = new java.util.LinkedHashMap<>();
        org.apache.qpid.proton.amqp.messaging.Properties p = m.getProperties();
        if (p != null) {
            props.put("message-id", shown(p.getMessageId()));
            props.put("to", p.getTo());
            props.put("subject", p.getSubject());
            props.put("reply-to", p.getReplyTo());
            props.put("correlation-id", shown(p.getCorrelationId()));
            props.put("content-type", p.getContentType() == null ? null : p.getContentType().toString());
            props.put("group-id", p.getGroupId());
            props.put("creation-time", p.getCreationTime() == null ? null : p.getCreationTime().getTime());
            props.put("absolute-expiry-time", p.getAbsoluteExpiryTime() == null ? null : p.getAbsoluteExpiryTime().getTime());
        }
        props.values().removeIf(java.util.Objects::isNull);
        out.put("properties", props);
        java.util.Map<String, Object> app = new java.util.LinkedHashMap<>();
        if (m.getApplicationProperties() != null) {
            m.getApplicationProperties().getValue().forEach((k, v) -> app.put(String.valueOf(k), shown(v)));
        }
        out.put("application-properties", app);
        java.util.Map<String, Object> annotations = new java.util.LinkedHashMap<>();
        if (m.getMessageAnnotations() != null) {
            m.getMessageAnnotations().getValue().forEach((k, v) -> annotations.put(String.valueOf(k), shown(v)));
        }
        out.put("message-annotations", annotations);
        Object body = m.getBody();
        out.put("body", io.omnibus.core.spi.Rendering.body(e.payload(), body instanceof org.apache.qpid.proton.amqp.messaging.Data
                ? "data" : body instanceof org.apache.qpid.proton.amqp.messaging.AmqpValue v
                ? "amqp-value " + (v.getValue() == null ? "null" : v.getValue().getClass().getSimpleName())
                : body == null ? "none" : body.getClass().getSimpleName()));
        return out;
    }

    private static Object shown(Object v) {
        if (v instanceof org.apache.qpid.proton.amqp.Binary b) {
            return io.omnibus.core.spi.Rendering.value(b.asByteBuffer());
        }
        return v == null || v instanceof String || v instanceof Number || v instanceof Boolean ? v : String.valueOf(v);
    }
}
