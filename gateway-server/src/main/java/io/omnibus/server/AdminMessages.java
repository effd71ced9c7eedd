package io.omnibus.server;

import io.omnibus.core.internal.DefaultBroker;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.spi.TranslationTable;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static io.omnibus.server.AdminApi.address;
import static io.omnibus.server.AdminApi.error;
import static io.omnibus.server.AdminApi.json;
import static io.omnibus.server.AdminApi.param;
import static io.omnibus.server.AdminApi.partitionExists;

/**
 * The admin API's message views: a page of an address's stored messages, one message as each protocol delivers it,
 * and the translation table.
 */
final class AdminMessages {
    private static final List<String> SHOWN_PROTOCOLS = TranslationTable.PROTOCOLS;

    private final DefaultBroker broker;
    private final Function<String, ProtocolAdapter> adapters;

    AdminMessages(DefaultBroker broker, Function<String, ProtocolAdapter> adapters) {
        this.broker = broker;
        this.adapters = adapters;
    }

    /**
     * {@code /api/translation}: the whole table; with {@code from} and {@code to} (mqtt3, mqtt5, amqp, kafka, rocketmq),
     * the field table of that pair: each field, how each side carries it, and whether it is kept, converted or lost.
     */
    void translation(RoutingContext ctx) {
        TranslationTable table = TranslationTable.get();
        String from = ctx.request().getParam("from");
        String to = ctx.request().getParam("to");
        if (from == null && to == null) {
            JsonArray fields = new JsonArray();
            for (TranslationTable.Field f : table.fields()) {
                JsonObject protocols = new JsonObject();
                f.cells().forEach((p, c) -> protocols.put(p, cell(c)));
                fields.add(new JsonObject().put("field", f.name()).put("meaning", f.meaning()).put("protocols", protocols));
            }
            json(ctx, fields);
            return;
        }
        if (from == null || to == null || !SHOWN_PROTOCOLS.contains(from) || !SHOWN_PROTOCOLS.contains(to)) {
            error(ctx, 400, "from and to must both be given, each one of " + SHOWN_PROTOCOLS);
            return;
        }
        JsonArray rows = new JsonArray();
        for (TranslationTable.Outcome o : table.pair(from, to)) {
            rows.add(new JsonObject().put("field", o.field()).put("meaning", o.meaning()).put("from", cell(o.from()))
                    .put("to", cell(o.to())).put("result", o.result()));
        }
        json(ctx, rows);
    }

    private static JsonObject cell(TranslationTable.Cell c) {
        return new JsonObject().put("carry", c.carry().name().toLowerCase(java.util.Locale.ROOT)).put("how", c.how());
    }

    /** {@code /api/messages/{address}@{partition}:{offset}/as/{protocol}}: a stored message as that protocol delivers it. */
    void messageAs(RoutingContext ctx) {
        String id = ctx.pathParam("param0"); // already decoded by the router
        String protocol = ctx.pathParam("param1");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.+)@(\\d+):(\\d+)").matcher(id);
        if (!m.matches()) {
            error(ctx, 400, "a message id is ADDRESS@PARTITION:OFFSET, not " + id);
            return;
        }
        if (!SHOWN_PROTOCOLS.contains(protocol)) {
            error(ctx, 400, "the protocol must be one of " + SHOWN_PROTOCOLS);
            return;
        }
        ProtocolAdapter adapter = adapters.apply(protocol.startsWith("mqtt") ? "mqtt"
                : protocol.equals("rocketmq") ? "openmessaging" : protocol);
        if (adapter == null) {
            error(ctx, 404, "the " + protocol + " adapter is not running");
            return;
        }
        Address address = address(ctx, m.group(1));
        int partition;
        long offset;
        try {
            partition = Integer.parseInt(m.group(2));
            offset = Long.parseLong(m.group(3));
        } catch (NumberFormatException e) {
            error(ctx, 400, "partition or offset out of range in " + id);
            return;
        }
        if (address == null || !partitionExists(broker, ctx, address, partition)) {
            return;
        }
        broker.logs().read(address, partition, offset, 1).onComplete(ar -> {
            try {
                if (ar.failed()) {
                    error(ctx, 500, "the store could not read " + id + ": " + ar.cause().getMessage());
                    return;
                }
                if (ar.result().isEmpty() || ar.result().get(0).offset() != offset) {
                    error(ctx, 404, "no message at " + id);
                    return;
                }
                Envelope e = ar.result().get(0).envelope();
                Map<String, Object> shown = adapter.render(e, protocol);
                if (shown == null) {
                    error(ctx, 404, "the " + protocol + " adapter does not show messages");
                    return;
                }
                JsonObject body = new JsonObject().put("id", id).put("origin", column(e))
                        .put("originProtocol", e.origin() == null ? null : e.origin().protocol())
                        .put("as", JsonObject.mapFrom(shown));
                ctx.response().putHeader("content-type", "application/json").end(body.encodePrettily());
            } catch (RuntimeException err) {
                error(ctx, 500, "showing " + id + " as " + protocol + " failed: " + err);
            }
        });
    }

    /**
     * {@code /api/topics/{address}/messages?partition=P&offset=O&max=N}: a page of stored messages, from {@code O} on
     * (default: the newest {@code N}), each with its headers and the start of its payload.
     */
    void browse(RoutingContext ctx) {
        Address address = address(ctx, ctx.pathParam("param0"));
        if (address == null) {
            return;
        }
        int partition;
        int max;
        Long offset;
        try {
            partition = Integer.parseInt(param(ctx, "partition", "0"));
            max = Math.min(200, Math.max(1, Integer.parseInt(param(ctx, "max", "20"))));
            String o = ctx.request().getParam("offset");
            offset = o == null || o.isBlank() ? null : Long.parseLong(o);
        } catch (NumberFormatException e) {
            error(ctx, 400, "partition, offset and max are whole numbers");
            return;
        }
        if (!partitionExists(broker, ctx, address, partition)) {
            return;
        }
        Logs logs = broker.logs();
        long start = logs.startOffset(address, partition);
        long end = logs.endOffset(address, partition);
        long from = Math.max(start, offset == null ? end - max : offset);
        logs.read(address, partition, from, max).onComplete(ar -> {
            if (ar.failed()) {
                error(ctx, 500, "the store could not read " + address + "@" + partition + ": " + ar.cause().getMessage());
                return;
            }
            JsonArray messages = new JsonArray();
            for (Logs.Entry entry : ar.result()) {
                messages.add(summary(entry));
            }
            ctx.response().putHeader("content-type", "application/json").end(new JsonObject().put("address", address.name())
                    .put("partition", partition).put("startOffset", start).put("endOffset", end).put("messages", messages)
                    .encodePrettily());
        });
    }

    private static JsonObject summary(Logs.Entry entry) {
        Envelope e = entry.envelope();
        JsonObject headers = new JsonObject();
        e.headers().forEach(h -> headers.put(h.name(), h.isText() ? h.stringValue()
                : "base64:" + java.util.Base64.getEncoder().encodeToString(bytes(h.bytesValue()))));
        byte[] payload = e.payloadBytes();
        String preview;
        java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
        try {
            String text = utf8.decode(java.nio.ByteBuffer.wrap(payload, 0, Math.min(payload.length, 512))).toString();
            preview = text.length() > 200 ? text.substring(0, 200) : text;
        } catch (java.nio.charset.CharacterCodingException notText) {
            preview = "base64:" + java.util.Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(payload,
                    Math.min(payload.length, 96)));
        }
        String key = e.hasKey() ? new String(bytes(e.key()), StandardCharsets.UTF_8) : null;
        return new JsonObject().put("offset", entry.offset()).put("timestamp", e.createdAt()).put("key", key)
                .put("size", e.payloadSize()).put("contentType", e.contentType())
                .put("origin", column(e)).put("originProtocol", e.origin() == null ? null : e.origin().protocol())
                .put("headers", headers)
                .put("preview", preview);
    }

    /**
     * The translation table's column of the protocol a message came in with (null for the broker's own, such as
     * dead letters' copies): MQTT's is mqtt5, since the envelope does not keep which version the publisher spoke.
     */
    private static String column(Envelope e) {
        String p = e.origin() == null ? null : e.origin().protocol();
        if (p == null) {
            return null;
        }
        String column = switch (p) {
            case "mqtt" -> "mqtt5";
            case "openmessaging" -> "rocketmq";
            default -> p;
        };
        return SHOWN_PROTOCOLS.contains(column) ? column : null;
    }

    private static byte[] bytes(java.nio.ByteBuffer b) {
        java.nio.ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
