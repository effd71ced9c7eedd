package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttDecoder;

import java.util.concurrent.atomic.LongAdder;

/**
 * A server's netty-codec-mqtt decoders, made with its limits: one per TCP connection while it reads. Idle connections
 * drop theirs ({@link MqttTransport.Netty#swept}); this counts how often, for {@code /health} and tests.
 */
final class MqttDecoders {
    private final int maxPacketSize;
    private final LongAdder dropped = new LongAdder();

    MqttDecoders(int maxPacketSize) {
        this.maxPacketSize = maxPacketSize;
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
