package io.omnibus.core.config;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StaticUsersTest {
    private static StaticUsers users(boolean allowAnonymous, Object... entries) {
        return StaticUsers.read(new ConfigSection("", Map.of("users", List.of(entries))).sections("users"), allowAnonymous);
    }

    @Test
    void passwordsAreCheckedAndGroupsRead() {
        StaticUsers u = users(false, Map.of("username", "alice", "password-hash", StaticUsers.hash("pw", 1000),
                "groups", List.of("ops", "devices")));
        assertThat(u.authenticate("alice", "pw".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(u.authenticate("alice", "pw".getBytes(StandardCharsets.UTF_8))).isTrue(); // remembered
        assertThat(u.authenticate("alice", "PW".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(u.authenticate("mallory", "pw".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(u.authenticate("alice", null)).isFalse();
        assertThat(u.groupsOf("alice")).containsExactlyInAnyOrder("ops", "devices");
        assertThat(u.groupsOf("nobody")).isEmpty();
        assertThat(u.allowsAnonymous()).isFalse();
        assertThat(u.loopbackOnly()).isFalse();
    }

    @Test
    void newHashesFollowCurrentAdvice() {
        assertThat(StaticUsers.hash("x")).startsWith("pbkdf2-sha256$600000$");
    }

    @Test
    void noUsersMeansAnybodyFromLoopbackUnlessAnonymousAccessIsSwitchedOn() {
        StaticUsers none = users(false);
        assertThat(none.allowsAnonymous()).isTrue();
        assertThat(none.loopbackOnly()).isTrue();
        assertThat(users(true).loopbackOnly()).isFalse();
        StaticUsers withAnonymous = users(true, Map.of("username", "a", "password-hash", StaticUsers.hash("p", 1000)));
        assertThat(withAnonymous.allowsAnonymous()).isTrue();
        assertThat(withAnonymous.loopbackOnly()).isFalse();
    }

    @Test
    void repeatedFailuresFromOneAddressWaitLongerUntilASuccess() throws Exception {
        StaticUsers u = users(false, Map.of("username", "a", "password-hash", StaticUsers.hash("p", 1000)));
        java.net.InetAddress from = java.net.InetAddress.getByName("192.0.2.7");
        java.net.InetAddress other = java.net.InetAddress.getByName("192.0.2.8");
        assertThat(u.loginFailed(from, "mqtt")).isZero(); // a typo costs nothing
        assertThat(u.loginFailed(from, "mqtt")).isEqualTo(100);
        assertThat(u.loginFailed(from, "mqtt")).isEqualTo(200);
        assertThat(u.loginFailed(other, "mqtt")).isZero(); // per address
        for (int i = 0; i < 20; i++) {
            u.loginFailed(from, "mqtt");
        }
        assertThat(u.loginFailed(from, "mqtt")).isEqualTo(StaticUsers.MAX_FAILURE_DELAY);
        u.loginSucceeded(from);
        assertThat(u.loginFailed(from, "mqtt")).isZero();
    }

    @Test
    void aUserListedTwiceIsAnError() {
        String h = StaticUsers.hash("p", 1000);
        assertThatThrownBy(() -> users(false, Map.of("username", "a", "password-hash", h),
                Map.of("username", "a", "password-hash", h))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("users[1].username");
    }
}
