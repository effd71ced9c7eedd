package io.omnibus.openmessaging;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The topic name rule of docs/openmessaging.md, both ways. */
class RocketNamesTest {
    @ParameterizedTest
    @CsvSource(delimiter = ',', value = {
        "sensors/kitchen/temp,sensors|kitchen|temp",
        "orders,orders",
        "v1.2/x,v1_x2e2|x",
        "room 1,room_x201",
        "a_b-c,a_b-c",
        "100%,100_x25",
        "$rocketmq/retry/group-1,%RETRY%group-1",
        "$dlq/rocketmq/group-1,%DLQ%group-1",
        "$dlq/orders,_x24dlq|orders"})
    void addressesAndRocketNamesMapBothWays(String address, String rocket) {
        assertThat(RocketNames.toRocket(Address.of(address))).isEqualTo(rocket);
        assertThat(RocketNames.toAddress(rocket)).isEqualTo(Address.of(address));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ns%topic", "%RETRY%", "%DLQ%a.b", "has space", "dot.ted", "a_x41", "bad_xc3"})
    void namesTheRuleNeverProducesAreRefused(String rocket) {
        assertThatThrownBy(() -> RocketNames.toAddress(rocket)).isInstanceOf(InvalidAddressException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"$rocketmq/schedule", "$rocketmq/half", "$sys/x"})
    void theGatewaysOwnAddressesAreClosed(String address) {
        assertThat(RocketNames.readable(Address.of(address))).isFalse();
        assertThat(RocketNames.writable(Address.of(address))).isFalse();
    }
}
