package io.omnibus.bench;

import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fan-in: several Paho publishers to one subscriber, flat out, and the rate the subscriber sees.
 * {@code java -cp bench/target/benchmarks.jar io.omnibus.bench.MqttLoad tcp://127.0.0.1:1883 4 20000 1 256}
 * (publishers, messages each, QoS, payload bytes). Lossless check: the subscriber must get every message.
 */
public final class MqttLoad {
    private MqttLoad() {
    }

    public static void main(String[] args) throws Exception {
        String uri = args[0];
        int publishers = Integer.parseInt(args[1]);
        int each = Integer.parseInt(args[2]);
        int qos = Integer.parseInt(args[3]);
        int size = Integer.parseInt(args[4]);
        long total = (long) publishers * each;
        AtomicLong got = new AtomicLong();
        AtomicLong accepted = new AtomicLong(); // PUBACKed (QoS 1) or sent (QoS 0)
        CountDownLatch all = new CountDownLatch(1);
        MqttAsyncClient sub = new MqttAsyncClient(uri, "load-sub-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectOptions so = new MqttConnectOptions();
        so.setMaxInflight(65_535);
        sub.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                System.err.println("subscriber lost: " + cause);
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                if (got.incrementAndGet() == total) {
                    all.countDown();
                }
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        sub.connect(so).waitForCompletion();
        sub.subscribe("load/#", qos).waitForCompletion();
        List<Thread> threads = new ArrayList<>();
        byte[] payload = new byte[size];
        long began = System.nanoTime();
        for (int p = 0; p < publishers; p++) {
            int id = p;
            Thread t = new Thread(() -> {
                try {
                    MqttAsyncClient pub = new MqttAsyncClient(uri, "load-pub-" + id + "-" + System.nanoTime(),
                            new MemoryPersistence());
                    MqttConnectOptions o = new MqttConnectOptions();
                    o.setMaxInflight(1000);
                    pub.connect(o).waitForCompletion();
                    Semaphore window = new Semaphore(1000);
                    for (int i = 0; i < each; i++) {
                        window.acquire();
                        pub.publish("load/p" + id, payload, qos, false, null, new org.eclipse.paho.client.mqttv3.IMqttActionListener() {
                            @Override
                            public void onSuccess(org.eclipse.paho.client.mqttv3.IMqttToken token) {
                                accepted.incrementAndGet();
                                window.release();
                            }

                            @Override
                            public void onFailure(org.eclipse.paho.client.mqttv3.IMqttToken token, Throwable e) {
                                window.release();
                            }
                        });
                    }
                    window.acquire(1000);
                    pub.disconnect().waitForCompletion();
                    pub.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            t.start();
            threads.add(t);
        }
        Progress.start("", got::get, total, accepted::get);
        for (Thread t : threads) {
            t.join();
        }
        long published = System.nanoTime();
        boolean complete = all.await(60, TimeUnit.SECONDS);
        long done = System.nanoTime();
        long lost = Math.max(0, accepted.get() - got.get());
        System.out.printf("publishers=%d messages=%d qos=%d size=%d: published in %.2f s, received %d/%d in %.2f s: %.0f msg/s;"
                        + " accepted %d, delivered %d, lost %d%s%n",
                publishers, total, qos, size, (published - began) / 1e9, got.get(), total, (done - began) / 1e9,
                got.get() / ((done - began) / 1e9), accepted.get(), got.get(), lost,
                lost > 0 && qos > 0 ? "  (LOST: acknowledged messages did not arrive)" : complete ? "" : "  (LOSS: not everything arrived)");
        sub.disconnect().waitForCompletion();
        sub.close();
    }
}
