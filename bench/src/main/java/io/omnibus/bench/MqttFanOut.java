package io.omnibus.bench;

import org.HdrHistogram.Histogram;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * MQTT fan-out: one Paho publisher to {@code fanout/t}, N subscribers each receiving every message. At a fixed
 * rate, latency is taken from each message's intended send time (no coordinated omission) into an HdrHistogram;
 * rate 0 sends flat out. Prints progress every second and one summary line.
 * <pre>java -cp bench/target/benchmarks.jar io.omnibus.bench.MqttFanOut tcp://127.0.0.1:1883 16 5000 1000 1 256
 *     # subscribers, messages, rate per second (0 = flat out), QoS, payload bytes</pre>
 */
public final class MqttFanOut {
    private MqttFanOut() {
    }

    public static void main(String[] args) throws Exception {
        String uri = args[0];
        int subscribers = Integer.parseInt(args[1]);
        int messages = Integer.parseInt(args[2]);
        int rate = Integer.parseInt(args[3]);
        int qos = Integer.parseInt(args[4]);
        int size = Math.max(16, Integer.parseInt(args[5]));
        long expected = (long) subscribers * messages;
        AtomicLong got = new AtomicLong();
        Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        CountDownLatch all = new CountDownLatch(1);
        String topic = "fanout/" + Long.toHexString(System.nanoTime());

        List<MqttAsyncClient> subs = new ArrayList<>();
        for (int s = 0; s < subscribers; s++) {
            MqttAsyncClient c = new MqttAsyncClient(uri, "fan-sub-" + s + "-" + System.nanoTime(), new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMaxInflight(65_535);
            c.setCallback(new MqttCallback() {
                @Override
                public void connectionLost(Throwable cause) {
                    System.err.println("subscriber lost: " + cause);
                }

                @Override
                public void messageArrived(String t, MqttMessage m) {
                    long intended = ByteBuffer.wrap(m.getPayload()).getLong(8);
                    long took = Math.max(0, System.nanoTime() - intended);
                    synchronized (latency) {
                        latency.recordValue(Math.min(took, latency.getHighestTrackableValue()));
                    }
                    if (got.incrementAndGet() == expected) {
                        all.countDown();
                    }
                }

                @Override
                public void deliveryComplete(IMqttDeliveryToken token) {
                }
            });
            c.connect(o).waitForCompletion();
            c.subscribe(topic, qos).waitForCompletion();
            subs.add(c);
        }
        MqttAsyncClient pub = new MqttAsyncClient(uri, "fan-pub-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectOptions po = new MqttConnectOptions();
        po.setMaxInflight(1000);
        pub.connect(po).waitForCompletion();

        long began = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
        long interval = rate == 0 ? 0 : TimeUnit.SECONDS.toNanos(1) / rate;
        Thread sender = new Thread(() -> {
            for (int i = 0; i < messages; i++) {
                long intended = rate == 0 ? System.nanoTime() : began + i * interval;
                long wait = intended - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                byte[] payload = new byte[size];
                ByteBuffer.wrap(payload).putLong(0, i).putLong(8, intended);
                MqttMessage m = new MqttMessage(payload);
                m.setQos(qos);
                while (true) {
                    try {
                        pub.publish(topic, m);
                        break;
                    } catch (MqttException full) {
                        LockSupport.parkNanos(100_000); // in-flight window full: wait for PUBACKs
                    }
                }
            }
        }, "publisher");
        sender.start();
        boolean complete = true;
        long last = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!all.await(1, TimeUnit.SECONDS)) {
            long now = got.get();
            System.out.printf("  %d / %d delivered (%d/s)%n", now, expected, now - last);
            last = now;
            if (System.nanoTime() > deadline) {
                complete = false;
                break;
            }
        }
        double seconds = (System.nanoTime() - began) / 1e9;
        Histogram h;
        synchronized (latency) {
            h = latency.copy();
        }
        System.out.printf("MQTT fan-out QoS%d: 1 publisher -> %d subscribers, %d messages of %d B, offered %s: delivered %d"
                        + " (%s), %.0f msg/s delivered; latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f%n",
                qos, subscribers, messages, size, rate == 0 ? "flat out" : rate + "/s", got.get(),
                complete && got.get() == expected ? "lossless" : "LOST", got.get() / seconds,
                h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(90) / 1e6, h.getValueAtPercentile(99) / 1e6,
                h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6);
        pub.disconnect().waitForCompletion();
        for (MqttAsyncClient c : subs) {
            c.disconnect().waitForCompletion();
        }
        System.exit(complete ? 0 : 1);
    }
}
