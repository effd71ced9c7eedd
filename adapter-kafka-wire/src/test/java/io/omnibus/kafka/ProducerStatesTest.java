package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Idempotent producer sequences as Kafka's broker checks them (KIP-98, KIP-360). */
class ProducerStatesTest {
    private final ProducerStates states = new ProducerStates();
    private final ProducerStates.Key key = new ProducerStates.Key(7, Address.of("t"), 0);

    private ProducerStates.Verdict check(int epoch, int first, int last) {
        return states.check(key, (short) epoch, first, last, 1000);
    }

    @Test
    void sequencesFollowEachOtherDuplicatesPointAtTheirBatchGapsAreOutOfOrder() {
        ProducerStates.Verdict a = check(0, 0, 4);
        assertThat(a.append()).isNotNull();
        assertThat(check(0, 5, 9).append()).isNotNull();
        ProducerStates.Verdict dup = check(0, 0, 4);
        assertThat(dup.append()).isNull();
        a.append().offset.complete(100L);
        assertThat(dup.duplicateOf().result()).isEqualTo(100L);
        assertThat(check(0, 11, 12).error()).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(check(0, 10, 10).append()).isNotNull();
    }

    @Test
    void aNewEpochStartsAtZeroAndFencesTheOldOne() {
        check(0, 0, 0);
        assertThat(check(1, 1, 1).error()).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(check(1, 0, 0).append()).isNotNull();
        assertThat(check(0, 1, 1).error()).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
    }

    @Test
    void aProducerUnknownToThePartitionIsTakenAtAnySequence() { // its state may be gone: restart, expiry
        assertThat(check(3, 500, 509).append()).isNotNull();
        assertThat(check(3, 510, 510).append()).isNotNull();
    }

    @Test
    void onlyTheLastFiveBatchesAreRemembered() {
        for (int i = 0; i < 6; i++) {
            check(0, i, i);
        }
        assertThat(check(0, 0, 0).error()).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER); // too old to recognize
        assertThat(check(0, 1, 1).duplicateOf()).isNotNull();
    }

    @Test
    void aFailedLastBatchGivesItsSequencesBackForTheRetry() {
        check(0, 0, 1);
        ProducerStates.Verdict second = check(0, 2, 3);
        states.failed(key, second.append());
        assertThat(check(0, 4, 4).error()).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(check(0, 2, 3).append()).isNotNull(); // the retry fits
    }

    @Test
    void aFailedBatchInTheMiddleTakesTheOnesAfterItBackToo() {
        check(0, 0, 1);
        ProducerStates.Verdict second = check(0, 2, 3);
        check(0, 4, 5);
        states.failed(key, second.append());
        assertThat(check(0, 2, 3).append()).isNotNull(); // the retry of the failed one is taken again
        assertThat(check(0, 0, 1).duplicateOf()).isNotNull(); // the one before stays known
    }

    @Test
    void wrapsAfterTheLargestSequence() {
        check(0, Integer.MAX_VALUE - 1, Integer.MAX_VALUE);
        assertThat(check(0, 0, 3).append()).isNotNull();
    }

    @Test
    void idleProducersExpire() {
        check(0, 0, 0);
        states.expire(999);
        assertThat(states.size()).isEqualTo(1);
        states.expire(1001);
        assertThat(states.size()).isZero();
    }
}
