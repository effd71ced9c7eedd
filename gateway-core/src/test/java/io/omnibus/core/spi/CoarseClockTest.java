package io.omnibus.core.spi;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class CoarseClockTest {
    @Test
    void movesOnWithTheWallClockAndIsNeverAhead() {
        long first = CoarseClock.millis();
        assertThat(first).isLessThanOrEqualTo(System.currentTimeMillis());
        await().atMost(Duration.ofSeconds(5)).until(() -> CoarseClock.millis() > first);
        long now = System.currentTimeMillis();
        long coarse = CoarseClock.millis();
        assertThat(coarse).isLessThanOrEqualTo(System.currentTimeMillis());
        // at most a tick behind, with room for a scheduler that ran the ticking thread late
        assertThat(now - coarse).isLessThan(CoarseClock.TICK_MILLIS + 1_000);
    }
}
