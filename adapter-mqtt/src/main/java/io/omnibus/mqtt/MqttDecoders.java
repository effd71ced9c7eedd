package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttDecoder;

import java.util.concurrent.atomic.LongAdder;

/**
 * A server's netty-codec-mqtt decoders, made with its limits: one per TCP connection while it reads. Idle connections
 * drop theirs ({@link MqttNettyTransport#swept}); this counts how often, for {@code /health} and tests. It also says
 * after how many quiet sweeps an idle connection's socket is parked ({@code mqtt.park-idle-after}): the server's
 * settings for its TCP connections in one object every connection already refers to.
 */
final class MqttDecoders {
    private final int maxPacketSize;
    private final LongAdder dropped = new LongAdder();
    /** Sweeps (two a second) without a byte read or written before a connection is parked; 0: never. */
    final int parkAfterSweeps;

    MqttDecoders(int maxPacketSize) {
        this(maxPacketSize, 0);
    }

    MqttDecoders(int maxPacketSize, int parkAfterSweeps) {
        this.maxPacketSize = maxPacketSize;
        this.parkAfterSweeps = parkAfterSweeps;
    }

    MqttDecoder make() {
        return new MqttDecoder(maxPacketSize, 65_535);
    }

    void dropped() {
        dropped.increment();
    }

    /** How many times an idle connection dropped its decoder. */
    long droppedCount() {
        return dropped.sum();
    }
}
