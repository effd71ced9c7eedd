package io.omnibus.server;

import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A subscriber that reads nothing, then everything: a million QoS 1 messages wait in the log for a persistent MQTT
 * session that is away, in a gateway whose heap is far smaller than they are, then all of them arrive, in each
 * publisher's order. The gateway runs with {@code -Xmx128m -XX:+ExitOnOutOfMemoryError}: holding the backlog in
 * memory ends the run. {@code -Domnibus.slow.messages=N} changes the count.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class SlowConsumerIT {
    private static final int MESSAGES = Integer.getInteger("omnibus.slow.messages", 1_000_000);
    private static final int PUBLISHERS = 4;
    private static final Pattern ADMIN = Pattern.compile("omnibus: ready in \\d+ ms: admin http://[^:]+:(\\d+).*");

    @TempDir
    Path dir;

    @Test
    void aMillionMessagesWaitInTheLogForAnAbsentSubscriberAndAllArriveInOrder() throws Exception {
        int mqttPort = GatewayProcess.freePort();
        Path cfg = GatewayYaml.store("type: file").mqtt(mqttPort, "receive-maximum: 1000", "max-inflight: 1000")
                .write(dir);
        try (GatewayProcess gw = GatewayProcess.run(Map.of("OMNIBUS_OPTS",
                        "-Xmx128m -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=DISABLED"),
                "start", "--config", cfg.toString(), "--data-dir", dir.resolve("data").toString())) {
            Matcher ready = ADMIN.matcher(gw.awaitReady());
            assertThat(ready.matches()).as(ready.toString()).isTrue();
            int admin = Integer.parseInt(ready.group(1));
            String url = "tcp://127.0.0.1:" + mqttPort;

            MqttConnectOptions persistent = new MqttConnectOptions();
            persistent.setCleanSession(false);
            persistent.setMaxInflight(1000);
            MqttClient slow = new MqttClient(url, "slow", new MemoryPersistence());
            slow.connect(persistent);
            slow.subscribe("load/#", 1);
            slow.disconnect(); // away while everything is published

            AtomicLong acked = new AtomicLong();
            List<Thread> publishers = new ArrayList<>();
            for (int p = 0; p < PUBLISHERS; p++) {
                int id = p;
                Thread t = new Thread(() -> publish(url, id, MESSAGES / PUBLISHERS, acked), "publisher-" + p);
                t.start();
                publishers.add(t);
            }
            for (Thread t : publishers) {
                t.join();
            }
            assertThat(acked.get()).isEqualTo((long) MESSAGES / PUBLISHERS * PUBLISHERS);
            assertThat(gw.process.isAlive()).as("the gateway died: " + gw.err).isTrue();
            String subs = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + admin + "/api/subscriptions")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            io.vertx.core.json.JsonObject view = new io.vertx.core.json.JsonArray(subs).getJsonObject(0);
            assertThat(view.getString("name")).isEqualTo("mqtt/slow/load/#");
            assertThat(view.getLong("backlog")).isEqualTo(acked.get()); // all of it lag, none of it dropped
            assertThat(view.getLong("dropped")).isZero();

            int[] next = new int[PUBLISHERS];
            AtomicInteger got = new AtomicInteger();
            List<String> disorder = new java.util.concurrent.CopyOnWriteArrayList<>();
            MqttClient reader = new MqttClient(url, "slow", new MemoryPersistence());
            reader.setCallback(new MqttCallback() {
                @Override
                public void connectionLost(Throwable cause) {
                }

                @Override
                public void messageArrived(String topic, MqttMessage message) {
                    String[] parts = new String(message.getPayload(), StandardCharsets.UTF_8).split("-");
                    int p = Integer.parseInt(parts[0]);
                    int seq = Integer.parseInt(parts[1]);
                    if (seq != next[p] && disorder.size() < 10) {
                        disorder.add("publisher " + p + ": expected " + next[p] + ", got " + seq);
                    }
                    next[p] = seq + 1;
                    got.incrementAndGet();
                }

                @Override
                public void deliveryComplete(IMqttDeliveryToken token) {
                }
            });
            reader.connect(persistent);
            await().atMost(Duration.ofMinutes(10)).until(() -> got.get() >= acked.get() || !gw.process.isAlive());
            assertThat(gw.process.isAlive()).as("the gateway died: " + gw.err).isTrue();
            assertThat(got.get()).isEqualTo(acked.get());
            assertThat(disorder).isEmpty();
            reader.disconnect();
            reader.close();
            assertThat(String.join("\n", gw.err)).doesNotContain("OutOfMemoryError");
        }
    }

    private static void publish(String url, int id, int count, AtomicLong acked) {
        try {
            MqttAsyncClient c = new MqttAsyncClient(url, "load-" + id, new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMaxInflight(500);
            c.connect(o).waitForCompletion(10_000);
            Semaphore window = new Semaphore(500);
            byte[] pad = new byte[48];
            for (int i = 0; i < count; i++) {
                window.acquire();
                byte[] head = (id + "-" + i + "-").getBytes(StandardCharsets.UTF_8);
                byte[] payload = new byte[head.length + pad.length];
                System.arraycopy(head, 0, payload, 0, head.length);
                MqttMessage m = new MqttMessage(payload);
                m.setQos(1);
                c.publish("load/" + id, m, null, new IMqttActionListener() {
                    @Override
                    public void onSuccess(IMqttToken token) {
                        acked.incrementAndGet();
                        window.release();
                    }

                    @Override
                    public void onFailure(IMqttToken token, Throwable e) {
                        window.release();
                    }
                });
            }
            window.acquire(500);
            c.disconnect().waitForCompletion(10_000);
            c.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
