package io.omnibus.store.kafka;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Where the active node listens, for the standbys that pass their clients' connections on to it: one record, key
 * {@value #KEY}, in the compacted one-partition topic {@code <prefix>endpoints}, written by a node once it serves
 * (its node id and member id in the nodes' group, the host it advertises if configured, its listeners' ports by name),
 * in a transaction of the active role's transactional id; the topic is read {@code read_committed}.
 * A standby follows the topic on a thread of its own from its start; it trusts the record only for the member the
 * nodes' group shows as active ({@link KafkaMessageStore#servingNode()}), so a record left by a dead node is not used
 * once another is active, and never its own. The active node follows on, to learn when another took the role over
 * ({@link #watchForSuccessor}).
 */
final class KafkaEndpoints {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaEndpoints.class);
    static final String KEY = "active";

    /**
     * What a serving node wrote: its member id in the nodes' group and the group's generation in which it became the
     * active node (-1 in records of versions that did not write it); {@code host} null when it advertises none;
     * {@code inRoleTransaction} when it was written in a transaction of the active role's transactional id (false in
     * records of versions that wrote it with the plain producer).
     */
    record Advertised(String nodeId, String member, int generation, String host, Map<String, Integer> ports,
                      boolean inRoleTransaction) {
    }

    private final String topic;
    private volatile Advertised latest;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private volatile boolean stopped;
    /** This node's own record once it serves, and what to do when a node that became active after it writes one. */
    private volatile Advertised self;
    private volatile Runnable superseded;
    /** Where the follower read {@link #self} (-1: not yet), and whether it said it was superseded (its thread only). */
    private long selfOffset = -1;
    private boolean saidSuperseded;

    KafkaEndpoints(String topic) {
        this.topic = topic;
    }

    /** The last record read; null before one is. */
    Advertised latest() {
        return latest;
    }

    /**
     * Once this node serves: {@code then} runs (on the follower's thread, once) when the topic shows, after this
     * node's own record, one written by another member that became active after this one, so this one lost the role,
     * even if it cannot reach the group's coordinator to be told (a partial cut: the brokers it reaches include the
     * topic's leader, not the coordinator). Such a record is one written in a transaction of the active role's
     * transactional id ({@link #publish}): the topic is read {@code read_committed}, and a node that wrote one after
     * this node's own took the id after this node did (which fenced every earlier holder: a dead node's transaction
     * cannot commit after that), whatever the group's generation (which starts again at 1 when Kafka deletes an empty
     * group). A record written outside such a transaction (by a version that did so) counts only from a later
     * generation: from an earlier one it is a dead node's send that arrived late.
     */
    void watchForSuccessor(Runnable then) {
        superseded = then;
    }

    /**
     * Writes where this node listens, in a transaction of its own of the active role's transactional id ({@code
     * state}'s writer): a node fenced since cannot commit one, so it cannot land after its successor's. Never waits;
     * the future fails if the transaction did.
     */
    Future<Void> publish(KafkaState state, Advertised self) {
        this.self = self;
        return state.writeInTransaction(record(self));
    }

    /** The record a node writes where it listens. */
    ProducerRecord<byte[], byte[]> record(Advertised self) {
        JsonObject value = new JsonObject().put("node-id", self.nodeId()).put("member", self.member())
                .put("generation", self.generation()).put("ports", new JsonObject(new HashMap<>(self.ports())));
        String host = self.host();
        if (host != null) {
            value.put("host", host);
        }
        if (self.inRoleTransaction()) {
            value.put("role-transaction", true);
        }
        return new ProducerRecord<>(topic, 0, KEY.getBytes(StandardCharsets.UTF_8),
                value.encode().getBytes(StandardCharsets.UTF_8));
    }

    /** Reads the topic from its start on a thread of its own until {@link #stop}; {@code changed} runs per record. */
    void follow(Properties client, Runnable changed) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // records of a transaction that did not commit (a fenced node's) are never read
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG,
                client.getProperty(ConsumerConfig.CLIENT_ID_CONFIG, "omnibus") + "-endpoints");
        KafkaMessageStore.daemon(() -> run(p, changed), "omnibus-kafka-endpoints").start();
    }

    private void run(Properties p, Runnable changed) {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer = c;
            c.assign(List.of(new TopicPartition(topic, 0)));
            while (!stopped) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    Advertised a = parse(r);
                    if (a != null) {
                        latest = a;
                        changed.run();
                        superseding(a, r.offset());
                    }
                }
            }
        } catch (WakeupException e) {
            // stopped
        } catch (RuntimeException e) {
            if (!stopped) {
                LOG.warn("Kafka store: following where the active node listens failed; a standby refuses the "
                        + "connections it would pass on, an active node no longer learns of a successor: {}",
                        e.toString());
                latest = null;
            }
        }
    }

    /**
     * Whether {@code a}, at {@code offset} after this node's own record, says another node became active since (see
     * above). By offset, not by order of reading: a consumer reset to the topic's start reads older records again.
     */
    private void superseding(Advertised a, long offset) {
        Advertised me = self;
        Runnable then = superseded;
        if (me == null || then == null || me.generation() < 0) {
            return;
        }
        if (java.util.Objects.equals(a.member(), me.member()) && a.generation() == me.generation()) {
            selfOffset = Math.max(selfOffset, offset);
        } else if (selfOffset >= 0 && offset > selfOffset && !saidSuperseded && !stopped
                && !java.util.Objects.equals(a.member(), me.member())
                && (a.inRoleTransaction() || a.generation() > me.generation())) {
            saidSuperseded = true;
            LOG.error("Kafka store: node {} says it became the active node (generation {} of the nodes' group, this "
                    + "node's is {}{}): this node lost the role without being told (it may not reach the group's "
                    + "coordinator), so it stops", a.nodeId(), a.generation(), me.generation(),
                    a.inRoleTransaction() ? "; written in the active role's transaction" : "");
            then.run();
        }
    }

    static Advertised parse(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null || r.value() == null || !KEY.equals(new String(r.key(), StandardCharsets.UTF_8))) {
            return null;
        }
        try {
            JsonObject v = new JsonObject(new String(r.value(), StandardCharsets.UTF_8));
            Map<String, Integer> ports = new HashMap<>();
            v.getJsonObject("ports", new JsonObject())
                    .forEach(e -> ports.put(e.getKey(), ((Number) e.getValue()).intValue()));
            return new Advertised(v.getString("node-id"), v.getString("member"), v.getInteger("generation", -1),
                    v.getString("host"), Map.copyOf(ports), v.getBoolean("role-transaction", false));
        } catch (RuntimeException e) {
            LOG.warn("Kafka store: skipped an unreadable record of {} at offset {}: {}", r.topic(), r.offset(),
                    e.toString());
            return null;
        }
    }

    /** Stops following (this node closes); the consumer is closed on its own thread. */
    void stop() {
        stopped = true;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }
}
