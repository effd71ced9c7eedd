package io.omnibus.kafka;

import io.omnibus.core.config.StaticUsers;
import io.omnibus.core.harness.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What a stranger can make a Kafka listener do: little, and not for long. */
class KafkaLimitsIT {
    private TestGateway gw;

    @AfterEach
    void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    private TestGateway start(Map<String, Object> kafka) {
        gw = TestGateway.builder().users(List.of(Map.of("username", "app", "password-hash", StaticUsers.hash("pw", 1000))))
                .adapter(new KafkaAdapterFactory(), kafka).start();
        return gw;
    }

    /** Reads until the server closes the socket; fails (by timeout) if it never does. */
    private static void awaitClosed(Socket s) throws Exception {
        s.setSoTimeout(20_000);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[1024];
        while (in.read(buf) >= 0) {
            // whatever it answered first
        }
    }

    @Test
    void beforeAuthenticationALargeRequestClosesTheConnectionBeforeItsBodyIsRead() throws Exception {
        start(Map.of("max-request-size-unauthenticated", "4KiB"));
        try (Socket s = new Socket("127.0.0.1", gw.port("kafka"))) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(1024 * 1024); // announces 1 MiB, sends nothing more: the gateway must not wait for it
            out.flush();
            awaitClosed(s);
        }
        assertThat(gw.meters.get("omnibus.kafka.connections.refused").tag("reason", "too-large").counter().count())
                .isEqualTo(1.0);
    }

    @Test
    void aConnectionThatNeverAuthenticatesIsClosedAtTheDeadline() throws Exception {
        start(Map.of("authentication-timeout", "500ms", "idle-timeout", "0"));
        try (Socket s = new Socket("127.0.0.1", gw.port("kafka"))) {
            awaitClosed(s);
        }
    }

    @Test
    void saslPlainIsNotOfferedInClearTextToAnotherMachine() throws Exception {
        java.net.InetAddress external = null;
        for (java.net.NetworkInterface nif : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            for (java.net.InetAddress a : java.util.Collections.list(nif.getInetAddresses())) {
                if (nif.isUp() && !a.isLoopbackAddress() && a instanceof java.net.Inet4Address) {
                    external = a;
                }
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(external != null, "no non-loopback IPv4 address here");
        start(Map.of("host", "0.0.0.0"));
        Map<String, Object> plain = new java.util.HashMap<>(Map.of("bootstrap.servers", external.getHostAddress() + ":"
                + gw.port("kafka"), "security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN", "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"app\" password=\"pw\";",
                "max.block.ms", 10_000));
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(plain)) {
            Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> admin.listTopics().names()
                    .get(20, java.util.concurrent.TimeUnit.SECONDS));
            assertThat(t).hasCauseInstanceOf(org.apache.kafka.common.errors.UnsupportedSaslMechanismException.class);
        }
    }

    @Test
    void anIdleConnectionIsClosed() throws Exception {
        gw = TestGateway.builder().adapter(new KafkaAdapterFactory(), Map.of("idle-timeout", "500ms")).start();
        try (Socket s = new Socket("127.0.0.1", gw.port("kafka"))) {
            awaitClosed(s);
        }
    }
}
