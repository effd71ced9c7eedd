package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.bridge.Remote;
import io.omnibus.core.spi.bridge.RemoteRefusedException;
import io.omnibus.core.spi.bridge.RemoteSpec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.messages.MqttPublishMessage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One bridge's MQTT connection (Vert.x MQTT client, MQTT 5 or 3.1.1). Out: each message published at the bridge's
 * QoS and confirmed by PUBACK (QoS 1) or PUBCOMP (QoS 2); an MQTT 5 reason code of 0x80 or more refuses it; QoS 0 is
 * done once written. In: a session (persistent unless {@code clean-session}) subscribed at the bridge's QoS, PUBACKs
 * sent by hand in the order the messages came (as MQTT requires) once each is stored; a message the gateway could not
 * store closes the connection, so the remote's session sends it again. At most {@code in-flight} are unstored: the
 * receive maximum (MQTT 5) and pausing the socket (3.1.1) hold the remote back.
 */
final class MqttRemote implements Remote {
    /** A message received and not yet acknowledged, in arrival order. */
    private static final class Received {
        final MqttPublishMessage message;
        Boolean stored;

        Received(MqttPublishMessage message) {
            this.message = message;
        }
    }

    private final Vertx vertx;
    private final RemoteSpec spec;
    private final MqttRemoteConnector.Settings settings;
    private final Origin origin;
    private static final Throwable OK = new Throwable("acknowledged");
    private final Map<Integer, Promise<Void>> pending = new HashMap<>();
    /** Outcomes that came before the send learned its packet id (should the client complete publish late). */
    private final Map<Integer, Throwable> early = new HashMap<>();
    private final ArrayDeque<Received> received = new ArrayDeque<>();
    private Context context;
    private MqttClient client;
    private Consumer<Throwable> lost;
    private boolean closed;
    private boolean paused;

    MqttRemote(Vertx vertx, RemoteSpec spec, MqttRemoteConnector.Settings settings) {
        this.vertx = vertx;
        this.spec = spec;
        this.settings = settings;
        this.origin = new Origin("mqtt", settings.clientId(), spec.url().toString());
    }

    @Override
    public String protocol() {
        return settings.version() == 5 ? "mqtt5" : "mqtt3";
    }

    @Override
    public Future<Void> connect(Consumer<Throwable> lost) {
        this.lost = lost;
        context = vertx.getOrCreateContext();
        Promise<Void> connected = Promise.promise();
        context.runOnContext(v -> {
            MqttClientOptions options = new MqttClientOptions().setClientId(settings.clientId())
                    .setCleanSession(settings.cleanSession()).setAutoAck(false)
                    .setKeepAliveInterval((int) settings.keepAlive().toSeconds())
                    .setAckTimeout((int) Math.max(1, settings.ackTimeout().toSeconds()))
                    .setMaxInflightQueue(spec.inFlight());
            options.setVersion(settings.version() == 5 ? 5 : 4);
            if (settings.version() == 5) {
                options.setReceiveMaximum(Math.min(65_535, spec.inFlight()));
                if (!settings.cleanSession()) {
                    options.setSessionExpireInterval(settings.sessionExpiry().toSeconds());
                }
            }
            options.setUsername(spec.username()).setPassword(spec.password());
            options.setConnectTimeout(10_000);
            spec.applyTls(options);
            client = MqttClient.create(vertx, options);
            client.closeHandler(c -> {
                IOException why = new IOException("connection to " + spec.url() + " lost");
                connected.tryFail(why);
                lose(why);
            });
            client.exceptionHandler(e -> {
            }); // the close that follows is what counts
            client.publishAckMessageHandler(ack -> settle(ack.messageId(), ack.code().isError()
                    ? new RemoteRefusedException("PUBACK " + ack.code() + reason(ack.properties())) : null));
            client.publishRecMessageHandler(rec -> {
                if (rec.code().isError()) {
                    settle(rec.messageId(), new RemoteRefusedException("PUBREC " + rec.code() + reason(rec.properties())));
                }
            });
            client.publishCompMessageHandler(comp -> settle(comp.messageId(), null));
            client.publishCompletionExpirationHandler(id -> settle(id, new IOException("no acknowledgement within "
                    + settings.ackTimeout())));
            client.connect(spec.port(), spec.host()).onComplete(ar -> {
                if (ar.succeeded()) {
                    connected.tryComplete();
                } else {
                    connected.tryFail(ar.cause());
                }
            });
        });
        return connected.future();
    }

    private static String reason(MqttProperties props) {
        MqttProperties.MqttProperty<?> r = props == null ? null : props.getProperty(MqttProperties.REASON_STRING);
        return r == null ? "" : ": " + r.value();
    }

    private void settle(int packetId, Throwable failure) {
        Promise<Void> p = pending.remove(packetId);
        if (p == null) {
            early.put(packetId, failure == null ? OK : failure); // before publish's future told us the packet id
            return;
        }
        if (failure == null) {
            p.tryComplete();
        } else {
            p.tryFail(failure);
        }
    }

    private void lose(Throwable why) {
        if (closed) {
            return;
        }
        closed = true;
        pending.values().forEach(p -> p.tryFail(why));
        pending.clear();
        Consumer<Throwable> l = lost;
        lost = null;
        if (l != null) {
            l.accept(why);
        }
    }

    @Override
    public Future<Void> send(String remoteName, Envelope envelope) {
        Promise<Void> done = Promise.promise();
        Remote.on(context, () -> {
            if (closed || client == null || !client.isConnected()) {
                done.fail(new IOException("not connected"));
                return;
            }
            ByteBuffer payload = envelope.payload();
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            MqttProperties props = settings.version() == 5
                    ? Translation.properties(envelope, 0, System.currentTimeMillis()) : MqttProperties.NO_PROPERTIES;
            MqttQoS qos = MqttQoS.valueOf(settings.qos());
            client.publish(remoteName, Buffer.buffer(bytes), qos, false, envelope.retain(), props).onComplete(ar -> {
                if (ar.failed()) {
                    done.tryFail(ar.cause());
                } else if (qos == MqttQoS.AT_MOST_ONCE) {
                    done.tryComplete();
                } else {
                    Throwable settled = early.remove(ar.result());
                    if (settled == null) {
                        pending.put(ar.result(), done);
                    } else if (settled == OK) {
                        done.tryComplete();
                    } else {
                        done.tryFail(settled);
                    }
                }
            });
        });
        return done.future();
    }

    @Override
    public Future<Void> receive(String source, Function<Envelope, Future<Void>> store) {
        Promise<Void> started = Promise.promise();
        context.runOnContext(v -> {
            if (closed || client == null) {
                started.fail(new IOException("not connected"));
                return;
            }
            client.publishHandler(m -> {
                Received r = new Received(m);
                received.add(r);
                if (received.size() >= spec.inFlight() && !paused) {
                    paused = true;
                    client.pause();
                }
                Envelope e = spec.deadLettered(Translation.toEnvelope(spec.arrival(m.topicName(), this::localAddress),
                        m.payload().getBytes(), m.qosLevel().value(), m.isRetain(), m.properties(), origin,
                        System.currentTimeMillis()), m.topicName());
                store.apply(e).onComplete(ar -> Remote.on(context, () -> {
                    r.stored = ar.succeeded();
                    acknowledgeInOrder();
                }));
            });
            client.subscribe(source, settings.qos()).onComplete(ar -> {
                if (ar.failed()) {
                    started.tryFail(ar.cause());
                }
            });
            client.subscribeCompletionHandler(suback -> {
                if (suback.grantedQoSLevels().stream().anyMatch(q -> q >= 0x80)) {
                    started.tryFail(new IOException("the remote refused the subscription to " + source + " (SUBACK "
                            + suback.grantedQoSLevels() + ")"));
                } else {
                    started.tryComplete();
                }
            });
        });
        return started.future();
    }

    /** PUBACKs go in arrival order: the head once stored; a head the gateway failed to store ends the connection. */
    private void acknowledgeInOrder() {
        while (!closed && !received.isEmpty() && received.peek().stored != null) {
            Received head = received.poll();
            if (!head.stored) {
                IOException why = new IOException("a message from " + head.message.topicName()
                        + " could not be stored; the remote's session sends it again");
                client.disconnect();
                lose(why);
                return;
            }
            if (head.message.qosLevel() != MqttQoS.AT_MOST_ONCE) {
                head.message.ack();
            }
        }
        if (paused && received.size() < spec.inFlight()) {
            paused = false;
            client.resume();
        }
    }

    @Override
    public Future<Void> close() {
        if (context == null) {
            closed = true;
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            closed = true;
            lost = null;
            pending.values().forEach(p -> p.tryFail(new IOException("bridge connection closed")));
            pending.clear();
            received.clear();
            if (client != null && client.isConnected()) {
                client.disconnect().onComplete(x -> done.tryComplete());
            } else {
                done.complete();
            }
        });
        return done.future();
    }
}
