package io.omnibus.mqtt;

import com.hivemq.client.mqtt.datatypes.MqttUtf8String;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig;
import com.hivemq.client.mqtt.mqtt5.auth.Mqtt5EnhancedAuthMechanism;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5Auth;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5AuthBuilder;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5EnhancedAuthBuilder;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5Connect;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.disconnect.Mqtt5Disconnect;
import io.omnibus.core.spi.Scram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** MQTT 5 enhanced authentication with SCRAM, driven by the HiveMQ MQTT client's enhanced-auth API. */
class MqttEnhancedAuthIT {
    private io.omnibus.core.harness.TestGateway gw;

    @AfterEach
    void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    /**
     * The client side of SCRAM (RFC 5802) as an MQTT 5 authentication method; it checks the server's signature in
     * the CONNACK, so a server that does not know the verifier is caught too.
     */
    static final class ScramClient implements Mqtt5EnhancedAuthMechanism {
        final String mechanism;
        final String user;
        final String password;
        final String clientNonce;
        String clientFirstBare;
        byte[] expectedServerSignature;
        final AtomicReference<Boolean> serverVerified = new AtomicReference<>();

        ScramClient(String mechanism, String user, String password) {
            this.mechanism = mechanism;
            this.user = user;
            this.password = password;
            byte[] r = new byte[18];
            new SecureRandom().nextBytes(r);
            this.clientNonce = Base64.getEncoder().encodeToString(r);
        }

        // RFC 5802 from the JDK's own primitives, not the gateway's: the client does not share the server's mistakes
        private String algorithm() {
            return mechanism.equals("SCRAM-SHA-512") ? "SHA512" : "SHA256";
        }

        private byte[] pbkdf2(String secret, byte[] salt, int iterations) {
            try {
                return javax.crypto.SecretKeyFactory.getInstance("PBKDF2WithHmac" + algorithm()).generateSecret(
                        new javax.crypto.spec.PBEKeySpec(secret.toCharArray(), salt, iterations,
                                algorithm().equals("SHA512") ? 512 : 256)).getEncoded();
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        private byte[] hmac(byte[] key, byte[] data) {
            try {
                javax.crypto.Mac mac = javax.crypto.Mac.getInstance("Hmac" + algorithm());
                mac.init(new javax.crypto.spec.SecretKeySpec(key, "Hmac" + algorithm()));
                return mac.doFinal(data);
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        private byte[] digest(byte[] data) {
            try {
                return java.security.MessageDigest.getInstance(algorithm().equals("SHA512") ? "SHA-512" : "SHA-256")
                        .digest(data);
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public MqttUtf8String getMethod() {
            return MqttUtf8String.of(mechanism);
        }

        @Override
        public int getTimeout() {
            return 30;
        }

        @Override
        public CompletableFuture<Void> onAuth(Mqtt5ClientConfig config, Mqtt5Connect connect, Mqtt5EnhancedAuthBuilder auth) {
            clientFirstBare = "n=" + user + ",r=" + clientNonce;
            auth.data(("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8));
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> onContinue(Mqtt5ClientConfig config, Mqtt5Auth auth, Mqtt5AuthBuilder authBuilder) {
            String serverFirst = StandardCharsets.UTF_8.decode(auth.getData().orElseThrow()).toString();
            String nonce = serverFirst.split(",")[0].substring(2);
            byte[] salt = Base64.getDecoder().decode(serverFirst.split(",")[1].substring(2));
            int iterations = Integer.parseInt(serverFirst.split(",")[2].substring(2));
            byte[] salted = pbkdf2(password, salt, iterations);
            byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
            String withoutProof = "c=biws,r=" + nonce;
            byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
            byte[] signature = hmac(digest(clientKey), authMessage);
            byte[] proof = new byte[clientKey.length];
            for (int i = 0; i < proof.length; i++) {
                proof[i] = (byte) (clientKey[i] ^ signature[i]);
            }
            expectedServerSignature = hmac(hmac(salted, "Server Key".getBytes(StandardCharsets.US_ASCII)), authMessage);
            authBuilder.data((withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(StandardCharsets.UTF_8));
            return CompletableFuture.completedFuture(true);
        }

        @Override
        public CompletableFuture<Boolean> onAuthSuccess(Mqtt5ClientConfig config, Mqtt5ConnAck connAck) {
            String serverFinal = StandardCharsets.UTF_8.decode(connAck.getEnhancedAuth().orElseThrow().getData().orElseThrow())
                    .toString();
            boolean ok = serverFinal.equals("v=" + Base64.getEncoder().encodeToString(expectedServerSignature));
            serverVerified.set(ok);
            return CompletableFuture.completedFuture(ok);
        }

        @Override
        public void onAuthRejected(Mqtt5ClientConfig config, Mqtt5ConnAck connAck) {
        }

        @Override
        public void onAuthError(Mqtt5ClientConfig config, Throwable cause) {
        }

        /** This test's client never re-authenticates (the gateway does not offer it); the API requires an answer. */
        @Override
        public CompletableFuture<Void> onReAuth(Mqtt5ClientConfig config, Mqtt5AuthBuilder auth) {
            return CompletableFuture.failedFuture(new IllegalStateException("re-authentication is not used here"));
        }

        @Override
        public CompletableFuture<Boolean> onServerReAuth(Mqtt5ClientConfig config, Mqtt5Auth auth, Mqtt5AuthBuilder authBuilder) {
            return CompletableFuture.completedFuture(false);
        }

        @Override
        public CompletableFuture<Boolean> onReAuthSuccess(Mqtt5ClientConfig config, Mqtt5Auth auth) {
            return CompletableFuture.completedFuture(false);
        }

        @Override
        public void onReAuthRejected(Mqtt5ClientConfig config, Mqtt5Disconnect disconnect) {
        }

        @Override
        public void onReAuthError(Mqtt5ClientConfig config, Throwable cause) {
        }
    }

    private Mqtt5BlockingClient client(String id, ScramClient auth) {
        return Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1").serverPort(gw.port("mqtt"))
                .enhancedAuth(auth).buildBlocking();
    }

    private void start() {
        start(Map.of());
    }

    private void start(Map<String, Object> mqtt) {
        gw = io.omnibus.core.harness.TestGateway.builder()
                .users(List.of(Map.of("username", "alice", "password-hash", List.of(
                        Scram.hash("SCRAM-SHA-256", "pencil", 4096), Scram.hash("SCRAM-SHA-512", "pencil", 4096)))))
                .acl(List.of(Map.of("users", "alice", "publish", "alice/#", "subscribe", "alice/#")))
                .adapter(new MqttAdapterFactory(), mqtt).start();
    }

    @Test
    void scramLogsInAndTheServerProvesItKnowsTheVerifier() {
        start();
        for (String mechanism : Scram.MECHANISMS) {
            ScramClient scram = new ScramClient(mechanism, "alice", "pencil");
            Mqtt5BlockingClient c = client("alice-" + mechanism, scram);
            Mqtt5ConnAck ack = c.connect();
            assertThat(ack.getReasonCode()).isEqualTo(Mqtt5ConnAckReasonCode.SUCCESS);
            assertThat(scram.serverVerified.get()).isTrue();
            // the session is alice's: the rules apply to her
            c.publishWith().topic("alice/t").qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE)
                    .payload(ByteBuffer.wrap("x".getBytes())).send();
            Throwable refused = catchThrowable(() -> c.publishWith().topic("bob/t")
                    .qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE).payload(ByteBuffer.wrap("x".getBytes())).send());
            assertThat(refused).isInstanceOf(com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException.class);
            c.disconnect();
        }
    }

    @Test
    void aWrongPasswordAnUnknownUserAndAnUnknownMethodAreRefused() {
        start();
        Throwable wrong = catchThrowable(() -> client("w", new ScramClient("SCRAM-SHA-256", "alice", "not-pencil")).connect());
        assertThat(wrong).isInstanceOf(Mqtt5ConnAckException.class);
        assertThat(((Mqtt5ConnAckException) wrong).getMqttMessage().getReasonCode())
                .isEqualTo(Mqtt5ConnAckReasonCode.BAD_USER_NAME_OR_PASSWORD);
        Throwable unknown = catchThrowable(() -> client("u", new ScramClient("SCRAM-SHA-512", "mallory", "pencil")).connect());
        assertThat(((Mqtt5ConnAckException) unknown).getMqttMessage().getReasonCode())
                .isEqualTo(Mqtt5ConnAckReasonCode.BAD_USER_NAME_OR_PASSWORD);
        Throwable method = catchThrowable(() -> client("m", new ScramClient("SCRAM-SHA-1", "alice", "pencil")).connect());
        assertThat(((Mqtt5ConnAckException) method).getMqttMessage().getReasonCode())
                .isEqualTo(Mqtt5ConnAckReasonCode.BAD_AUTHENTICATION_METHOD);
    }

    /**
     * The authentication timeout: a socket that sends no CONNECT, and an enhanced authentication left unanswered after
     * the server's AUTH, are closed once it passes (checked by the event loop's sweep, not a timer per connection); a
     * client that got in is not, however long after.
     */
    @Test
    void aClientThatDoesNotFinishLoggingInWithinTheAuthenticationTimeoutIsClosed() throws Exception {
        start(Map.of("authentication-timeout", "1s"));
        int port = gw.port("mqtt");
        long opened = System.nanoTime();
        try (RawMqtt silent = new RawMqtt(port)) {
            // counted from its accept (omnibus_connections), not listed before its CONNECT is accepted; polled at
            // once and often: the timeout closes it a second after its accept
            org.awaitility.Awaitility.await().pollDelay(java.time.Duration.ZERO)
                    .pollInterval(java.time.Duration.ofMillis(10))
                    .until(() -> gw.connections.counts().getOrDefault("mqtt", 0) == 1);
            assertThat(gw.connections.connections()).isEmpty();
            assertThat(silent.readUntilClosed()).isEmpty(); // within RawMqtt's 5 s read timeout, else it fails
        }
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - opened)).as("not before the timeout")
                .isGreaterThanOrEqualTo(java.time.Duration.ofSeconds(1));
        try (RawMqtt halfway = new RawMqtt(port)) {
            io.netty.handler.codec.mqtt.MqttProperties props = new io.netty.handler.codec.mqtt.MqttProperties();
            props.add(new io.netty.handler.codec.mqtt.MqttProperties.StringProperty(
                    io.netty.handler.codec.mqtt.MqttProperties.AUTHENTICATION_METHOD, "SCRAM-SHA-256"));
            props.add(new io.netty.handler.codec.mqtt.MqttProperties.BinaryProperty(
                    io.netty.handler.codec.mqtt.MqttProperties.AUTHENTICATION_DATA,
                    "n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL".getBytes(StandardCharsets.UTF_8)));
            halfway.send(RawMqtt.connect5("halfway", props));
            List<io.netty.handler.codec.mqtt.MqttMessage> got = halfway.readUntilClosed();
            assertThat(got).hasSize(1); // the server's first AUTH (continue), then the close, no CONNACK
            assertThat(got.get(0).fixedHeader().messageType()).isEqualTo(io.netty.handler.codec.mqtt.MqttMessageType.AUTH);
        }
        // both closed sockets are counted no more
        org.awaitility.Awaitility.await().until(() -> gw.connections.counts().getOrDefault("mqtt", 0) == 0);
        Mqtt5BlockingClient in = client("in-time", new ScramClient("SCRAM-SHA-256", "alice", "pencil"));
        assertThat(in.connect().getReasonCode()).isEqualTo(Mqtt5ConnAckReasonCode.SUCCESS);
        MqttServer mqtt = (MqttServer) gw.adapter("mqtt");
        long rounds = mqtt.keepAliveRounds();
        org.awaitility.Awaitility.await().until(() -> mqtt.keepAliveRounds() > rounds + 4); // sweeps over 2 s: past 1 s
        in.publishWith().topic("alice/t").qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE)
                .payload(ByteBuffer.wrap("x".getBytes())).send(); // PUBACKed: the connection is still open
        assertThat(in.getState().isConnected()).isTrue();
        in.disconnect();
    }
}
