package io.omnibus.server;

import java.nio.file.Path;
import java.util.Map;

/** One Apache Kafka broker ({@link RemoteBroker}, KRaft) for tests in other packages. */
public final class TestKafka implements AutoCloseable {
    private final RemoteBroker broker;

    private TestKafka(RemoteBroker broker) {
        this.broker = broker;
    }

    /** A broker with {@code settings} added to (or replacing) the test brokers' own, on free loopback ports. */
    public static TestKafka start(Path dir, Map<String, String> settings) throws Exception {
        return new TestKafka(RemoteBroker.kafkaCluster(dir, new int[] {RemoteBroker.freePort()},
                new int[] {RemoteBroker.freePort()}, settings).get(0));
    }

    public String bootstrap() {
        return "127.0.0.1:" + broker.port;
    }

    @Override
    public void close() throws InterruptedException {
        broker.close();
    }
}
