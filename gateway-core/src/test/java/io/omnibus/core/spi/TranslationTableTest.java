package io.omnibus.core.spi;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The translation table is the one source of truth: docs/translation.md holds exactly what it generates (run with
 * {@code -Dtranslation.update=true} to rewrite that part after changing translation.tsv), and the loss counters
 * follow it.
 */
class TranslationTableTest {
    private static final Path DOC = Path.of("..", "docs", "translation.md");
    private static final String BEGIN = "<!-- generated from gateway-core's translation.tsv: do not edit by hand -->\n";
    private static final String END = "<!-- end of the generated part -->\n";

    @Test
    void theDocsHoldWhatTheTableSays() throws Exception {
        String doc = Files.readString(DOC);
        int begin = doc.indexOf(BEGIN);
        int end = doc.indexOf(END);
        assertThat(begin).as("the generated part's begin marker in " + DOC).isNotNegative();
        assertThat(end).as("its end marker").isGreaterThan(begin);
        String generated = TranslationTable.get().markdown();
        if (Boolean.getBoolean("translation.update")) {
            Files.writeString(DOC, doc.substring(0, begin + BEGIN.length()) + generated + doc.substring(end));
            return;
        }
        assertThat(doc.substring(begin + BEGIN.length(), end))
                .as("docs/translation.md's generated part (mvn -pl gateway-core test -Dtest=TranslationTableTest "
                        + "-Dtranslation.update=true rewrites it)").isEqualTo(generated);
    }

    @Test
    void everyFieldHasEveryProtocolAndPairsFollowTheRule() {
        TranslationTable t = TranslationTable.get();
        assertThat(t.fields()).extracting(TranslationTable.Field::name).contains("address", "headers", "correlation",
                "delivery-count").doesNotHaveDuplicates();
        for (TranslationTable.Field f : t.fields()) {
            assertThat(f.cells().keySet()).containsExactlyElementsOf(TranslationTable.PROTOCOLS);
        }
        assertThat(t.pair("mqtt5", "kafka")).filteredOn(o -> o.field().equals("content-type")).singleElement()
                .extracting(TranslationTable.Outcome::result).isEqualTo("converted");
        assertThat(t.pair("kafka", "mqtt5")).filteredOn(o -> o.field().equals("headers")).singleElement()
                .extracting(TranslationTable.Outcome::result).isEqualTo("kept when text, else lost");
        assertThat(t.pair("mqtt3", "amqp")).filteredOn(o -> o.field().equals("headers")).singleElement()
                .extracting(TranslationTable.Outcome::result).isEqualTo("n/a");
        assertThat(t.pair("amqp", "kafka")).filteredOn(o -> o.field().equals("deliver-at")).singleElement()
                .extracting(TranslationTable.Outcome::result).isEqualTo("lost");
    }

    @Test
    void aDeliveryCountsWhatItsProtocolCannotCarry() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        TranslationLosses losses = new TranslationLosses(meters);
        Envelope fromAmqp = Envelope.builder("a/b").payload("x").messageId("m-1").priority(7).contentType("text/plain")
                .header("h", "v").header(Header.ofBytes("bin", new byte[] {(byte) 0xc3, 0x28}))
                .header(Header.ofBytes("amqp.user-id", new byte[] {(byte) 0xff})) // bookkeeping: not the user's
                .origin(new Origin("amqp", "c", "1")).build();
        losses.delivered(fromAmqp, "mqtt5");
        losses.delivered(fromAmqp, "kafka");
        losses.delivered(fromAmqp, "amqp");
        assertThat(meters.counter("omnibus.translation.losses", "from", "amqp", "to", "mqtt5", "field", "message-id").count())
                .isEqualTo(1);
        assertThat(meters.counter("omnibus.translation.losses", "from", "amqp", "to", "mqtt5", "field", "priority").count())
                .isEqualTo(1);
        assertThat(meters.counter("omnibus.translation.losses", "from", "amqp", "to", "mqtt5", "field", "headers").count())
                .as("a binary header cannot be a user property").isEqualTo(1);
        assertThat(meters.counter("omnibus.translation.losses", "from", "amqp", "to", "kafka", "field", "headers").count())
                .isZero();
        assertThat(meters.find("omnibus.translation.losses").tag("to", "amqp").counters()).isEmpty();
        // an MQTT message's creation time is its arrival: nothing of the producer's is lost
        losses.delivered(Envelope.builder("a").payload(new byte[] {1}).origin(new Origin("mqtt", "c", "2")).build(), "mqtt3");
        assertThat(meters.find("omnibus.translation.losses").tag("from", "mqtt").counters()).isEmpty();
        // but an MQTT 5 publish's payload format indicator is lost to an MQTT 3.1.1 subscriber
        losses.delivered(Envelope.builder("a").payload("text").origin(new Origin("mqtt", "c", "2")).build(), "mqtt3");
        assertThat(meters.counter("omnibus.translation.losses", "from", "mqtt", "to", "mqtt3", "field", "payload-utf8")
                .count()).isEqualTo(1);
    }
}
