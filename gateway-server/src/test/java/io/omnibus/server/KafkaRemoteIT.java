package io.omnibus.server;

import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Bridges to and from Apache Kafka (its Maven Central jars, KRaft, in a child process), read and written by
 * kafka-clients on both sides: keys and headers cross, and the gateway killed with {@code kill -9} in the middle of a
 * stream each way loses nothing.
 */
@Timeout(300)
class KafkaRemoteIT {
    @TempDir
    static Path dir;
    private static RemoteBroker kafka;
    private final List<AutoCloseable> clients = new ArrayList<>();
    private Gateway gateway;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = RemoteBroker.kafka(dir.resolve("kafka"), RemoteBroker.freePort(), RemoteBroker.freePort());
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        ShippedGateway.stop(gateway, clients);
    }

    private static String remote() {
        return "127.0.0.1:" + kafka.port;
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "acks", "all", "linger.ms", "0"),
                new StringSerializer(), new StringSerializer());
    }

    @Test
    void recordsProducedHereReachKafkaWithKeysAndHeaders() throws Exception {
        gateway = ShippedGateway.startWith(dir.resolve("out"), """
                bridges:
                  - name: to-kafka
                    direction: out
                    local: "orders/#"
                    remote:
                      url: kafka://%s
                """.formatted(remote()));
        RemoteBridgeSupport.awaitState(gateway.adminPort(), "to-kafka", "CONNECTED");
        try (KafkaProducer<String, String> p = producer("127.0.0.1:" + gateway.port("kafka"))) {
            ProducerRecord<String, String> r = new ProducerRecord<>("orders.eu", "order-1", "{\"id\":1}");
            r.headers().add("content-type", "application/json".getBytes(StandardCharsets.UTF_8));
            r.headers().add("tenant", "acme".getBytes(StandardCharsets.UTF_8));
            p.send(r).get(30, TimeUnit.SECONDS);
        }
        List<ConsumerRecord<byte[], byte[]>> got = RemoteBridgeSupport.readAll(remote(), "orders.eu", l -> !l.isEmpty());
        ConsumerRecord<byte[], byte[]> r = got.get(0);
        assertThat(RemoteBridgeSupport.text(r.key())).isEqualTo("order-1");
        assertThat(RemoteBridgeSupport.text(r.value())).isEqualTo("{\"id\":1}");
        assertThat(RemoteBridgeSupport.text(r.headers().lastHeader("tenant").value())).isEqualTo("acme");
        assertThat(RemoteBridgeSupport.text(r.headers().lastHeader("content-type").value())).isEqualTo("application/json");
        await().untilAsserted(() -> assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "to-kafka").getLong("lag")).isZero());
    }

    @Test
    void recordsFromKafkaReachAKafkaConsumerHereWithKeysAndHeaders() throws Exception {
        gateway = ShippedGateway.startWith(dir.resolve("in"), """
                bridges:
                  - name: from-kafka
                    direction: in
                    local: "remote/{address}"
                    remote:
                      url: kafka://%s
                      address: payments
                """.formatted(remote()));
        try (KafkaProducer<String, String> p = producer(remote())) {
            for (int i = 0; i < 20; i++) {
                ProducerRecord<String, String> r = new ProducerRecord<>("payments", "acct-" + (i % 3), "pay-" + i);
                r.headers().add("currency", "EUR".getBytes(StandardCharsets.UTF_8));
                p.send(r).get(30, TimeUnit.SECONDS);
            }
        }
        List<ConsumerRecord<byte[], byte[]>> got = RemoteBridgeSupport.readAll("127.0.0.1:" + gateway.port("kafka"),
                "remote.payments", l -> l.size() >= 20);
        assertThat(got).hasSize(20);
        assertThat(got).extracting(r -> RemoteBridgeSupport.text(r.value()))
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 20).mapToObj(i -> "pay-" + i).toList());
        assertThat(RemoteBridgeSupport.text(got.get(4).key())).isEqualTo("acct-1");
        assertThat(RemoteBridgeSupport.text(got.get(4).headers().lastHeader("currency").value())).isEqualTo("EUR");
        await().untilAsserted(() -> assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "from-kafka")
                .getLong("forwarded")).isEqualTo(20));
    }

    @Test
    void aRecordOfATopicWhoseNameIsNoAddressHereIsKeptAsADeadLetterAndTheStreamGoesOn() throws Exception {
        gateway = ShippedGateway.startWith(dir.resolve("odd"), """
                bridges:
                  - name: odd
                    direction: in
                    remote:
                      url: kafka://%s
                      address: "odd_x41,fine"
                """.formatted(remote()));
        try (KafkaProducer<String, String> p = producer(remote())) {
            p.send(new ProducerRecord<>("odd_x41", "k", "escaped wrongly")).get(30, TimeUnit.SECONDS);
            p.send(new ProducerRecord<>("fine", "k", "ok")).get(30, TimeUnit.SECONDS);
        }
        String here = "127.0.0.1:" + gateway.port("kafka");
        // the dead-letter topic exists once something is in it (Kafka clients cannot create a $ address)
        await().untilAsserted(() -> assertThat(RemoteBridgeSupport.bridge(gateway.adminPort(), "odd").getLong("failed")).isEqualTo(1));
        List<ConsumerRecord<byte[], byte[]>> dead = RemoteBridgeSupport.readAll(here, "_x24dlq.bridge.odd", l -> !l.isEmpty());
        assertThat(RemoteBridgeSupport.text(dead.get(0).value())).isEqualTo("escaped wrongly");
        assertThat(RemoteBridgeSupport.text(dead.get(0).headers().lastHeader("omnibus.dead-letter.reason").value()))
                .contains("the remote name 'odd_x41' is no valid address here");
        assertThat(RemoteBridgeSupport.readAll(here, "fine", l -> !l.isEmpty())).extracting(r -> RemoteBridgeSupport.text(r.value()))
                .containsExactly("ok");
        JsonObject b = RemoteBridgeSupport.bridge(gateway.adminPort(), "odd");
        assertThat(b.getString("state")).isEqualTo("CONNECTED");
        assertThat(b.getLong("failed")).isEqualTo(1);
    }

    @Test
    void theGatewayKilledMidStreamLosesNothingEitherWay() throws Exception {
        int inFlight = 100;
        int total = 10_000;
        int mqttPort = GatewayProcess.freePort();
        int kafkaPort = GatewayProcess.freePort();
        int adminPort = GatewayProcess.freePort();
        Map<String, String> env = Map.of("OMNIBUS_ADMIN_HOST", "127.0.0.1", "OMNIBUS_ADMIN_PORT", Integer.toString(adminPort),
                "OMNIBUS_MQTT_HOST", "127.0.0.1", "OMNIBUS_MQTT_PORT", Integer.toString(mqttPort),
                "OMNIBUS_KAFKA_HOST", "127.0.0.1", "OMNIBUS_KAFKA_PORT", Integer.toString(kafkaPort),
                "OMNIBUS_KAFKA_ADVERTISED_HOST", "127.0.0.1", "OMNIBUS_MQTT_WEBSOCKET_ENABLED", "false",
                "OMNIBUS_AMQP_ENABLED", "false", "OMNIBUS_OPENMESSAGING_ENABLED", "false");
        Path config = ShippedGateway.configWith(dir.resolve("crash.yaml"), """
                bridges:
                  - name: out
                    direction: out
                    local: "out/#"
                    in-flight: %d
                    remote:
                      url: kafka://%s
                  - name: in
                    direction: in
                    in-flight: %d
                    remote:
                      url: kafka://%s
                      address: in.x
                """.formatted(inFlight, remote(), inFlight, remote()));
        String[] args = {"start", "--config", config.toString(), "--data-dir", dir.resolve("crash-data").toString()};
        // in: a producer there writes all along, the gateway down or not. Until the kill it writes one record per
        // PUBACK the device here gets, so that both streams are in the middle when the gateway dies; then flat out.
        Semaphore pace = new Semaphore(0);
        java.util.concurrent.atomic.AtomicBoolean unpaced = new java.util.concurrent.atomic.AtomicBoolean();
        Thread remoteProducer = new Thread(() -> {
            try (KafkaProducer<String, String> p = producer(remote())) {
                for (int i = 0; i < total; i++) {
                    if (!unpaced.get()) {
                        pace.acquire();
                    }
                    p.send(new ProducerRecord<>("in.x", Integer.toString(i))).get(30, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "remote-producer");
        int acked;
        int killedAtIn;
        try (GatewayProcess gw = GatewayProcess.run(env, args)) {
            gw.awaitReady();
            remoteProducer.start();
            // out: a device here publishes QoS 1 until the gateway dies under it
            AtomicInteger pubacked = new AtomicInteger();
            MqttClient device = RemoteBridgeSupport.device(mqttPort, "streamer");
            Thread publisher = new Thread(() -> {
                try {
                    for (int i = 0; i < total; i++) {
                        RemoteBridgeSupport.publish(device, "out/x", Integer.toString(i));
                        pubacked.incrementAndGet();
                        pace.release();
                    }
                } catch (Exception e) {
                    // the gateway was killed
                }
            }, "publisher");
            publisher.start();
            await().atMost(Duration.ofSeconds(120)).until(() -> RemoteBridgeSupport.bridge(adminPort, "out").getLong("forwarded") >= 3_000
                    && RemoteBridgeSupport.bridge(adminPort, "in").getLong("forwarded") >= 1_000);
            killedAtIn = RemoteBridgeSupport.bridge(adminPort, "in").getLong("forwarded").intValue();
            gw.process.destroyForcibly(); // kill -9
            gw.process.waitFor(30, TimeUnit.SECONDS);
            unpaced.set(true);
            pace.release(total); // the producer there goes on alone while the gateway is down
            publisher.join(30_000);
            device.disconnectForcibly(0, 0, false);
            device.close(true);
            acked = pubacked.get();
        }
        assertThat(acked).as("PUBACKed before the kill").isBetween(3_000, total - 1);
        assertThat(killedAtIn).as("stored from Kafka before the kill").isBetween(1_000, total - 1);
        try (GatewayProcess gw = GatewayProcess.run(env, args)) {
            gw.awaitReady();
            MqttClient device = RemoteBridgeSupport.device(mqttPort, "streamer");
            for (int i = acked; i < total; i++) { // what was not PUBACKed is published again, as a device does
                RemoteBridgeSupport.publish(device, "out/x", Integer.toString(i));
            }
            device.disconnect();
            device.close();
            remoteProducer.join(120_000);
            Map<String, Integer> out = count(RemoteBridgeSupport.readAll(remote(), "out.x", l -> distinct(l) >= total));
            Map<String, Integer> in = count(RemoteBridgeSupport.readAll("127.0.0.1:" + kafkaPort, "in.x",
                    l -> distinct(l) >= total));
            assertThat(out).as("out: every PUBACKed message at Kafka").hasSize(total);
            assertThat(in).as("in: every record of Kafka here").hasSize(total);
            int outDuplicates = duplicates(out);
            int inDuplicates = duplicates(in);
            // out: what was sent and not yet acknowledged here, and the one message whose PUBACK the kill took
            assertThat(outDuplicates).isLessThanOrEqualTo(inFlight + 1);
            // in: what was stored here and not yet committed there: in flight and one poll's worth
            assertThat(inDuplicates).isLessThanOrEqualTo(2 * inFlight);
            JsonObject o = RemoteBridgeSupport.bridge(adminPort, "out");
            System.out.println("KafkaRemoteIT: gateway killed with " + acked + " of " + total + " PUBACKed and "
                    + killedAtIn + " of " + total + " records from Kafka stored; after the restart lost 0 both ways, duplicates out "
                    + outDuplicates + ", in " + inDuplicates + " (in-flight " + inFlight + "); out lag now " + o.getLong("lag"));
        }
    }

    private static Map<String, Integer> count(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, Integer> out = new HashMap<>();
        records.forEach(r -> out.merge(RemoteBridgeSupport.text(r.value()), 1, Integer::sum));
        return out;
    }

    private static long distinct(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> RemoteBridgeSupport.text(r.value())).distinct().count();
    }

    private static int duplicates(Map<String, Integer> counts) {
        return counts.values().stream().mapToInt(n -> n - 1).sum();
    }
}
