package io.omnibus.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.nio.file.Path;

/**
 * {@link DeliveryCrashIT} on {@code store.type: kafka}: the same subscribers of every protocol, the same
 * {@code kill -9} of the gateway under load, lost = 0, but every round's gateway starts with a new, empty data
 * directory. Everything it delivers after a crash (the offline MQTT session's backlog, the JMS queue, the Kafka
 * group's position) comes from the Apache Kafka cluster (a real one, KRaft, from Maven Central's jars): a node keeps
 * nothing of its own. {@code -Domnibus.kafka.crash.rounds=N} (5 by default).
 */
class KafkaStoreCrashIT extends DeliveryCrashIT {
    private RemoteBroker kafka;

    @BeforeEach
    void startKafka() throws Exception {
        kafka = RemoteBroker.kafka(dir.resolve("kafka"), RemoteBroker.freePort(), RemoteBroker.freePort());
    }

    @AfterEach
    void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Override
    int rounds() {
        return Integer.getInteger("omnibus.kafka.crash.rounds", 5);
    }

    @Override
    String store() {
        return """
                type: kafka
                kafka:
                  bootstrap-servers: 127.0.0.1:%d
                  replication-factor: 1
                """.formatted(kafka.port);
    }

    @Override
    Path dataDir(int round) {
        return dir.resolve("data-" + round);
    }
}
