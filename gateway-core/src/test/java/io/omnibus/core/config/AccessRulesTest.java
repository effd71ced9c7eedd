package io.omnibus.core.config;

import io.omnibus.core.spi.Authorizer;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.TopicFilter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.omnibus.core.spi.Authorizer.Action.ADMIN_OPERATE;
import static io.omnibus.core.spi.Authorizer.Action.ADMIN_READ;
import static io.omnibus.core.spi.Authorizer.Action.CONSUMER_GROUP;
import static io.omnibus.core.spi.Authorizer.Action.PUBLISH;
import static io.omnibus.core.spi.Authorizer.Action.SUBSCRIBE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AccessRulesTest {
    private static Authorizer rules(List<Object> acl, List<Object> users) {
        ConfigSection root = new ConfigSection("", Map.of("acl", acl, "users", users));
        return AccessRules.read(root, StaticUsers.read(root.sections("users"), false));
    }

    private static final List<Object> USERS = List.of(
            Map.of("username", "alice", "password-hash", StaticUsers.hash("a", 1000), "groups", List.of("devices")),
            Map.of("username", "bob", "password-hash", StaticUsers.hash("b", 1000)));

    @Test
    void noAclAllowsEverything() {
        ConfigSection root = new ConfigSection("", Map.of());
        Authorizer a = AccessRules.read(root, StaticUsers.read(List.of(), true));
        assertThat(a.enforced()).isFalse();
        assertThat(a.allows(null, null, PUBLISH, "x")).isTrue();
    }

    @Test
    void rulesAllowOnlyWhatTheyNameToWhomTheyName() {
        Authorizer a = rules(List.of(
                Map.of("users", List.of("alice"), "publish", List.of("alice/#"), "subscribe", "alice/#"),
                Map.of("users", "bob", "subscribe", List.of("alice/+/temp"), "admin", "read"),
                Map.of("groups", "devices", "publish", "devices/%u/#", "consumer-groups", "%u-*")), USERS);
        assertThat(a.enforced()).isTrue();
        assertThat(a.allows("alice", "c1", PUBLISH, "alice/x/y")).isTrue();
        assertThat(a.allows("alice", "c1", PUBLISH, "alice")).isTrue(); // '#' covers the parent level too
        assertThat(a.allows("alice", "c1", PUBLISH, "bob/x")).isFalse();
        assertThat(a.allows("alice", "c1", PUBLISH, "devices/alice/t")).isTrue(); // by her group, %u filled in
        assertThat(a.allows("bob", "c2", PUBLISH, "devices/bob/t")).isFalse(); // bob is not in devices
        assertThat(a.allows("bob", "c2", SUBSCRIBE, "alice/kitchen/temp")).isTrue();
        assertThat(a.allows("bob", "c2", SUBSCRIBE, "alice/+/temp")).isTrue();
        assertThat(a.allows("bob", "c2", SUBSCRIBE, "alice/#")).isFalse(); // wider than his rule
        assertThat(a.allows("bob", "c2", SUBSCRIBE, "alice/kitchen/+")).isFalse();
        assertThat(a.allows("bob", "c2", SUBSCRIBE, "#")).isFalse();
        assertThat(a.allows(null, "c3", SUBSCRIBE, "alice/kitchen/temp")).isFalse(); // anonymous: no rule names it
        assertThat(a.allows("alice", "c1", CONSUMER_GROUP, "alice-readers")).isTrue();
        assertThat(a.allows("alice", "c1", CONSUMER_GROUP, "bob-readers")).isFalse();
        assertThat(a.allows("bob", null, ADMIN_READ, null)).isTrue();
        assertThat(a.allows("bob", null, ADMIN_OPERATE, null)).isFalse();
        assertThat(a.allows("alice", null, ADMIN_READ, null)).isFalse();
    }

    @Test
    void aRuleNamingNobodyAppliesToEverybodyAndPatternsNeedSafeValues() {
        Authorizer a = rules(List.of(Map.of("publish", List.of("clients/%c/#", "users/%u/#"))), USERS);
        assertThat(a.allows(null, "dev-1", PUBLISH, "clients/dev-1/x")).isTrue();
        assertThat(a.allows(null, "dev-1", PUBLISH, "clients/dev-2/x")).isFalse();
        assertThat(a.allows(null, "dev-1", PUBLISH, "users/null/x")).isFalse(); // no user: the %u rule does not apply
        // a client id holding a wildcard or a separator would widen the rule: it does not apply
        assertThat(a.allows(null, "#", PUBLISH, "clients/x/y")).isFalse();
        assertThat(a.allows(null, "a/b", PUBLISH, "clients/a/b/c")).isFalse();
        assertThat(a.allows("bob", "+", PUBLISH, "clients/z/t")).isFalse();
        // substitution is one pass: a user named "%c" does not take the client id's place
        Authorizer b = rules(List.of(Map.of("publish", "users/%u/#")), USERS);
        assertThat(b.allows("%c", "x", PUBLISH, "users/x/t")).isFalse();
    }

    @Test
    void clientIdsAreFreeUnlessARuleForTheUserListsThem() {
        Authorizer a = rules(List.of(Map.of("users", "alice", "client-ids", List.of("%u-*", "sensor-7")),
                Map.of("users", "bob", "publish", "bob/#")), USERS);
        assertThat(a.allows("alice", "alice-phone", Authorizer.Action.CLIENT_ID, "alice-phone")).isTrue();
        assertThat(a.allows("alice", "sensor-7", Authorizer.Action.CLIENT_ID, "sensor-7")).isTrue();
        assertThat(a.allows("alice", "bob-phone", Authorizer.Action.CLIENT_ID, "bob-phone")).isFalse();
        assertThat(a.allows("bob", "anything", Authorizer.Action.CLIENT_ID, "anything")).isTrue();
    }

    @Test
    void wildcardRulesDoNotCoverDollarAddressesAndBadResourcesAreRefused() {
        Authorizer a = rules(List.of(Map.of("publish", "#", "subscribe", List.of("#", "$dlq/#"))), USERS);
        assertThat(a.allows("alice", null, PUBLISH, "$sys/x")).isFalse();
        assertThat(a.allows("alice", null, SUBSCRIBE, "$dlq/orders")).isTrue();
        assertThat(a.allows("alice", null, PUBLISH, "a/#/b")).isFalse(); // not a valid name
    }

    @Test
    void badRulesNameTheirKey() {
        assertThatThrownBy(() -> rules(List.of(Map.of("publish", "a/#/b")), USERS)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("acl[0].publish");
        assertThatThrownBy(() -> rules(List.of(Map.of("admin", "all")), USERS)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("acl[0].admin");
        assertThatThrownBy(() -> rules(List.of(Map.of("subscribes", "x")), USERS)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("acl[0].subscribes");
    }

    @Test
    void coversComparesFiltersLevelByLevel() {
        assertThat(TopicFilter.of("a/#").covers(TopicFilter.of("a/+/b"))).isTrue();
        assertThat(TopicFilter.of("a/+").covers(TopicFilter.of("a/b"))).isTrue();
        assertThat(TopicFilter.of("a/+").covers(TopicFilter.of("a/+"))).isTrue();
        assertThat(TopicFilter.of("a/+").covers(TopicFilter.of("a/#"))).isFalse();
        assertThat(TopicFilter.of("a/b").covers(TopicFilter.of("a/+"))).isFalse();
        assertThat(TopicFilter.of("a/+/c").covers(TopicFilter.of("a/b"))).isFalse();
        assertThat(TopicFilter.of("#").covers(TopicFilter.of("$share"))).isFalse();
        assertThat(TopicFilter.of("$dlq/#").covers(TopicFilter.of("$dlq/x"))).isTrue();
    }
}
