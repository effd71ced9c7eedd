package io.omnibus.core.spi;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Counts what a delivery loses, by the {@link TranslationTable}: {@code omnibus.translation.losses{from, to, field}},
 * one per field a delivered message had and the protocol it goes out in cannot carry (or, for text-only fields, a
 * binary value). {@code from} is the protocol the message came in ({@code mqtt}, {@code amqp}, {@code kafka},
 * {@code rocketmq}, {@code broker}), {@code to} one of {@link TranslationTable#PROTOCOLS}. A field its own protocol
 * could not express (an MQTT message's creation time is its arrival time) is not counted. Adapters call
 * {@link #delivered} for every message they hand a client; it is cheap when nothing is lost. Thread-safe.
 */
public final class TranslationLosses {
    /** Whether an envelope has a field (a value a producer gave it). */
    private record Check(TranslationTable.Field field, Predicate<Envelope> present, Predicate<Envelope> binary) {
    }

    /** One check on one route: the field, and the test that finds it lost there (present, or present as binary). */
    private record Loss(String field, Predicate<Envelope> lost) {
    }

    private static final Predicate<Envelope> NEVER = e -> false;
    private static final List<Check> CHECKS = checks();
    /** The table's protocols a message can come in, in the order of {@link #ROUTES}' inner arrays. */
    private static final List<String> FROM = List.of("mqtt5", "amqp", "kafka", "rocketmq", "broker");
    /**
     * By target protocol, then by source ({@link #FROM}): the checks that can find a loss on that route, decided once
     * from the table, so that a delivery runs a few predicates and looks nothing up.
     */
    private static final Map<String, Loss[][]> ROUTES = routes();

    private final MeterRegistry meters;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    public TranslationLosses(MeterRegistry meters) {
        this.meters = meters;
    }

    /** A message goes out in protocol {@code to} (one of {@link TranslationTable#PROTOCOLS}). */
    public void delivered(Envelope e, String to) {
        Loss[][] byFrom = ROUTES.get(to);
        if (byFrom == null) {
            throw new IllegalArgumentException("no protocol " + to + "; the table's are " + TranslationTable.PROTOCOLS);
        }
        int from = fromOf(e);
        Loss[] checks = byFrom[from];
        for (Loss c : checks) {
            if (c.lost().test(e)) {
                count(familyOf(FROM.get(from)), to, c.field());
            }
        }
    }

    private static Map<String, Loss[][]> routes() {
        Map<String, Loss[][]> out = new java.util.HashMap<>();
        for (String to : TranslationTable.PROTOCOLS) {
            Loss[][] byFrom = new Loss[FROM.size()][];
            for (int f = 0; f < FROM.size(); f++) {
                String from = FROM.get(f);
                List<Loss> mine = new java.util.ArrayList<>();
                for (Check c : CHECKS) {
                    TranslationTable.Carry carry = c.field().cell(to).carry();
                    if (carry != TranslationTable.Carry.LOST && carry != TranslationTable.Carry.TEXT) {
                        continue; // the target carries it as it is
                    }
                    if (!from.equals("broker") && c.field().cell(from).carry() == TranslationTable.Carry.LOST) {
                        continue; // the producer's protocol could not give it: nothing of the producer's is lost
                    }
                    mine.add(new Loss(c.field().name(), carry == TranslationTable.Carry.LOST ? c.present() : c.binary()));
                }
                byFrom[f] = mine.toArray(Loss[]::new);
            }
            out.put(to, byFrom);
        }
        return Map.copyOf(out);
    }

    private void count(String from, String to, String field) {
        counters.computeIfAbsent(from + '|' + to + '|' + field, k -> Counter.builder("omnibus.translation.losses")
                .tag("from", from).tag("to", to).tag("field", field)
                .description("Fields a delivery could not carry in its protocol (docs/translation.md)")
                .register(meters)).increment();
    }

    /**
     * The table's protocol a message came in (MQTT as MQTT 5, its superset), or {@code broker} for the broker's own:
     * its index in {@link #FROM}.
     */
    private static int fromOf(Envelope e) {
        String p = e.origin() == null ? "" : e.origin().protocol();
        return switch (p) {
            case "mqtt" -> 0;
            case "amqp" -> 1;
            case "kafka" -> 2;
            case "openmessaging" -> 3;
            default -> 4;
        };
    }

    /** A header an adapter keeps for itself ({@code mqtt.qos}, {@code amqp.*}, ...): not the user's, not counted. */
    private static boolean own(Header h) {
        String n = h.name();
        return n.startsWith("mqtt.") || n.startsWith("amqp.") || n.startsWith("kafka.") || n.startsWith("rocketmq.");
    }

    private static boolean userHeaders(Envelope e) {
        for (Header h : e.headers()) {
            if (!own(h)) {
                return true;
            }
        }
        return false;
    }

    private static boolean binaryUserHeaders(Envelope e) {
        for (Header h : e.headers()) {
            if (!own(h) && !h.isText()) {
                return true;
            }
        }
        return false;
    }

    private static String familyOf(String protocol) {
        return protocol.startsWith("mqtt") ? "mqtt" : protocol;
    }

    private static List<Check> checks() {
        TranslationTable t = TranslationTable.get();
        return List.of(
                new Check(t.field("message-id"), e -> e.messageId() != null, NEVER),
                new Check(t.field("key"), Envelope::hasKey, e -> e.hasKey() && !utf8(e.key())),
                new Check(t.field("payload-utf8"), Envelope::payloadUtf8, NEVER),
                new Check(t.field("headers"), TranslationLosses::userHeaders, TranslationLosses::binaryUserHeaders),
                new Check(t.field("content-type"), e -> e.contentType() != null, NEVER),
                new Check(t.field("correlation"), e -> e.correlation() != null,
                        e -> e.correlation() != null && !utf8(e.correlation())),
                new Check(t.field("reply-to"), e -> e.replyTo() != null, NEVER),
                new Check(t.field("created-at"), e -> e.createdAt() != 0, NEVER),
                new Check(t.field("expires-at"), e -> e.expiresAt() != 0, NEVER),
                new Check(t.field("deliver-at"), e -> e.deliverAt() != 0, NEVER),
                new Check(t.field("priority"), e -> e.priority() != Envelope.DEFAULT_PRIORITY, NEVER),
                new Check(t.field("durable"), e -> !e.durable(), NEVER),
                new Check(t.field("retain"), Envelope::retain, NEVER),
                new Check(t.field("delivery-count"), e -> e.deliveryCount() > 0, NEVER));
    }

    private static boolean utf8(ByteBuffer b) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(b.duplicate());
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
