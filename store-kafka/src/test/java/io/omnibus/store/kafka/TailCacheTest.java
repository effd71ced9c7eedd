package io.omnibus.store.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TailCacheTest {
    private static final TopicPartition TP = new TopicPartition(Address.of("t"), 0);

    private static StoredMessage message(long offset, int size) {
        Envelope e = Envelope.builder(Address.of("t")).payload(new byte[size]).build();
        return new StoredMessage(TP, offset, e, 0);
    }

    private static List<Long> offsets(List<StoredMessage> read) {
        return read == null ? null : read.stream().map(StoredMessage::offset).toList();
    }

    @Test
    void servesConsecutiveOffsetsFromWhereAsked() {
        TailCache cache = new TailCache(1 << 20);
        for (long o = 10; o < 20; o++) {
            cache.appended(message(o, 10));
        }
        assertThat(offsets(cache.read(TP, 12, 3))).containsExactly(12L, 13L, 14L);
        assertThat(offsets(cache.read(TP, 18, 100))).containsExactly(18L, 19L);
        assertThat(cache.read(TP, 9, 5)).as("before the run: from Kafka").isNull();
        assertThat(cache.read(TP, 20, 5)).as("past the end").isNull();
        assertThat(cache.read(new TopicPartition(Address.of("t"), 1), 12, 5)).isNull();
    }

    @Test
    void anAppendAfterAGapStartsANewRunAndNothingAcrossTheGapIsServed() {
        TailCache cache = new TailCache(1 << 20);
        cache.appended(message(0, 10));
        cache.appended(message(1, 10));
        cache.appended(message(3, 10)); // offset 2 is a transaction's marker, or a transaction's own message
        assertThat(cache.read(TP, 0, 10)).as("the old run is gone: offset 2 would be missing").isNull();
        assertThat(offsets(cache.read(TP, 3, 10))).containsExactly(3L);
    }

    @Test
    void keepsWithinItsBytesDroppingTheOldestAndForgetsATruncatedPartition() {
        TailCache cache = new TailCache(2_000);
        for (long o = 0; o < 100; o++) {
            cache.appended(message(o, 100));
        }
        assertThat(cache.bytes()).isLessThanOrEqualTo(2_000);
        assertThat(cache.read(TP, 0, 10)).isNull();
        assertThat(offsets(cache.read(TP, 99, 10))).containsExactly(99L);
        cache.forget(TP);
        assertThat(cache.bytes()).isZero();
        assertThat(cache.read(TP, 99, 10)).isNull();
        assertThat(new TailCache(0).read(TP, 0, 1)).as("off").isNull();
    }
}
