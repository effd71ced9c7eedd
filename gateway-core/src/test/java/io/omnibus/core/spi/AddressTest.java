package io.omnibus.core.spi;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AddressTest {
    @Test
    void wildcardsAreRefusedInAddressesWithTheRuleNamed() {
        assertThatThrownBy(() -> Address.of("a/+/b")).isInstanceOf(InvalidAddressException.class)
                .hasMessageContaining("'+'").hasMessageContaining("index 2").hasMessageContaining("[MQTT-4.7.1-1]");
        assertThatThrownBy(() -> Address.of("a/#")).hasMessageContaining("[MQTT-4.7.1-1]");
    }

    @Test
    void emptyNullAndOverlongAreRefused() {
        assertThatThrownBy(() -> Address.of("")).hasMessageContaining("[MQTT-4.7.3-1]");
        assertThatThrownBy(() -> Address.of("a\u0000b")).hasMessageContaining("[MQTT-4.7.3-2]");
        assertThatThrownBy(() -> Address.of("x".repeat(65_536))).hasMessageContaining("65536 bytes")
                .hasMessageContaining("[MQTT-4.7.3-3]");
        assertThatThrownBy(() -> Address.of("bad\uD800")).hasMessageContaining("[MQTT-1.5.4-1]");
        assertThat(Address.of("é".repeat(32_767)).name()).hasSize(32_767);
    }

    @Test
    void levelsKeepEmptyOnesAndAnyOtherCharacter() {
        assertThat(Address.of("/a//b.c d/").levels()).containsExactly("", "a", "", "b.c d", "");
        assertThat(Address.of("$SYS/x").isSystem()).isTrue();
        assertThat(Address.of("日本/温度").levels()).containsExactly("日本", "温度");
    }

    @Test
    void filterRulesNameTheLevel() {
        assertThatThrownBy(() -> TopicFilter.of("a/#/b")).hasMessageContaining("level 2").hasMessageContaining("[MQTT-4.7.1-2]");
        assertThatThrownBy(() -> TopicFilter.of("a/b#")).hasMessageContaining("[MQTT-4.7.1-2]");
        assertThatThrownBy(() -> TopicFilter.of("a/b+/c")).hasMessageContaining("level 2").hasMessageContaining("[MQTT-4.7.1-3]");
        assertThat(TopicFilter.of("+/+/#").hasWildcard()).isTrue();
        assertThat(TopicFilter.of("a/b").hasWildcard()).isFalse();
    }

    @Test
    void singleFilterMatchAgreesWithTheSpec() {
        assertThat(TopicFilter.of("sport/#").matches(Address.of("sport"))).isTrue();
        assertThat(TopicFilter.of("sport/+").matches(Address.of("sport"))).isFalse();
        assertThat(TopicFilter.of("#").matches(Address.of("$SYS/x"))).isFalse();
        assertThat(TopicFilter.of("+/x").matches(Address.of("$SYS/x"))).isFalse();
        assertThat(TopicFilter.of("$SYS/+").matches(Address.of("$SYS/x"))).isTrue();
        // empty levels are levels; a filter's levels match whole levels only
        assertThat(TopicFilter.of("a/+").matches(Address.of("a/"))).isTrue();
        assertThat(TopicFilter.of("a").matches(Address.of("a/"))).isFalse();
        assertThat(TopicFilter.of("+/a").matches(Address.of("/a"))).isTrue();
        assertThat(TopicFilter.of("a/+/c").matches(Address.of("a//c"))).isTrue();
        assertThat(TopicFilter.of("a/b").matches(Address.of("a/bc"))).isFalse();
        assertThat(TopicFilter.of("a/bc").matches(Address.of("a/b"))).isFalse();
        assertThat(TopicFilter.of("a/b").matches(Address.of("a/b/c"))).isFalse();
        assertThat(TopicFilter.of("a/b/#").matches(Address.of("a/b/c/d"))).isTrue();
        assertThat(TopicFilter.of("+/+").matches(Address.of("a/b"))).isTrue();
        assertThat(TopicFilter.of("+").matches(Address.of("a/b"))).isFalse();
    }
}
