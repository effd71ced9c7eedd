package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.TopicFilter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The matching rules of MQTT 5.0 §4.7, each checked by the id the spec gives it. */
class TopicTreeTest {
    private final TopicTree<String> tree = new TopicTree<>();

    private Set<String> match(String topic) {
        Set<String> out = new HashSet<>();
        List<String> all = new ArrayList<>();
        tree.match(Address.of(topic), v -> {
            out.add(v);
            all.add(v);
        });
        assertThat(all).as("each filter matches once").hasSameSizeAs(out);
        return out;
    }

    private void add(String filter) {
        tree.add(TopicFilter.of(filter), filter);
    }

    @Test
    void multiLevelWildcardMatchesParentAndAnyNumberOfChildLevels() {
        // [MQTT-4.7.1-2] "sport/tennis/player1/#" matches the parent and every level below
        add("sport/tennis/player1/#");
        assertThat(match("sport/tennis/player1")).containsExactly("sport/tennis/player1/#");
        assertThat(match("sport/tennis/player1/ranking")).containsExactly("sport/tennis/player1/#");
        assertThat(match("sport/tennis/player1/score/wimbledon")).containsExactly("sport/tennis/player1/#");
        assertThat(match("sport/tennis")).isEmpty();
        add("sport/#");
        assertThat(match("sport")).containsExactly("sport/#");
    }

    @Test
    void singleLevelWildcardMatchesExactlyOneLevel() {
        // [MQTT-4.7.1-3]
        add("sport/tennis/+");
        assertThat(match("sport/tennis/player1")).containsExactly("sport/tennis/+");
        assertThat(match("sport/tennis/player2")).containsExactly("sport/tennis/+");
        assertThat(match("sport/tennis/player1/ranking")).isEmpty();
        add("sport/+");
        assertThat(match("sport")).isEmpty();
        assertThat(match("sport/")).containsExactly("sport/+");
    }

    @Test
    void emptyLevelsAreLevels() {
        // non-normative examples of §4.7.1.2: "+/+" and "/+" match "/finance", "+" does not
        add("+/+");
        add("/+");
        add("+");
        assertThat(match("/finance")).containsExactlyInAnyOrder("+/+", "/+");
        assertThat(match("finance")).containsExactly("+");
    }

    @Test
    void wildcardsAtTheStartDoNotMatchDollarTopics() {
        // [MQTT-4.7.2-1]
        add("#");
        add("+/monitor/Clients");
        add("$SYS/#");
        add("$SYS/monitor/+");
        assertThat(match("$SYS/monitor/Clients")).containsExactlyInAnyOrder("$SYS/#", "$SYS/monitor/+");
        assertThat(match("$SYS")).containsExactly("$SYS/#");
        assertThat(match("a/monitor/Clients")).containsExactlyInAnyOrder("#", "+/monitor/Clients");
    }

    @Test
    void noNormalisationIsApplied() {
        // [MQTT-4.7.3-4] matching is by exact characters: case, spaces and dots all count
        add("ACCOUNTS");
        add("a.b/c d");
        assertThat(match("Accounts")).isEmpty();
        assertThat(match("ACCOUNTS")).containsExactly("ACCOUNTS");
        assertThat(match("a.b/c d")).containsExactly("a.b/c d");
        assertThat(match("a/b/c d")).isEmpty();
    }

    @Test
    void overlappingFiltersEachMatchOnce() {
        add("a/b");
        add("a/+");
        add("a/#");
        add("+/b");
        add("#");
        assertThat(match("a/b")).containsExactlyInAnyOrder("a/b", "a/+", "a/#", "+/b", "#");
    }

    @Test
    void removePrunesAndKeepsOthers() {
        add("a/b/c");
        add("a/+/c");
        assertThat(tree.remove(TopicFilter.of("a/b/c"), "a/b/c")).isTrue();
        assertThat(tree.remove(TopicFilter.of("a/b/c"), "a/b/c")).isFalse();
        assertThat(match("a/b/c")).containsExactly("a/+/c");
        assertThat(tree.size()).isEqualTo(1);
    }

    @Test
    void scalesToOneHundredThousandSubscriptions() {
        for (int i = 0; i < 100_000; i++) {
            tree.add(TopicFilter.of("devices/" + i + "/telemetry"), "d" + i);
        }
        tree.add(TopicFilter.of("devices/+/telemetry"), "all-telemetry");
        tree.add(TopicFilter.of("devices/#"), "everything");
        assertThat(tree.size()).isEqualTo(100_002);
        assertThat(match("devices/4242/telemetry")).containsExactlyInAnyOrder("d4242", "all-telemetry", "everything");
        assertThat(match("devices/99999/telemetry")).containsExactlyInAnyOrder("d99999", "all-telemetry", "everything");
        assertThat(match("devices/100000/telemetry")).containsExactlyInAnyOrder("all-telemetry", "everything");
        for (int i = 0; i < 100_000; i++) {
            tree.remove(TopicFilter.of("devices/" + i + "/telemetry"), "d" + i);
        }
        assertThat(tree.size()).isEqualTo(2);
    }
}
