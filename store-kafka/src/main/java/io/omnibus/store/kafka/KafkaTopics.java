package io.omnibus.store.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.store.TopicPartition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.TopicExistsException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * Which Kafka topic holds which address, and making them: each address is one topic named
 * {@code <prefix>a.<address>} (see {@link #topicName}), with at least as many partitions as the address uses. A topic
 * is registered in the state topic before its first record is written, so that a node starting later finds it.
 *
 * <p>Thread-safe; {@link #ensure} blocks (admin calls), so it runs on the store's own threads only.
 */
final class KafkaTopics {
    /** Kafka's limit on a topic's name. */
    static final int MAX_NAME = 249;
    private static final long ADMIN_TIMEOUT_SECONDS = 30;

    /** A data topic and how many partitions it has (only ever grows). */
    static final class Topic {
        private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<Topic> PARTITIONS =
                java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(Topic.class, "partitions");
        final String name;
        /** Read by anyone; written through {@link #grow} only. */
        volatile int partitions;

        Topic(String name, int partitions) {
            this.name = name;
            this.partitions = partitions;
        }

        /** At least {@code partitions}: threads that learn of a growth at once never shrink it (a plain check and write would). */
        void grow(int partitions) {
            PARTITIONS.accumulateAndGet(this, partitions, Math::max);
        }
    }

    private final Admin admin;
    private final KafkaStoreOptions options;
    private final ConcurrentHashMap<Address, Topic> topics = new ConcurrentHashMap<>();
    /** Writes a registry record (topic name, address name) and waits for it. */
    private final BiConsumer<String, String> register;

    KafkaTopics(Admin admin, KafkaStoreOptions options, BiConsumer<String, String> register) {
        this.admin = admin;
        this.options = options;
        this.register = register;
    }

    String stateTopic() {
        return options.topicPrefix() + "state";
    }

    /**
     * The Kafka topic of an address: the prefix, {@code a.}, then the name with {@code /} as {@code .}, letters,
     * digits and {@code -} as they are, and every other byte of its UTF-8 as {@code _} and two hex digits
     * ({@code sensors/t_1} is {@code a.sensors.t_5f1}). Names longer than Kafka allows are cut and end with a hash of
     * the whole name. Either way the registry, not the name, says which address a topic holds.
     */
    static String topicName(String prefix, Address address) {
        StringBuilder b = new StringBuilder(prefix.length() + 2 + address.name().length());
        b.append(prefix).append("a.");
        for (byte x : address.name().getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (x & 0xff);
            if (c == '/') {
                b.append('.');
            } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
                b.append(c);
            } else {
                b.append('_').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            }
        }
        if (b.length() <= MAX_NAME) {
            return b.toString();
        }
        String hash;
        try {
            hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(address.name().getBytes(StandardCharsets.UTF_8)), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return b.substring(0, MAX_NAME - hash.length() - 1) + "-" + hash;
    }

    Topic get(Address address) {
        return topics.get(address);
    }

    Map<Address, Topic> all() {
        return Map.copyOf(topics);
    }

    /** Recovery: the registered topics (name to address) and their partition counts as the cluster has them. */
    void load(Map<String, String> registry, org.apache.kafka.clients.consumer.Consumer<?, ?> consumer) {
        if (registry.isEmpty()) {
            return;
        }
        // all topics in one metadata request, none made by asking (partitionsFor could create a deleted one)
        Map<String, List<org.apache.kafka.common.PartitionInfo>> existing =
                consumer.listTopics(java.time.Duration.ofSeconds(ADMIN_TIMEOUT_SECONDS));
        registry.forEach((name, address) -> {
            List<org.apache.kafka.common.PartitionInfo> partitions = existing.get(name);
            if (partitions != null && !partitions.isEmpty()) { // else registered, then deleted outside the gateway:
                topics.put(Address.of(address), new Topic(name, partitions.size())); // made again on its next append
            }
        });
    }

    /**
     * A topic another node made and registered after this one loaded the registry, with the partitions the cluster
     * shows (more than this node knew of a topic it knew: another node grew it). Returns the topic as now known.
     */
    Topic found(Address address, String name, int partitions) {
        Topic t = topics.computeIfAbsent(address, a -> new Topic(name, partitions));
        t.grow(partitions);
        return t;
    }

    /** The state topic, made if missing: compacted, one partition (one order for all state). */
    void ensureStateTopic() throws Exception {
        ensureCompacted(stateTopic());
    }

    /** Where the active node listens, for the standbys ({@link KafkaEndpoints}): compacted, one partition. */
    String endpointsTopic() {
        return options.topicPrefix() + "endpoints";
    }

    void ensureEndpointsTopic() throws Exception {
        ensureCompacted(endpointsTopic());
    }

    private void ensureCompacted(String name) throws Exception {
        Map<String, String> configs = new HashMap<>(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        create(new NewTopic(name, Optional.of(1), replication()).configs(withInsync(configs)));
    }

    /** The topic of {@code tp}'s address with at least {@code tp.partition() + 1} partitions, made or grown if needed. */
    Topic ensure(TopicPartition tp) throws Exception {
        Topic t = topics.get(tp.address());
        if (t != null && tp.partition() < t.partitions) {
            return t;
        }
        int want = tp.partition() + 1;
        if (t == null) {
            String name = topicName(options.topicPrefix(), tp.address());
            KafkaStoreOptions.Retention r = options.retention().apply(tp.address());
            Map<String, String> configs = new HashMap<>();
            configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);
            configs.put(TopicConfig.RETENTION_MS_CONFIG, "-1"); // age retention is the store's: it waits for cursors (KafkaRetention)
            configs.put(TopicConfig.RETENTION_BYTES_CONFIG, Long.toString(r.bytes() <= 0 ? -1 : r.bytes()));
            configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(options.maxRecordBytes()));
            int partitions = create(new NewTopic(name, Optional.of(want), replication()).configs(withInsync(configs)));
            register.accept(name, tp.address().name()); // before its first record: a restart finds the topic
            t = new Topic(name, Math.max(partitions, want));
            Topic before = topics.putIfAbsent(tp.address(), t);
            t = before == null ? t : before;
        }
        if (tp.partition() >= t.partitions) {
            try {
                admin.createPartitions(Map.of(t.name, NewPartitions.increaseTo(want))).all()
                        .get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof InvalidPartitionsException)) { // grown meanwhile by another thread or node
                    throw e;
                }
            }
            t.grow(partitionsOf(t.name));
        }
        return t;
    }

    /** Creates a topic, or finds it made already; returns its partition count. */
    private int create(NewTopic topic) throws Exception {
        try {
            admin.createTopics(List.of(topic)).all().get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return topic.numPartitions();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
            return partitionsOf(topic.name());
        }
    }

    private int partitionsOf(String name) throws InterruptedException, ExecutionException, TimeoutException {
        return admin.describeTopics(List.of(name)).allTopicNames().get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .get(name).partitions().size();
    }

    private Optional<Short> replication() {
        return options.replicationFactor() == null ? Optional.empty() : Optional.of(options.replicationFactor().shortValue());
    }

    private Map<String, String> withInsync(Map<String, String> configs) {
        if (options.minInsyncReplicas() != null) {
            configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(options.minInsyncReplicas()));
        }
        return configs;
    }
}
