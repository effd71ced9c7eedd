package io.omnibus.bench;

import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.bridge.Remote;
import io.omnibus.core.spi.bridge.RemoteConnector;
import io.omnibus.core.spi.bridge.RemoteSpec;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bridge's forwarding rate against the same client library writing to the same remote directly.
 * <pre>
 * direct: java -cp benchmarks.jar io.omnibus.bench.BridgeForward direct REMOTE_URL REMOTE_ADDRESS MESSAGES SIZE WINDOW
 * bridge: java -cp benchmarks.jar io.omnibus.bench.BridgeForward bridge ADMIN_PORT MQTT_PORT BRIDGE MESSAGES SIZE
 * </pre>
 * {@code direct} makes the bridge's own remote (the connector of the URL's scheme: vertx-proton, the Vert.x MQTT
 * client, kafka-clients) and sends MESSAGES with WINDOW unconfirmed at most, timing first send to last
 * confirmation. {@code bridge} expects a gateway whose bridge BRIDGE forwards {@code bench/#}: it pauses the bridge,
 * publishes MESSAGES to {@code bench/x} over MQTT (QoS 1) until all wait in the log, resumes it and times until
 * the remote confirmed them all ({@code /api/bridges}'s {@code forwarded}): the log-to-remote rate alone.
 */
public final class BridgeForward {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private BridgeForward() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("direct")) {
            direct(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        } else {
            bridge(Integer.parseInt(args[1]), Integer.parseInt(args[2]), args[3], Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]));
        }
        System.exit(0);
    }

    private static void direct(String url, String address, int messages, int size, int window) throws Exception {
        URI uri = new URI(url);
        RemoteConnector connector = null;
        for (RemoteConnector c : ServiceLoader.load(RemoteConnector.class)) {
            if (c.schemes().contains(uri.getScheme())) {
                connector = c;
            }
        }
        if (connector == null) {
            throw new IllegalArgumentException("no connector for " + url);
        }
        Map<String, Object> section = new HashMap<>();
        if (uri.getScheme().startsWith("amqp")) {
            section.put("capability", "queue");
        }
        RemoteSpec spec = new RemoteSpec("bench-direct", uri, List.of(uri.getRawAuthority().split(",")), null, null, false,
                null, null, null, true, window, new ConfigSection("remote", section));
        Vertx vertx = Vertx.vertx();
        Remote remote = connector.create(vertx, spec);
        remote.connect(t -> { }).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        byte[] payload = new byte[size];
        Semaphore permits = new Semaphore(window);
        AtomicInteger failed = new AtomicInteger();
        CompletableFuture<Void> all = new CompletableFuture<>();
        AtomicInteger confirmed = new AtomicInteger();
        long start = System.nanoTime();
        for (int i = 0; i < messages; i++) {
            permits.acquire();
            Envelope e = Envelope.builder("bench/x").payload(payload).durable(true).build();
            remote.send(address, e).onComplete(ar -> {
                if (ar.failed()) {
                    failed.incrementAndGet();
                }
                permits.release();
                if (confirmed.incrementAndGet() == messages) {
                    all.complete(null);
                }
            });
        }
        all.get(600, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("direct %s: %d messages of %d B, window %d: %.0f msg/s confirmed (%d failed)%n", url, messages,
                size, window, messages / seconds, failed.get());
        remote.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        vertx.close();
    }

    private static JsonObject status(int adminPort, String bridge) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/api/bridges")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (Object o : new JsonArray(body)) {
            if (((JsonObject) o).getString("name").equals(bridge)) {
                return (JsonObject) o;
            }
        }
        throw new IllegalStateException("no bridge " + bridge);
    }

    private static void control(int adminPort, String bridge, String action) throws Exception {
        HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/api/bridges/" + bridge + "/" + action))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void bridge(int adminPort, int mqttPort, String bridge, int messages, int size) throws Exception {
        control(adminPort, bridge, "pause");
        long before = status(adminPort, bridge).getLong("forwarded");
        MqttAsyncClient device = new MqttAsyncClient("tcp://127.0.0.1:" + mqttPort, "bench-loader", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMaxInflight(1000);
        device.connect(o).waitForCompletion(30_000);
        Semaphore permits = new Semaphore(1000);
        byte[] payload = new byte[size];
        for (int i = 0; i < messages; i++) {
            permits.acquire();
            device.publish("bench/x", new MqttMessage(payload) {{ setQos(1); }}, null, new org.eclipse.paho.client.mqttv3.IMqttActionListener() {
                @Override
                public void onSuccess(org.eclipse.paho.client.mqttv3.IMqttToken t) {
                    permits.release();
                }

                @Override
                public void onFailure(org.eclipse.paho.client.mqttv3.IMqttToken t, Throwable e) {
                    permits.release();
                }
            });
        }
        permits.acquire(1000);
        device.disconnect().waitForCompletion(10_000);
        while (status(adminPort, bridge).getLong("lag") < messages) {
            Thread.sleep(50);
        }
        long start = System.nanoTime();
        control(adminPort, bridge, "resume");
        JsonObject s;
        while ((s = status(adminPort, bridge)).getLong("forwarded") - before < messages) {
            Thread.sleep(50); // the admin API is asked sparingly: the machine's cores are the gateway's
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("bridge %s: %d messages of %d B from the log: %.0f msg/s confirmed by the remote (failed %d, lag %d)%n",
                bridge, messages, size, messages / seconds, s.getLong("failed"), s.getLong("lag"));
    }
}
