package io.omnibus.server;

import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttMessage;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * QoS 1 publishes from one connected Paho client, flat out with up to {@link #WINDOW} unanswered, to
 * {@code <prefix><n % topics>}, until {@link #close}; {@link #acked} holds the payloads the gateway PUBACKed (what it
 * owes every subscriber). While the client is disconnected (Paho reconnecting to another node) it waits.
 */
final class AckedLoad implements AutoCloseable {
    static final int WINDOW = 64;

    final Set<String> acked = ConcurrentHashMap.newKeySet();
    private final Semaphore window = new Semaphore(WINDOW);
    private final Thread thread;
    private volatile boolean stop;

    AckedLoad(MqttAsyncClient client, String prefix, int topics) {
        thread = new Thread(() -> {
            for (int i = 0; !stop; ) {
                try {
                    if (!client.isConnected()) {
                        Thread.sleep(50); // Paho refuses publishes while it reconnects
                        continue;
                    }
                    if (!window.tryAcquire(1, TimeUnit.SECONDS)) {
                        continue;
                    }
                    String payload = "m" + i;
                    MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
                    m.setQos(1);
                    client.publish(prefix + (i % topics), m, null, new IMqttActionListener() {
                        @Override
                        public void onSuccess(IMqttToken token) {
                            acked.add(payload);
                            window.release();
                        }

                        @Override
                        public void onFailure(IMqttToken token, Throwable e) {
                            window.release();
                        }
                    });
                    i++;
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    window.release(); // refused at once (disconnected meanwhile): tried again with the next number
                }
            }
        }, "acked-load");
        thread.start();
    }

    /** Stops publishing and waits until what is in flight is answered (or 60 s passed). */
    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(30_000);
        window.tryAcquire(WINDOW, 60, TimeUnit.SECONDS);
    }
}
