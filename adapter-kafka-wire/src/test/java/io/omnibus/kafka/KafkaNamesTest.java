package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The topic name rule of docs/kafka.md, both ways. */
class KafkaNamesTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "sensors/kitchen/temp|sensors.kitchen.temp",
        "my_topic|my_topic",
        "v1.2/x|v1_x2e2.x",
        "$dlq/orders|_x24dlq.orders",
        "a//b|a..b",
        "room 1|room_x201",
        "température|temp_xc3_xa9rature",
        "lit_x41|lit_x5fx41",
        "__consumer_offsets|__consumer_offsets",
        "events-2024_01|events-2024_01",
        "emoji/\uD83D\uDE00|emoji._xf0_x9f_x98_x80"})
    void addressesAndKafkaNamesMapBothWays(String address, String kafka) {
        assertThat(KafkaNames.toKafka(Address.of(address))).isEqualTo(kafka);
        assertThat(KafkaNames.toAddress(kafka)).isEqualTo(Address.of(address));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "has space", "slash/inside", "a_x2fb", "a_x41", "bad_xc3", "plus+"})
    void namesTheRuleNeverProducesAreRefused(String kafka) {
        assertThatThrownBy(() -> KafkaNames.toAddress(kafka)).isInstanceOf(InvalidAddressException.class);
    }

    @Test
    void nameLengthIsKafkasLimit() {
        assertThat(KafkaNames.toAddress("x".repeat(249))).isEqualTo(Address.of("x".repeat(249)));
        assertThatThrownBy(() -> KafkaNames.toAddress("x".repeat(250))).isInstanceOf(InvalidAddressException.class);
        assertThat(KafkaNames.toKafka(Address.of(" ".repeat(84)))).isNull(); // 84 x 3 characters: not reachable from Kafka
    }
}
