package io.omnibus.kafka;

import io.omnibus.core.spi.Broker;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.OffsetFetchResponse;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The groups' committed offsets: read back at start, written to the broker's durable state before a commit is
 * answered, followed by a core cursor per group and topic (the group's lag in the admin API, the backlog retention
 * keeps for it), and dropped with {@code offsets-retention} once a group without members has not committed for that
 * long. Confined to the coordinator's context, with the groups ({@link GroupCoordinator}), which checks a commit
 * against its group.
 */
final class CommittedOffsets {
    static final String OFFSETS = "kafka.offsets";
    private static final int MAX_METADATA = 4096;

    private record Committed(long offset, int leaderEpoch, String metadata) {
    }

    private final Broker broker;
    private final Vertx vertx;
    /** group → topic → partition → committed. */
    private final Map<String, Map<String, Map<Integer, Committed>>> offsets = new TreeMap<>();
    /** When each group with committed offsets last committed, or was last seen with members (for offsets-retention). */
    private final Map<String, Long> lastActive = new HashMap<>();
    private long expiryTimer = -1;

    CommittedOffsets(Broker broker, Vertx vertx) {
        this.broker = broker;
        this.vertx = vertx;
    }

    /** Reads back the offsets committed before a restart. */
    void load() {
        broker.states(OFFSETS).forEach((key, value) -> {
            int a = key.indexOf('/');
            int b = key.indexOf('/', a + 1);
            String[] v = new String(value, StandardCharsets.UTF_8).split("\n", 3);
            try {
                committed(key.substring(b + 1), key.substring(0, a)).put(Integer.parseInt(key.substring(a + 1, b)),
                        new Committed(Long.parseLong(v[0]), Integer.parseInt(v[1]), v.length > 2 ? v[2] : ""));
            } catch (RuntimeException e) {
                KafkaServer.LOG.error("kafka: committed offset '{}' cannot be read back; ignored: {}", key, e.toString());
            }
        });
    }

    /** Whether {@code group} has offsets committed. */
    boolean has(String group) {
        return offsets.containsKey(group);
    }

    /** The groups with offsets committed. */
    Set<String> groups() {
        return offsets.keySet();
    }

    private Map<Integer, Committed> committed(String group, String topic) {
        return offsets.computeIfAbsent(group, g -> new TreeMap<>()).computeIfAbsent(topic, t -> new TreeMap<>());
    }

    /** Commits what {@code req} asks, or answers every partition {@code check} when it is not NONE (the group refused it). */
    Future<OffsetCommitResponseData> commit(OffsetCommitRequestData req, Errors check) {
        OffsetCommitResponseData r = new OffsetCommitResponseData().setThrottleTimeMs(0);
        List<Future<Void>> writes = new ArrayList<>();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : req.topics()) {
            OffsetCommitResponseData.OffsetCommitResponseTopic out = new OffsetCommitResponseData.OffsetCommitResponseTopic()
                    .setName(t.name());
            r.topics().add(out);
            int partitions = partitionsOf(t.name());
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                OffsetCommitResponseData.OffsetCommitResponsePartition po =
                        new OffsetCommitResponseData.OffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex());
                out.partitions().add(po);
                String metadata = p.committedMetadata() == null ? "" : p.committedMetadata();
                if (check != Errors.NONE) {
                    po.setErrorCode(check.code());
                } else if (partitions < 0) {
                    po.setErrorCode(partitions == -2 ? Errors.TOPIC_AUTHORIZATION_FAILED.code()
                            : Errors.INVALID_TOPIC_EXCEPTION.code());
                } else if (p.partitionIndex() >= partitions) {
                    po.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (metadata.length() > MAX_METADATA) {
                    po.setErrorCode(Errors.OFFSET_METADATA_TOO_LARGE.code());
                } else if (p.committedOffset() < 0 || p.partitionIndex() < 0) {
                    po.setErrorCode(Errors.INVALID_COMMIT_OFFSET_SIZE.code());
                } else {
                    Committed c = new Committed(p.committedOffset(), p.committedLeaderEpoch(), metadata);
                    byte[] value = (c.offset + "\n" + c.leaderEpoch + "\n" + c.metadata).getBytes(StandardCharsets.UTF_8);
                    io.omnibus.core.spi.Address address = KafkaNames.toAddress(t.name());
                    writes.add(broker.putState(OFFSETS, key(req.groupId(), t.name(), p.partitionIndex()), value)
                            .onSuccess(v -> { // once durable
                                committed(req.groupId(), t.name()).put(p.partitionIndex(), c);
                                lastActive.put(req.groupId(), System.currentTimeMillis());
                                broker.commitPosition(cursorName(req.groupId(), address), address, p.partitionIndex(),
                                        c.offset).onFailure(e -> KafkaServer.LOG.warn("kafka: group {}: its cursor on {} "
                                        + "was not moved: {}", req.groupId(), address, e.toString()));
                            })
                            .recover(e -> {
                                po.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
                                return Future.succeededFuture();
                            }));
                }
            }
        }
        return Future.join(writes).map(cf -> r);
    }

    /** The partition count of a Kafka topic name: -1 when the name is not valid, -2 when it is not for Kafka
     * clients ('$'), 0 when there is no such topic. */
    private int partitionsOf(String topic) {
        try {
            io.omnibus.core.spi.Address a = KafkaNames.toAddress(topic);
            return KafkaNames.readable(a) ? broker.logs().partitionCount(a) : -2;
        } catch (io.omnibus.core.spi.InvalidAddressException e) {
            return -1;
        }
    }

    /** The group's cursor in the core (one per topic): its lag in the admin API, its backlog kept by retention. */
    static String cursorName(String group, io.omnibus.core.spi.Address address) {
        return "kafka-group:" + group + "@" + address.name();
    }

    private static String key(String group, String topic, int partition) {
        return topic + "/" + partition + "/" + group; // Kafka topic names hold no '/'
    }

    /**
     * Versions before 8 ask for one group at the top level, later ones for a list: the request is read as a list,
     * and kafka-clients' {@link OffsetFetchResponse.Builder} writes the answer in the shape the version has.
     */
    Future<OffsetFetchResponseData> fetch(OffsetFetchRequestData req, short version) {
        List<OffsetFetchRequestData.OffsetFetchRequestGroup> asked = version >= 8 ? req.groups() : List.of(asGroup(req));
        List<OffsetFetchResponseData.OffsetFetchResponseGroup> answered = new ArrayList<>();
        for (OffsetFetchRequestData.OffsetFetchRequestGroup grp : asked) {
            OffsetFetchResponseData.OffsetFetchResponseGroup og = new OffsetFetchResponseData.OffsetFetchResponseGroup()
                    .setGroupId(grp.groupId()).setErrorCode(Errors.NONE.code());
            Map<String, Map<Integer, Committed>> have = offsets.getOrDefault(grp.groupId(), Map.of());
            Map<String, Map<Integer, Committed>> wanted = have;
            if (grp.topics() != null) { // null: everything the group committed
                wanted = new LinkedHashMap<>();
                for (OffsetFetchRequestData.OffsetFetchRequestTopics t : grp.topics()) {
                    Map<Integer, Committed> known = have.getOrDefault(t.name(), Map.of());
                    Map<Integer, Committed> answer = new LinkedHashMap<>();
                    t.partitionIndexes().forEach(p -> answer.put(p, known.get(p)));
                    wanted.put(t.name(), answer);
                }
            }
            wanted.forEach((topic, partitions) -> {
                OffsetFetchResponseData.OffsetFetchResponseTopics out = new OffsetFetchResponseData.OffsetFetchResponseTopics()
                        .setName(topic);
                partitions.forEach((p, c) -> out.partitions().add(new OffsetFetchResponseData.OffsetFetchResponsePartitions()
                        .setPartitionIndex(p).setCommittedOffset(c == null ? -1 : c.offset)
                        .setCommittedLeaderEpoch(c == null ? -1 : c.leaderEpoch).setMetadata(c == null ? "" : c.metadata)
                        .setErrorCode(Errors.NONE.code())));
                og.topics().add(out);
            });
            answered.add(og);
        }
        return Future.succeededFuture(new OffsetFetchResponse.Builder(answered).build(version).data().setThrottleTimeMs(0));
    }

    /** A request of version 0 to 7 as the one group it asks about (topics null: all of them). */
    private static OffsetFetchRequestData.OffsetFetchRequestGroup asGroup(OffsetFetchRequestData req) {
        OffsetFetchRequestData.OffsetFetchRequestGroup g = new OffsetFetchRequestData.OffsetFetchRequestGroup()
                .setGroupId(req.groupId()).setTopics(req.topics() == null ? null : new ArrayList<>());
        if (req.topics() != null) {
            req.topics().forEach(t -> g.topics().add(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(t.name())
                    .setPartitionIndexes(t.partitionIndexes())));
        }
        return g;
    }

    /**
     * Checks, now and then, for groups whose offsets have outlived {@code retention}; {@code inUse} says whether a
     * group has members now.
     */
    void startExpiry(long retention, Predicate<String> inUse) {
        long period = Math.max(1000, Math.min(60_000, retention / 4));
        expiryTimer = vertx.setPeriodic(period, t -> expire(System.currentTimeMillis(), retention, inUse));
    }

    void stopExpiry() {
        if (expiryTimer >= 0) {
            vertx.cancelTimer(expiryTimer);
            expiryTimer = -1;
        }
    }

    /**
     * Kafka's {@code offsets.retention.minutes}: a group without members whose last commit (or last member) is older
     * than the retention loses its committed offsets and its core cursors, so it no longer holds the topics' retention.
     * After a restart the time counts from the start.
     */
    void expire(long now, long retention, Predicate<String> inUse) {
        for (String group : List.copyOf(offsets.keySet())) {
            if (inUse.test(group)) {
                lastActive.put(group, now);
                continue;
            }
            long since = lastActive.computeIfAbsent(group, x -> now);
            if (now - since < retention) {
                continue;
            }
            Map<String, Map<Integer, Committed>> topics = offsets.remove(group);
            lastActive.remove(group);
            KafkaServer.LOG.info("kafka: group {} had no members for {} ms since its last commit: its offsets expire", group,
                    now - since);
            topics.forEach((topic, partitions) -> {
                partitions.keySet().forEach(p -> broker.putState(OFFSETS, key(group, topic, p), null));
                try {
                    broker.unsubscribe(cursorName(group, KafkaNames.toAddress(topic)));
                } catch (io.omnibus.core.spi.InvalidAddressException e) {
                    // a name that never was an address has no cursor
                }
            });
        }
    }

    /** A deleted topic's committed offsets go with it. */
    Future<Void> forgetTopic(String topic) {
        List<Future<Void>> writes = new ArrayList<>();
        offsets.forEach((group, topics) -> {
            Map<Integer, Committed> gone = topics.remove(topic);
            if (gone != null) {
                gone.keySet().forEach(p -> writes.add(broker.putState(OFFSETS, key(group, topic, p), null)));
                writes.add(broker.unsubscribe(cursorName(group, KafkaNames.toAddress(topic))));
            }
        });
        return Future.join(writes).mapEmpty();
    }
}
