package io.omnibus.mqtt;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.bridge.Remote;
import io.omnibus.core.spi.bridge.RemoteConnector;
import io.omnibus.core.spi.bridge.RemoteSpec;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/** Bridges to MQTT brokers ({@code mqtt://}, {@code mqtts://}) over the Vert.x MQTT client (docs/bridges.md). */
public final class MqttRemoteConnector implements RemoteConnector {
    /** The settings of an MQTT remote besides the common ones. */
    record Settings(String clientId, int version, int qos, boolean cleanSession, Duration sessionExpiry,
                    Duration keepAlive, Duration ackTimeout) {
    }

    @Override
    public List<String> schemes() {
        return List.of("mqtt", "mqtts", "ws", "wss");
    }

    @Override
    public Set<String> keys() {
        return Set.of("client-id", "version", "qos", "clean-session", "session-expiry", "keep-alive", "ack-timeout");
    }

    @Override
    public Remote create(Vertx vertx, RemoteSpec spec) {
        return new MqttRemote(vertx, spec, settings(spec));
    }

    @Override
    public void check(RemoteSpec spec) {
        settings(spec);
    }

    static Settings settings(RemoteSpec spec) {
        if (spec.scheme().startsWith("ws")) {
            throw new ConfigException(spec.section().keyOf("url"), "MQTT over WebSocket is not supported for bridges "
                    + "(the Vert.x MQTT client speaks MQTT over TCP): use mqtt:// or mqtts://");
        }
        var s = spec.section();
        int version = s.getInt("version", 5, 3, 5);
        if (version == 4) {
            throw new ConfigException(s.keyOf("version"), "must be 3 (MQTT 3.1.1) or 5");
        }
        return new Settings(s.getString("client-id", "omnibus-bridge-" + spec.bridge()), version,
                s.getInt("qos", 1, 0, 2), s.getBoolean("clean-session", false),
                s.getDuration("session-expiry", Duration.ofDays(1)), s.getDuration("keep-alive", Duration.ofSeconds(30)),
                s.getDuration("ack-timeout", Duration.ofSeconds(30)));
    }
}
