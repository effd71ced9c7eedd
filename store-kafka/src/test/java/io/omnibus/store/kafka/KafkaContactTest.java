package io.omnibus.store.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The active node's own check of its cluster, against an address where no broker answers (a cut, as the node sees it). */
class KafkaContactTest {
    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aNodeNoBrokerAnswersStopsOnceOtherNodesWaitAndNotWhileItIsAlone() throws Exception {
        AtomicInteger others = new AtomicInteger();
        AtomicInteger stops = new AtomicInteger();
        Duration session = Duration.ofMillis(600);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + closedPort(),
                AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "50"));
             KafkaContact contact = new KafkaContact(admin, session, others::get, stops::incrementAndGet)) {
            contact.start();
            // alone in the nodes' group: it waits for the cluster however long it is silent
            await().atMost(Duration.ofSeconds(30)).until(() -> contact.silentMillis() > 3 * session.toMillis());
            assertThat(stops).as("stopped while no other node could serve").hasValue(0);
            others.set(1); // a standby joined (as the last look at the group showed)
            await().atMost(Duration.ofSeconds(30)).until(() -> stops.get() > 0);
            await().atMost(Duration.ofSeconds(30)).until(() -> contact.silentMillis() > 3 * session.toMillis());
            assertThat(stops).as("told once").hasValue(1);
        }
    }

    @Test
    void aBrokersRefusalIsAnAnswerATimeoutIsNot() {
        assertThat(KafkaContact.answered(null)).isTrue();
        assertThat(KafkaContact.answered(new org.apache.kafka.common.errors.ClusterAuthorizationException("no")))
                .as("the broker answered, if only to refuse").isTrue();
        assertThat(KafkaContact.answered(new org.apache.kafka.common.errors.TimeoutException("waited"))).isFalse();
        assertThat(KafkaContact.answered(new java.util.concurrent.ExecutionException(
                new org.apache.kafka.common.errors.DisconnectException("gone")))).isFalse();
    }
}
