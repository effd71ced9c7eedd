package io.omnibus.core.store;

import io.omnibus.core.spi.Address;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What age retention keeps of a partition for the durable subscriptions, asked of the floor made once per pass. */
class RetentionFloorTest {
    private static final TopicPartition T1 = new TopicPartition(Address.of("t/1"), 0);
    private static final TopicPartition T2 = new TopicPartition(Address.of("t/2"), 0);
    private static final TopicPartition OTHER = new TopicPartition(Address.of("other"), 0);

    private static SubscriptionRecord sub(String name, String filter) {
        return new SubscriptionRecord(name, filter, null);
    }

    private static CursorState acked(long below) {
        return new CursorState(below, List.of());
    }

    @Test
    void theLowestCursorOfThePartitionIsKeptAndNothingForAPartitionNobodyReads() {
        RetentionFloor floor = new RetentionFloor()
                .add(sub("a", "t/1"), Map.of(T1, acked(7)))
                .add(sub("b", "t/+"), Map.of(T1, acked(3), T2, acked(9)));
        assertThat(floor.needed(T1)).isEqualTo(3);
        assertThat(floor.needed(T2)).isEqualTo(9);
        assertThat(floor.needed(OTHER)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aSubscriptionWhoseFilterMatchesButHasNoCursorOnThePartitionYetNeedsAllOfIt() {
        RetentionFloor floor = new RetentionFloor()
                .add(sub("a", "t/#"), Map.of(T1, acked(5)))
                .add(sub("b", "t/#"), Map.of(T1, acked(6), T2, acked(4)));
        assertThat(floor.needed(T1)).isEqualTo(5);
        assertThat(floor.needed(T2)).isZero(); // "a" matches t/2 and has not read it
        assertThat(new RetentionFloor().add(sub("c", "other"), Map.of()).needed(OTHER)).isZero();
        assertThat(new RetentionFloor().add(sub("c", "other"), Map.of()).needed(T1)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aCursorCountsEvenWhereTheFilterNoLongerMatches() {
        RetentionFloor floor = new RetentionFloor().add(sub("a", "elsewhere"), Map.of(T1, acked(2)));
        assertThat(floor.needed(T1)).isEqualTo(2);
    }
}
