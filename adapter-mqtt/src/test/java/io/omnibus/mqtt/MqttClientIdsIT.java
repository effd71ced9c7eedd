package io.omnibus.mqtt;

import io.omnibus.core.config.StaticUsers;
import io.omnibus.core.harness.TestGateway;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** The acl's client-ids bind MQTT client ids (and so sessions) to users. */
class MqttClientIdsIT {
    private TestGateway gw;

    @AfterEach
    void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    private MqttClient connect(String id, String user, String password) throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + gw.port("mqtt"), id, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName(user);
        o.setPassword(password.toCharArray());
        c.connect(o);
        return c;
    }

    @Test
    void aUserConnectsOnlyUnderTheClientIdsTheRulesGiveHer() throws Exception {
        gw = TestGateway.builder().users(List.of(
                        Map.of("username", "alice", "password-hash", StaticUsers.hash("a", 1000)),
                        Map.of("username", "bob", "password-hash", StaticUsers.hash("b", 1000))))
                .acl(List.of(Map.of("users", "alice", "client-ids", "%u-*", "publish", "alice/#"),
                        Map.of("users", "bob", "publish", "bob/#")))
                .adapter(new MqttAdapterFactory(), Map.of()).start();
        MqttClient ok = connect("alice-phone", "alice", "a");
        assertThat(ok.isConnected()).isTrue();
        ok.disconnect();
        ok.close();
        Throwable refused = catchThrowable(() -> connect("bob-phone", "alice", "a"));
        assertThat(refused).isInstanceOf(MqttException.class);
        assertThat(((MqttException) refused).getReasonCode()).isEqualTo(MqttException.REASON_CODE_NOT_AUTHORIZED);
        MqttClient bob = connect("anything", "bob", "b"); // no client-ids for bob: any id
        assertThat(bob.isConnected()).isTrue();
        bob.disconnect();
        bob.close();
    }
}
