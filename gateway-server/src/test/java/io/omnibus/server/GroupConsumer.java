package io.omnibus.server;

import java.time.Duration;
import java.util.List;

/**
 * A kafka-clients group consumer of the topics matching {@code topics} through the gateway nodes' Kafka listeners,
 * committing what it polled.
 */
final class GroupConsumer implements AutoCloseable {
    private final org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;

    GroupConsumer(String topics, String bootstrap, List<String> sink) {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "cluster-test");
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("metadata.max.age.ms", "500");
        p.put("reconnect.backoff.max.ms", "500");
        p.put("metadata.recovery.strategy", "rebootstrap"); // every broker it knew gone: the bootstrap list again
        consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(p,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer());
        thread = new Thread(() -> {
            try {
                consumer.subscribe(java.util.regex.Pattern.compile(topics));
                while (true) {
                    var records = consumer.poll(Duration.ofMillis(200));
                    records.forEach(r -> sink.add(new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)));
                    if (!records.isEmpty()) {
                        try {
                            consumer.commitSync(Duration.ofSeconds(5));
                        } catch (org.apache.kafka.common.errors.WakeupException e) {
                            throw e;
                        } catch (RuntimeException e) {
                            // the node went away mid-commit: polled again from the last commit
                        }
                    }
                }
            } catch (org.apache.kafka.common.errors.WakeupException e) {
                // closed
            } finally {
                consumer.close(Duration.ZERO);
            }
        }, "group-consumer");
        thread.start();
    }

    @Override
    public void close() throws InterruptedException {
        consumer.wakeup();
        thread.join(30_000);
    }
}
