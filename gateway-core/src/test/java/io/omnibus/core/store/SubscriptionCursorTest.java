package io.omnibus.core.store;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SubscriptionCursorTest {
    @Test
    void individualAcksCloseGapsAndMoveTheCumulativePoint() {
        SubscriptionCursor c = new SubscriptionCursor(10);
        assertThat(c.ack(12)).isTrue();
        assertThat(c.ack(14)).isTrue();
        assertThat(c.ack(13)).isTrue();
        assertThat(c.rangeCount()).isEqualTo(1);
        assertThat(c.ackedBelow()).isEqualTo(10);
        assertThat(c.isAcked(11)).isFalse();
        assertThat(c.isAcked(13)).isTrue();
        assertThat(c.ack(10)).isTrue();
        assertThat(c.ack(11)).isTrue();
        assertThat(c.ackedBelow()).isEqualTo(15);
        assertThat(c.rangeCount()).isZero();
        assertThat(c.ack(3)).isFalse();
    }

    @Test
    void cumulativeAckSwallowsRangesBelowAndTouching() {
        SubscriptionCursor c = new SubscriptionCursor(0);
        c.ack(5);
        c.ack(6);
        c.ack(9);
        c.ackUpTo(4);
        assertThat(c.ackedBelow()).isEqualTo(7);
        assertThat(c.isAcked(8)).isFalse();
        assertThat(c.isAcked(9)).isTrue();
    }

    @Test
    void snapshotRoundTrips() {
        SubscriptionCursor c = new SubscriptionCursor(3);
        c.ack(5);
        c.ack(8);
        SubscriptionCursor back = SubscriptionCursor.from(c.snapshot());
        for (long o = 0; o < 12; o++) {
            assertThat(back.isAcked(o)).as("offset %d", o).isEqualTo(c.isAcked(o));
        }
    }

    @Test
    void aRangeAckMergesWithItsNeighboursAndTheCumulativePoint() {
        SubscriptionCursor c = new SubscriptionCursor(0);
        c.ack(7);
        c.ack(12);
        c.ackRange(3, 7); // 3..6 touch 7
        assertThat(c.rangeCount()).isEqualTo(2);
        assertThat(c.isAcked(2)).isFalse();
        for (long o = 3; o <= 7; o++) {
            assertThat(c.isAcked(o)).isTrue();
        }
        c.ackRange(8, 12); // joins 3..7 and 12
        assertThat(c.rangeCount()).isEqualTo(1);
        assertThat(c.ackedFrom(0)).isEqualTo(10);
        c.ackRange(0, 3); // reaches the cumulative point: everything below 13
        assertThat(c.ackedBelow()).isEqualTo(13);
        assertThat(c.rangeCount()).isZero();
        c.ackRange(20, 20); // empty
        assertThat(c.isAcked(20)).isFalse();
    }
}
