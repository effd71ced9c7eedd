package io.omnibus.store.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StateRecordsTest {
    @Test
    void keysKeepAnyNameAndParseBack() {
        StateRecords.Key k = StateRecords.parse(StateRecords.stateKey("mqtt.sessions", "client/with\u0000odd names é"));
        assertThat(k.kind()).isEqualTo(StateRecords.STATE);
        assertThat(k.parts()).containsExactly("mqtt.sessions", "client/with\u0000odd names é");

        TopicPartition tp = new TopicPartition(Address.of("a/b"), 3);
        StateRecords.Key c = StateRecords.parse(StateRecords.cursorKey("sub:1", tp));
        assertThat(c.kind()).isEqualTo(StateRecords.CURSOR);
        assertThat(c.part(0)).isEqualTo("sub:1");
        assertThat(StateRecords.cursorPartition(c)).isEqualTo(tp);

        // two keys whose parts concatenate alike stay apart
        assertThat(StateRecords.stateKey("ab", "c")).isNotEqualTo(StateRecords.stateKey("a", "bc"));
    }

    @Test
    void subscriptionsAndCursorsRoundTrip() {
        SubscriptionRecord r = new SubscriptionRecord("orders", "orders/#", DispatchPolicy.ROUND_ROBIN, "prio > 3", null);
        assertThat(StateRecords.subscription(StateRecords.subscription(r))).isEqualTo(r);
        SubscriptionRecord empty = new SubscriptionRecord("s", "", DispatchPolicy.ROUND_ROBIN, "", "client-1");
        assertThat(StateRecords.subscription(StateRecords.subscription(empty))).isEqualTo(empty);

        CursorState state = new CursorState(42, List.of(new long[] {44, 46}, new long[] {50, 51}));
        CursorState back = StateRecords.cursor(StateRecords.cursor(state));
        assertThat(back.ackedBelow()).isEqualTo(42);
        assertThat(back.ackedRanges()).containsExactly(new long[] {44, 46}, new long[] {50, 51});
    }

    @Test
    void damagedRecordsAreRefusedNotMisread() {
        assertThatThrownBy(() -> StateRecords.parse(new byte[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StateRecords.parse(new byte[] {'s', 9, 'a'})).isInstanceOf(IllegalArgumentException.class);
        byte[] cursor = StateRecords.cursor(new CursorState(1, List.of(new long[] {3, 4})));
        cursor[11] = 100; // claims 100 ranges in 16 bytes
        assertThatThrownBy(() -> StateRecords.cursor(cursor)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void topicNamesAreLegalDistinctAndBounded() {
        assertThat(KafkaTopics.topicName("omnibus.", Address.of("sensors/t_1"))).isEqualTo("omnibus.a.sensors.t_5f1");
        assertThat(KafkaTopics.topicName("omnibus.", Address.of("a.b"))).isNotEqualTo(KafkaTopics.topicName("omnibus.", Address.of("a/b")));
        assertThat(KafkaTopics.topicName("", Address.of("$SYS/é"))).isEqualTo("a._24SYS._c3_a9");
        String longName = "x/".repeat(300) + "end";
        String name = KafkaTopics.topicName("omnibus.", Address.of(longName));
        assertThat(name).hasSize(KafkaTopics.MAX_NAME).matches("[a-zA-Z0-9._-]+");
        assertThat(KafkaTopics.topicName("omnibus.", Address.of("x/".repeat(300) + "other"))).isNotEqualTo(name);
    }
}
