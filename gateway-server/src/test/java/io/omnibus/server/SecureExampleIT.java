package io.omnibus.server;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.remoting.netty.TlsSystemConfig;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jakarta.jms.Connection;
import jakarta.jms.JMSSecurityException;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * config/examples/secure.yaml as it ships (ports made ephemeral, file paths made absolute), with clients we did
 * not write over TLS on every protocol: what alice, bob and admin may do works, and every refusal reaches the
 * client as its own protocol's error.
 */
class SecureExampleIT {
    static final Path TLS = GatewayProcess.ROOT.resolve("config/examples/tls");
    static final String PASSWORD = "changeit";

    static Gateway gateway;
    static final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("OMNIBUS_ADMIN_HOST", "127.0.0.1");
        env.put("OMNIBUS_ADMIN_TLS_PORT", "0");
        for (String section : List.of("ADMIN", "MQTT", "MQTT_WEBSOCKET", "AMQP", "KAFKA", "OPENMESSAGING")) {
            env.put("OMNIBUS_" + section + "_TLS_CERT", TLS.resolve("server.pem").toString());
            env.put("OMNIBUS_" + section + "_TLS_KEY", TLS.resolve("server-key.pem").toString());
            if (!section.equals("ADMIN") && !section.equals("MQTT_WEBSOCKET")) {
                env.put("OMNIBUS_" + section + "_TLS_CA", TLS.resolve("ca.pem").toString());
                env.put("OMNIBUS_" + section + "_HOST", "127.0.0.1");
            }
            env.put("OMNIBUS_" + section + "_TLS_PORT", "0");
        }
        var factories = Adapters.discover(SecureExampleIT.class.getClassLoader());
        GatewayConfig config = new ConfigLoader(env, factories).load(GatewayProcess.ROOT.resolve("config/examples/secure.yaml"),
                dir.resolve("data"));
        gateway = Gateway.start(config, factories).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        ShippedGateway.stop(gateway, clients);
    }

    // ---- MQTT ----------------------------------------------------------------------------------------------------

    @Test
    void mqttUsersGetWhatTheRulesAllowAndTheirOwnReasonCodesForTheRest() throws Exception {
        MqttClient bob = mqtt("bob-1", "bob", "bob-secret");
        BlockingQueue<String> bobGot = new LinkedBlockingQueue<>();
        IMqttToken everything = bob.subscribe(new MqttSubscription[]{new MqttSubscription("#", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[]{(t, m) -> bobGot.add(t)});
        assertThat(everything.getReasonCodes()).containsExactly(0x87); // Not authorized
        IMqttToken alices = bob.subscribe(new MqttSubscription[]{new MqttSubscription("alice/#", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[]{(t, m) -> bobGot.add(t + "=" + m)});
        assertThat(alices.getReasonCodes()).containsExactly(1);

        MqttClient alice = mqtt("alice-1", "alice", "alice-secret");
        alice.publish("alice/temp", message("21"));
        await().atMost(Duration.ofSeconds(10)).until(() -> bobGot.contains("alice/temp=21"));

        // bob may not publish to alice/...: PUBACK 0x87, and the message goes nowhere
        org.eclipse.paho.mqttv5.client.MqttAsyncClient bobAsync = new org.eclipse.paho.mqttv5.client.MqttAsyncClient(
                "ssl://localhost:" + gateway.port("mqtt", "tls-port"), "bob-2", new MemoryPersistence());
        bobAsync.connect(options("bob", "bob-secret")).waitForCompletion(20_000);
        clients.add(() -> {
            bobAsync.disconnectForcibly(1000);
            bobAsync.close();
        });
        IMqttToken forged = bobAsync.publish("alice/temp", message("forged"));
        forged.waitForCompletion(20_000);
        assertThat(forged.getReasonCodes()).containsExactly(0x87);
        alice.publish("alice/temp", message("22"));
        await().atMost(Duration.ofSeconds(10)).until(() -> bobGot.contains("alice/temp=22"));
        assertThat(bobGot).doesNotContain("alice/temp=forged");
        assertThat(bob.isConnected()).isTrue();
    }

    @Test
    void anotherUserCannotTakeOverASession() throws Exception {
        MqttClient alice = mqtt("alice-phone", "alice", "alice-secret");
        Throwable refused = catchThrowable(() -> mqtt("alice-phone", "bob", "bob-secret"));
        assertThat(refused).isInstanceOf(MqttException.class);
        assertThat(((MqttException) refused).getReasonCode()).isEqualTo(0x87);
        assertThat(alice.isConnected()).isTrue();
    }

    @Test
    void mqtt311GetsSubackFailureForAFilterItMayNotRead() throws Exception {
        org.eclipse.paho.client.mqttv3.MqttClient c = new org.eclipse.paho.client.mqttv3.MqttClient(
                "ssl://localhost:" + gateway.port("mqtt", "tls-port"), "bob-v3",
                new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
        org.eclipse.paho.client.mqttv3.MqttConnectOptions o = new org.eclipse.paho.client.mqttv3.MqttConnectOptions();
        o.setUserName("bob");
        o.setPassword("bob-secret".toCharArray());
        o.setSocketFactory(ssl(false).getSocketFactory());
        c.connect(o);
        clients.add(c::disconnectForcibly);
        org.eclipse.paho.client.mqttv3.IMqttToken t = c.subscribeWithResponse(new String[]{"bob/#", "alice/#"}, new int[]{1, 1});
        assertThat(t.getGrantedQos()).containsExactly(0x80, 1); // bob/#: may publish there, not read
    }

    @Test
    void mosquittoClientsWithAliceCertificateAreAlice() throws Exception {
        int port = gateway.port("mqtt", "tls-port");
        MqttClient bob = mqtt("bob-watch", "bob", "bob-secret");
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        bob.subscribe(new MqttSubscription[]{new MqttSubscription("alice/#", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[]{(t, m) -> got.add(t + "=" + m)});
        // no username: the certificate's CN (alice) is the user
        Process pub = new ProcessBuilder("mosquitto_pub", "-h", "localhost", "-p", String.valueOf(port),
                "--cafile", TLS.resolve("ca.pem").toString(), "--cert", TLS.resolve("alice.pem").toString(),
                "--key", TLS.resolve("alice-key.pem").toString(), "-q", "1", "-t", "alice/cert", "-m", "from-cert")
                .redirectErrorStream(true).start();
        assertThat(pub.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(pub.exitValue()).as(new String(pub.getInputStream().readAllBytes())).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> got.contains("alice/cert=from-cert"));

        // mosquitto_sub as alice by her certificate: a retained message of hers comes to it
        MqttClient alice = mqtt("alice-retainer", "alice", "alice-secret");
        MqttMessage retained = message("kept");
        retained.setRetained(true);
        alice.publish("alice/retained", retained);
        Process sub = new ProcessBuilder("mosquitto_sub", "-h", "localhost", "-p", String.valueOf(port),
                "--cafile", TLS.resolve("ca.pem").toString(), "--cert", TLS.resolve("alice.pem").toString(),
                "--key", TLS.resolve("alice-key.pem").toString(), "-t", "alice/retained", "-C", "1", "-W", "20", "-v")
                .redirectErrorStream(true).start();
        assertThat(sub.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("alice/retained kept");

        // without a certificate or a username: refused (CONNACK 5, not authorized)
        Process anonymous = new ProcessBuilder("mosquitto_pub", "-h", "localhost", "-p", String.valueOf(port),
                "--cafile", TLS.resolve("ca.pem").toString(), "-q", "1", "-t", "alice/cert", "-m", "anon")
                .redirectErrorStream(true).start();
        assertThat(anonymous.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(anonymous.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(anonymous.exitValue()).isNotZero();
        assertThat(out).containsIgnoringCase("not authori");
    }

    @Test
    void plainTextOnATlsPortIsClosedAndHarmsNoOne() throws Exception {
        MqttClient alice = mqtt("alice-bystander", "alice", "alice-secret");
        try (Socket s = new Socket("127.0.0.1", gateway.port("mqtt", "tls-port"))) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            // an MQTT 3.1.1 CONNECT in clear text
            out.write(new byte[]{0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x04, 'p', 'l',
                'a', 'i'});
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[512];
            int n;
            do {
                n = in.read(buf); // a TLS alert at most, then the end of the stream
            } while (n > 0);
            assertThat(n).isEqualTo(-1);
        }
        alice.publish("alice/still", message("fine"));
        assertThat(alice.isConnected()).isTrue();
    }

    // ---- AMQP ----------------------------------------------------------------------------------------------------

    @Test
    void qpidJmsOverAmqpsSendsWhereAllowedAndGetsUnauthorizedAccessElsewhere() throws Exception {
        Connection bob = jms("bob", "bob-secret", "&amqp.saslMechanisms=SCRAM-SHA-512");
        Session s = bob.createSession(false, Session.AUTO_ACKNOWLEDGE);
        assertThatThrownBy(() -> s.createProducer(s.createQueue("alice/orders")))
                .isInstanceOf(JMSSecurityException.class).hasMessageContaining("not authorized");
        Session s2 = bob.createSession(false, Session.AUTO_ACKNOWLEDGE);
        assertThatThrownBy(() -> s2.createConsumer(s2.createQueue("bob/inbox")))
                .isInstanceOf(JMSSecurityException.class);
        Session s3 = bob.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer bobReads = s3.createConsumer(s3.createQueue("alice/orders"));

        // alice by her certificate: SASL EXTERNAL
        Connection alice = jms(null, null, "&transport.keyStoreLocation=" + TLS.resolve("alice.p12")
                + "&transport.keyStorePassword=" + PASSWORD + "&transport.keyStoreType=PKCS12&amqp.saslMechanisms=EXTERNAL");
        Session as = alice.createSession(false, Session.AUTO_ACKNOWLEDGE);
        as.createProducer(as.createQueue("alice/orders")).send(as.createTextMessage("order-1"));
        TextMessage got = (TextMessage) bobReads.receive(10_000);
        assertThat(got).isNotNull();
        assertThat(got.getText()).isEqualTo("order-1");

        assertThatThrownBy(() -> jms("bob", "wrong", "")).isInstanceOf(JMSSecurityException.class); // SCRAM-SHA-512
        assertThatThrownBy(() -> jms("bob", "wrong", "&amqp.saslMechanisms=PLAIN")).isInstanceOf(JMSSecurityException.class);
        assertThatThrownBy(() -> jms("mallory", "bob-secret", "&amqp.saslMechanisms=SCRAM-SHA-256"))
                .isInstanceOf(JMSSecurityException.class);
        jms("alice", "alice-secret", "&amqp.saslMechanisms=SCRAM-SHA-256").close();
        jms("alice", "alice-secret", "&amqp.saslMechanisms=PLAIN").close();
    }

    // ---- Kafka ---------------------------------------------------------------------------------------------------

    @Test
    void kafkaClientsOverSaslSslGetKafkasAuthorizationErrors() throws Exception {
        try (KafkaProducer<String, String> alice = new KafkaProducer<>(kafka("alice", "alice-secret"),
                new StringSerializer(), new StringSerializer())) {
            alice.send(new ProducerRecord<>("alice.kafka", "k", "v1")).get(20, TimeUnit.SECONDS);
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> alice.send(new ProducerRecord<>("bob.kafka", "k", "x")).get(20, TimeUnit.SECONDS));
            assertThat(e.getCause()).isInstanceOf(TopicAuthorizationException.class);
        }
        Properties bobProps = kafka("bob", "bob-secret");
        bobProps.put("group.id", "alice-readers"); // alice's group: not bob's
        bobProps.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, String> bob = new KafkaConsumer<>(bobProps, new StringDeserializer(), new StringDeserializer())) {
            bob.subscribe(List.of("alice.kafka"));
            assertThatThrownBy(() -> bob.poll(Duration.ofSeconds(10))).isInstanceOf(GroupAuthorizationException.class);
        }
        bobProps.put("group.id", "bob-readers");
        try (KafkaConsumer<String, String> bob = new KafkaConsumer<>(bobProps, new StringDeserializer(), new StringDeserializer())) {
            bob.subscribe(List.of("alice.kafka"));
            List<String> values = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, String> r : bob.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
                return values.contains("v1");
            });
        }
        try (KafkaConsumer<String, String> bob = new KafkaConsumer<>(bobProps, new StringDeserializer(), new StringDeserializer())) {
            // bob may write bob/... but not read it: nor may he move a group's offsets on it
            org.apache.kafka.common.TopicPartition own = new org.apache.kafka.common.TopicPartition("bob.kafka", 0);
            assertThatThrownBy(() -> bob.commitSync(Map.of(own, new org.apache.kafka.clients.consumer.OffsetAndMetadata(0))))
                    .isInstanceOf(TopicAuthorizationException.class);
        }
        try (Admin bob = Admin.create(kafka("bob", "bob-secret"))) {
            Throwable t = catchThrowable(() -> bob.createTopics(List.of(new NewTopic("bob.made", 1, (short) 1))).all()
                    .get(20, TimeUnit.SECONDS));
            assertThat(t).hasCauseInstanceOf(TopicAuthorizationException.class);
        }
        try (Admin admin = Admin.create(kafka("admin", "admin-secret", "SCRAM-SHA-256"))) {
            admin.createTopics(List.of(new NewTopic("made.by.admin", 1, (short) 1))).all().get(20, TimeUnit.SECONDS);
        }
        for (String mechanism : List.of("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")) {
            try (Admin wrong = Admin.create(kafka("admin", "wrong", mechanism))) {
                assertThat(catchThrowable(() -> wrong.listTopics().names().get(20, TimeUnit.SECONDS)))
                        .as(mechanism).hasCauseInstanceOf(org.apache.kafka.common.errors.SaslAuthenticationException.class);
            }
        }
    }

    @Test
    void kcatWithAliceCertificateConsumesOverSsl() throws Exception {
        Process producer = new ProcessBuilder("kcat", "-P", "-b", "localhost:" + gateway.port("kafka", "tls-port"),
                // PLAIN: the librdkafka 2.0.2 of Debian 12 sends the client nonce twice in its SCRAM client-final
                // message (its own bug: Apache Kafka refuses it as well)
                "-t", "alice.kcat", "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=PLAIN",
                "-X", "sasl.username=alice", "-X", "sasl.password=alice-secret",
                "-X", "ssl.ca.location=" + TLS.resolve("ca.pem")).redirectErrorStream(true).start();
        producer.getOutputStream().write("for-kcat\n".getBytes(StandardCharsets.UTF_8));
        producer.getOutputStream().close();
        assertThat(producer.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(producer.exitValue()).as(new String(producer.getInputStream().readAllBytes())).isZero();
        Process kcat = new ProcessBuilder("kcat", "-C", "-b", "localhost:" + gateway.port("kafka", "tls-port"),
                "-t", "alice.kcat", "-o", "beginning", "-c", "1", "-e", "-X", "security.protocol=SSL",
                "-X", "ssl.ca.location=" + TLS.resolve("ca.pem"), "-X", "ssl.certificate.location=" + TLS.resolve("alice.pem"),
                "-X", "ssl.key.location=" + TLS.resolve("alice-key.pem")).redirectErrorStream(true).start();
        assertThat(kcat.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(kcat.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("for-kcat");
        assertThat(kcat.exitValue()).isZero();
    }

    // ---- RocketMQ ------------------------------------------------------------------------------------------------

    @Test
    void rocketmqClientOverTlsWithAliceCertificate() throws Exception {
        TlsSystemConfig.tlsTestModeEnable = false;
        // the client does not check the server's certificate: rocketmq-client 4.9 gives its SSL engine no peer host,
        // and the Netty 4.2 of this classpath then refuses any certificate (its own Netty 4.1 would not check)
        TlsSystemConfig.tlsClientAuthServer = false;
        TlsSystemConfig.tlsClientCertPath = TLS.resolve("alice.pem").toString();
        TlsSystemConfig.tlsClientKeyPath = TLS.resolve("alice-key.pem").toString();
        String nameServer = "127.0.0.1:" + gateway.port("openmessaging", "tls-port");

        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("alice-rocket");
        consumer.setNamesrvAddr(nameServer);
        consumer.setUseTLS(true);
        consumer.setInstanceName("secure-consumer");
        consumer.subscribe("alice|rocket", "*");
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, c) -> {
            for (MessageExt m : msgs) {
                got.add(new String(m.getBody(), StandardCharsets.UTF_8));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        DefaultMQProducer producer = rocketProducer(new DefaultMQProducer("alice-producers"), "secure-producer");
        assertThat(producer.send(new org.apache.rocketmq.common.message.Message("alice|rocket",
                "hello".getBytes(StandardCharsets.UTF_8))).getSendStatus()).isEqualTo(SendStatus.SEND_OK);
        consumer.start();
        clients.add(consumer::shutdown);
        await().atMost(Duration.ofSeconds(60)).until(() -> got.contains("hello"));

        Throwable refused = catchThrowable(() -> producer.send(new org.apache.rocketmq.common.message.Message("bob|rocket",
                "no".getBytes(StandardCharsets.UTF_8))));
        // NO_PERMISSION is one of the answers the producer retries; the last one is the cause
        Throwable broker = refused instanceof MQBrokerException ? refused : refused.getCause();
        assertThat(broker).isInstanceOf(MQBrokerException.class);
        assertThat(((MQBrokerException) broker).getResponseCode()).isEqualTo(16); // NO_PERMISSION
        assertThat(broker.getMessage()).contains("not authorized to send to topic bob|rocket");
    }

    @Test
    void rocketmqClientSigningWithAclClientRpcHookIsBob() throws Exception {
        TlsSystemConfig.tlsTestModeEnable = false;
        TlsSystemConfig.tlsClientAuthServer = false; // see above
        TlsSystemConfig.tlsClientCertPath = null; // no certificate: the signature says who this is
        TlsSystemConfig.tlsClientKeyPath = null;
        DefaultMQProducer bob = rocketProducer(signing("bob-rocketmq-secret"), "secure-bob");
        org.apache.rocketmq.client.producer.SendResult sent = bob.send(new org.apache.rocketmq.common.message.Message(
                "bob|rocket", "signed".getBytes(StandardCharsets.UTF_8)));
        assertThat(sent.getSendStatus()).isEqualTo(SendStatus.SEND_OK);

        // alice (by her certificate) may not read bob/...: not even by the message's id
        TlsSystemConfig.tlsClientCertPath = TLS.resolve("alice.pem").toString();
        TlsSystemConfig.tlsClientKeyPath = TLS.resolve("alice-key.pem").toString();
        DefaultMQProducer alice = rocketProducer(new DefaultMQProducer("alice-viewers"), "secure-alice-viewer");
        Throwable peek = catchThrowable(() -> alice.viewMessage(sent.getOffsetMsgId()));
        Throwable peekCause = peek instanceof MQBrokerException ? peek : peek.getCause();
        assertThat(peekCause).isInstanceOf(MQBrokerException.class);
        assertThat(((MQBrokerException) peekCause).getResponseCode()).isEqualTo(16);
        TlsSystemConfig.tlsClientCertPath = null;
        TlsSystemConfig.tlsClientKeyPath = null;
        Throwable notHis = catchThrowable(() -> bob.send(new org.apache.rocketmq.common.message.Message("alice|rocket",
                "forged".getBytes(StandardCharsets.UTF_8))));
        Throwable broker = notHis instanceof MQBrokerException ? notHis : notHis.getCause();
        assertThat(((MQBrokerException) broker).getResponseCode()).isEqualTo(16);

        DefaultMQProducer wrong = rocketProducer(signing("not-the-secret"), "secure-wrong");
        // the route lookup is refused already (a send reports "No route info"): asked directly, it says why
        Throwable refused = catchThrowable(() -> wrong.getDefaultMQProducerImpl().getMqClientFactory().getMQClientAPIImpl()
                .getTopicRouteInfoFromNameServer("bob|rocket", 10_000));
        assertThat(refused).isInstanceOf(org.apache.rocketmq.client.exception.MQClientException.class);
        assertThat(((org.apache.rocketmq.client.exception.MQClientException) refused).getResponseCode()).isEqualTo(16);
        assertThat(refused.getMessage()).contains("does not match");
    }

    private static DefaultMQProducer signing(String secretKey) {
        return new DefaultMQProducer("bob-producers", new org.apache.rocketmq.acl.common.AclClientRPCHook(
                new org.apache.rocketmq.acl.common.SessionCredentials("bob", secretKey)));
    }

    /** Starts {@code producer} over TLS against the gateway, closed with the other clients. */
    private static DefaultMQProducer rocketProducer(DefaultMQProducer producer, String instance) throws Exception {
        producer.setNamesrvAddr("127.0.0.1:" + gateway.port("openmessaging", "tls-port"));
        producer.setUseTLS(true);
        producer.setInstanceName(instance);
        producer.start();
        clients.add(producer::shutdown);
        return producer;
    }

    // ---- admin ---------------------------------------------------------------------------------------------------

    @Test
    void theAdminApiWantsAnAdministrator() throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(ssl(false)).build();
        URI connections = URI.create("https://localhost:" + gateway.adminPort() + "/api/connections");
        assertThat(http.send(HttpRequest.newBuilder(connections).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(401);
        assertThat(http.send(HttpRequest.newBuilder(connections).header("Authorization", basic("bob", "bob-secret")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(403);
        assertThat(http.send(HttpRequest.newBuilder(connections).header("Authorization", basic("admin", "wrong")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(connections)
                .header("Authorization", basic("admin", "admin-secret")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + gateway.adminPort() + "/health"))
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }

    // ---- clients -------------------------------------------------------------------------------------------------

    static MqttClient mqtt(String id, String user, String password) throws Exception {
        MqttClient c = new MqttClient("ssl://localhost:" + gateway.port("mqtt", "tls-port"), id, new MemoryPersistence());
        c.connect(options(user, password));
        clients.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        return c;
    }

    static MqttConnectionOptions options(String user, String password) throws Exception {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setUserName(user);
        o.setPassword(password.getBytes(StandardCharsets.UTF_8));
        o.setSocketFactory(ssl(false).getSocketFactory());
        o.setConnectionTimeout(20);
        return o;
    }

    static MqttMessage message(String text) {
        MqttMessage m = new MqttMessage(text.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        return m;
    }

    static Connection jms(String user, String password, String options) throws Exception {
        JmsConnectionFactory f = new JmsConnectionFactory("amqps://localhost:" + gateway.port("amqp", "tls-port")
                + "?transport.trustStoreLocation=" + TLS.resolve("ca.p12") + "&transport.trustStorePassword=" + PASSWORD
                + "&transport.trustStoreType=PKCS12" + options);
        Connection c = user == null ? f.createConnection() : f.createConnection(user, password);
        clients.add(c::close);
        c.start();
        return c;
    }

    static Properties kafka(String user, String password) {
        return kafka(user, password, "SCRAM-SHA-512");
    }

    static Properties kafka(String user, String password, String mechanism) {
        Properties p = new Properties();
        p.put("bootstrap.servers", "localhost:" + gateway.port("kafka", "tls-port"));
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", mechanism);
        p.put("sasl.jaas.config", (mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule") + " required username=\"" + user
                + "\" password=\"" + password + "\";");
        p.put("ssl.truststore.location", TLS.resolve("ca.p12").toString());
        p.put("ssl.truststore.password", PASSWORD);
        p.put("ssl.truststore.type", "PKCS12");
        p.put("max.block.ms", "20000");
        return p;
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** Trusts the example CA; with {@code alice}, shows alice's certificate. */
    static SSLContext ssl(boolean alice) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(TLS.resolve("ca.p12"))) {
            trust.load(in, PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (alice) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(TLS.resolve("alice.p12"))) {
                keys.load(in, PASSWORD.toCharArray());
            }
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, PASSWORD.toCharArray());
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
