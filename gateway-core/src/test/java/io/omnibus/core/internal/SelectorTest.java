package io.omnibus.core.internal;

import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.store.file.FileMessageStore;
import io.omnibus.core.store.file.FileStoreOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The core's selector engine and selectors on subscriptions. */
@Timeout(30)
class SelectorTest {
    @TempDir
    Path dir;

    private static Envelope reading(String type, String temp, String site) {
        Envelope.Builder b = Envelope.builder("sensors/a").payload("r").header("type", type).header("temp", temp)
                .priority(7).key("dev-1");
        if (site != null) {
            b.header("site", site);
        }
        return b.build();
    }

    @Test
    void theGrammarOverEnvelopeFieldsAndTextHeadersReadAsNumbers() {
        try (TestBroker tb = new TestBroker(Map.of())) {
            tb.broker.addSelectorVocabulary((e, id) -> id.equals("JMSType") ? e.header("type") : null);
            Envelope hot = reading("temperature", "31.5", "north-1");
            Envelope cold = reading("temperature", "4", null);
            Envelope other = reading("humidity", "55", "south-2");
            Map<String, boolean[]> cases = Map.of(
                    "JMSType = 'temperature'", new boolean[] {true, true, false},
                    "temp > 30", new boolean[] {true, false, true},
                    "temp BETWEEN 0 AND 10", new boolean[] {false, true, false},
                    "site LIKE 'north-%'", new boolean[] {true, false, false},
                    "site IN ('south-2', 'east-3')", new boolean[] {false, false, true},
                    "site IS NULL", new boolean[] {false, true, false},
                    "JMSPriority > 4 AND JMSXGroupID = 'dev-1' AND JMSDeliveryMode = 'PERSISTENT'",
                    new boolean[] {true, true, true},
                    "NOT (JMSType = 'temperature' OR temp < 50)", new boolean[] {false, false, true},
                    "address = 'sensors/a' AND key = 'dev-1' AND content_type IS NULL", new boolean[] {true, true, true},
                    "hyphenated_props: priority = 7 AND content-type IS NULL AND type = 'humidity'",
                    new boolean[] {false, false, true});
            cases.forEach((selector, expected) -> {
                Predicate<Envelope> p = tb.broker.selector(selector);
                assertThat(new boolean[] {p.test(hot), p.test(cold), p.test(other)}).as(selector).isEqualTo(expected);
            });
            assertThatThrownBy(() -> tb.broker.selector("temp >")).isInstanceOf(BrokerException.class)
                    .hasMessageContaining("invalid selector")
                    .matches(e -> ((BrokerException) e).reason() == BrokerException.Reason.INVALID_SELECTOR);
        }
    }

    @Test
    void aSubscriptionTakesOnlyWhatItsSelectorSelectsAndNotItsOwnPublishersMessagesAndKeepsBothAcrossARestart() {
        SubscriptionSpec spec = new SubscriptionSpec("hot", io.omnibus.core.spi.TopicFilter.of("sensors/#"), true, null)
                .withSelection("temp > 30", "mqtt/me");
        try (TestBroker tb = new TestBroker(Map.of(), new FileMessageStore(FileStoreOptions.defaults(dir)))) {
            Subscription sub = await(tb.broker.subscribe(spec));
            assertThatThrownBy(() -> await(tb.broker.subscribe(spec.withSelection("temp > 40", "mqtt/me"))))
                    .hasMessageContaining("exists with selector 'temp > 30'");
            TestBroker.Recorder r = tb.recorder().attach(sub, 100);
            tb.publish(reading("t", "35", null));
            tb.publish(reading("t", "20", null));
            tb.publish(Envelope.builder("sensors/a").payload("mine").header("temp", "99")
                    .origin(new Origin("mqtt", "me", "c1")).build());
            tb.publish(reading("t", "36", null));
            await().until(() -> r.received.size() == 2);
            assertThat(r.received).extracting(d -> d.envelope().header("temp")).containsExactly("35", "36");
            await().until(() -> tb.view("hot").backlog() == 0);
        }
        try (TestBroker tb = new TestBroker(Map.of(), new FileMessageStore(FileStoreOptions.defaults(dir)))) {
            Subscription sub = await(tb.broker.subscribe(spec)); // the same selection: the same subscription
            TestBroker.Recorder r = tb.recorder().attach(sub, 100);
            tb.publish(reading("t", "10", null));
            tb.publish(reading("t", "50", null));
            await().until(() -> r.received.size() == 1);
            assertThat(r.received.get(0).envelope().header("temp")).isEqualTo("50");
        }
    }
}
