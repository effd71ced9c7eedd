package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.Logs;
import io.vertx.core.Future;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ListOffsetsRequest;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cluster and topic APIs: one node (the gateway, at its advertised address) leads every partition of every
 * topic, is the controller and the group coordinator. Topics are the broker's addresses under their Kafka names.
 */
final class Topics {
    private static final byte CONFIG_SOURCE_DEFAULT = 5;
    private static final byte RESOURCE_TOPIC = 2;
    private static final byte RESOURCE_BROKER = 4;

    private final KafkaServer server;
    private final Logs logs;
    /** Topics being made because Metadata asked for them: LEADER_NOT_AVAILABLE until their count is kept. */
    private final Set<Address> creating = ConcurrentHashMap.newKeySet();

    Topics(KafkaServer server) {
        this.server = server;
        this.logs = server.ctx.broker().logs();
    }

    private int node() {
        return server.config.nodeId();
    }

    /** A stable topic id derived from the name, so it survives restarts without being stored. */
    static Uuid topicId(String kafkaName) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(kafkaName.getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = ByteBuffer.wrap(d);
            return new Uuid(b.getLong() & ~0x1L | 0x2L, b.getLong()); // never ZERO_UUID or METADATA_TOPIC_ID
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- Metadata -----------------------------------------------------------------------------------------------

    Future<MetadataResponseData> metadata(KafkaConnection connection, MetadataRequestData request, short version) {
        MetadataResponseData response = new MetadataResponseData().setThrottleTimeMs(0)
                .setClusterId(server.config.clusterId()).setControllerId(node());
        response.brokers().add(new MetadataResponseData.MetadataResponseBroker().setNodeId(node())
                .setHost(server.config.advertisedHost()).setPort(connection.advertisedPort()));
        boolean all = request.topics() == null || version == 0 && request.topics().isEmpty();
        if (all) {
            logs.topics().forEach((address, count) -> {
                String name = KafkaNames.toKafka(address);
                if (name != null && !creating.contains(address) && connection.access.maySee(address)) {
                    response.topics().add(describe(name, address, count));
                }
            });
            return Future.succeededFuture(response);
        }
        boolean mayCreate = server.config.autoCreateTopics() && (version < 4 || request.allowAutoTopicCreation());
        for (MetadataRequestData.MetadataRequestTopic t : request.topics()) {
            String name = t.name() != null ? t.name() : nameOf(t.topicId(), logs.topics());
            if (name == null) {
                response.topics().add(new MetadataResponseTopic().setTopicId(t.topicId())
                        .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                continue;
            }
            Address address;
            try {
                address = KafkaNames.toAddress(name);
            } catch (InvalidAddressException e) {
                response.topics().add(new MetadataResponseTopic().setName(name).setErrorCode(
                        Errors.INVALID_TOPIC_EXCEPTION.code()));
                continue;
            }
            int count = logs.partitionCount(address);
            if (!connection.access.maySee(address) || count == 0 && !KafkaNames.writable(address)) {
                response.topics().add(new MetadataResponseTopic().setName(name).setErrorCode(
                        Errors.TOPIC_AUTHORIZATION_FAILED.code()));
            } else if (count > 0 && !creating.contains(address)) {
                response.topics().add(describe(name, address, count));
            } else if (count == 0 && (!mayCreate || !connection.access.mayPublish(address))) {
                // a client that may only read waits for the topic to be made: it is not made for it
                response.topics().add(new MetadataResponseTopic().setName(name).setTopicId(Uuid.ZERO_UUID)
                        .setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
            } else {
                if (count == 0 && creating.add(address)) {
                    logs.partitions(address, server.config.partitions(), true).onComplete(ar -> creating.remove(address));
                }
                response.topics().add(new MetadataResponseTopic().setName(name).setTopicId(topicId(name))
                        .setErrorCode(Errors.LEADER_NOT_AVAILABLE.code()));
            }
        }
        return Future.succeededFuture(response);
    }

    private static String nameOf(Uuid id, Map<Address, Integer> existing) {
        for (Address a : existing.keySet()) {
            String name = KafkaNames.toKafka(a);
            if (name != null && topicId(name).equals(id)) {
                return name;
            }
        }
        return null;
    }

    private MetadataResponseTopic describe(String name, Address address, int count) {
        MetadataResponseTopic topic = new MetadataResponseTopic().setName(name).setTopicId(topicId(name))
                .setErrorCode(Errors.NONE.code()).setIsInternal(address.isSystem());
        for (int p = 0; p < count; p++) {
            topic.partitions().add(new MetadataResponsePartition().setPartitionIndex(p).setErrorCode(Errors.NONE.code())
                    .setLeaderId(node()).setLeaderEpoch(0).setReplicaNodes(List.of(node())).setIsrNodes(List.of(node()))
                    .setOfflineReplicas(List.of()));
        }
        return topic;
    }

    DescribeClusterResponseData describeCluster(KafkaConnection connection) {
        DescribeClusterResponseData response = new DescribeClusterResponseData().setClusterId(server.config.clusterId())
                .setControllerId(node()).setErrorCode(Errors.NONE.code());
        response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker().setBrokerId(node())
                .setHost(server.config.advertisedHost()).setPort(connection.advertisedPort()));
        return response;
    }

    FindCoordinatorResponseData findCoordinator(KafkaConnection connection, FindCoordinatorRequestData request, short version) {
        FindCoordinatorResponseData response = new FindCoordinatorResponseData().setThrottleTimeMs(0);
        Errors error = switch (request.keyType()) {
            case 0 -> Errors.NONE;
            case 1 -> Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED; // no transactions: fail fast, not retriable
            default -> Errors.INVALID_REQUEST;
        };
        String message = error == Errors.NONE ? null : "only consumer groups are coordinated here; transactions and "
                + "share groups are not supported";
        boolean ok = error == Errors.NONE;
        int nodeId = ok ? node() : -1;
        String host = ok ? server.config.advertisedHost() : "";
        int port = ok ? connection.advertisedPort() : -1;
        if (version < 4) {
            return response.setErrorCode(error.code()).setErrorMessage(message).setNodeId(nodeId).setHost(host).setPort(port);
        }
        for (String key : request.coordinatorKeys()) {
            response.coordinators().add(new FindCoordinatorResponseData.Coordinator().setKey(key).setErrorCode(error.code())
                    .setErrorMessage(message).setNodeId(nodeId).setHost(host).setPort(port));
        }
        return response;
    }

    // ---- ListOffsets --------------------------------------------------------------------------------------------

    Future<ListOffsetsResponseData> listOffsets(KafkaConnection connection, ListOffsetsRequestData request) {
        List<Future<ListOffsetsTopicResponse>> topics = new ArrayList<>();
        for (ListOffsetsRequestData.ListOffsetsTopic t : request.topics()) {
            Address address = addressOrNull(t.name());
            int count = address == null ? 0 : logs.partitionCount(address);
            List<Future<ListOffsetsPartitionResponse>> parts = new ArrayList<>();
            for (ListOffsetsRequestData.ListOffsetsPartition p : t.partitions()) {
                ListOffsetsPartitionResponse r = new ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex())
                        .setTimestamp(-1).setOffset(-1);
                if (address == null) {
                    parts.add(Future.succeededFuture(r.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())));
                } else if (!connection.access.maySubscribe(address)) {
                    parts.add(Future.succeededFuture(r.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())));
                } else if (p.partitionIndex() < 0 || p.partitionIndex() >= count) {
                    parts.add(Future.succeededFuture(r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())));
                } else {
                    parts.add(offsetFor(address, p.partitionIndex(), p.timestamp(), r)
                            .recover(e -> Future.succeededFuture(r.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code())
                                    .setOffset(-1).setTimestamp(-1))));
                }
            }
            topics.add(Future.join(parts).map(cf -> {
                ListOffsetsTopicResponse out = new ListOffsetsTopicResponse().setName(t.name());
                for (int i = 0; i < cf.size(); i++) {
                    out.partitions().add(cf.resultAt(i));
                }
                return out;
            }));
        }
        return Future.join(topics).map(cf -> {
            ListOffsetsResponseData response = new ListOffsetsResponseData().setThrottleTimeMs(0);
            for (int i = 0; i < cf.size(); i++) {
                response.topics().add(cf.resultAt(i));
            }
            return response;
        });
    }

    private Future<ListOffsetsPartitionResponse> offsetFor(Address a, int p, long timestamp, ListOffsetsPartitionResponse r) {
        r.setErrorCode(Errors.NONE.code());
        long start = logs.startOffset(a, p);
        long end = logs.endOffset(a, p);
        if (timestamp == ListOffsetsRequest.LATEST_TIMESTAMP) {
            return Future.succeededFuture(r.setOffset(end));
        }
        if (timestamp == ListOffsetsRequest.EARLIEST_TIMESTAMP || timestamp == ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP) {
            return Future.succeededFuture(r.setOffset(start));
        }
        if (timestamp == ListOffsetsRequest.MAX_TIMESTAMP) {
            // approximated by the last message: creation times are the producers' and need not grow
            return end > start ? withTimestamp(a, p, end - 1, r) : Future.succeededFuture(r);
        }
        if (timestamp < 0) {
            return Future.succeededFuture(r.setErrorCode(Errors.INVALID_REQUEST.code()));
        }
        return logs.offsetAt(a, p, timestamp).compose(o -> o >= end ? Future.succeededFuture(r) : withTimestamp(a, p, o, r));
    }

    private Future<ListOffsetsPartitionResponse> withTimestamp(Address a, int p, long offset, ListOffsetsPartitionResponse r) {
        return logs.read(a, p, offset, 1).map(found -> found.isEmpty() ? r
                : r.setOffset(found.get(0).offset()).setTimestamp(found.get(0).envelope().createdAt()));
    }

    // ---- CreateTopics, DeleteTopics, DescribeConfigs ----------------------------------------------------------

    Future<CreateTopicsResponseData> createTopics(KafkaConnection connection, CreateTopicsRequestData request) {
        List<Future<CreatableTopicResult>> results = new ArrayList<>();
        for (CreateTopicsRequestData.CreatableTopic t : request.topics()) {
            CreatableTopicResult r = new CreatableTopicResult().setName(t.name()).setTopicConfigErrorCode(Errors.NONE.code());
            Address address;
            try {
                address = KafkaNames.toAddress(t.name());
            } catch (InvalidAddressException e) {
                results.add(Future.succeededFuture(failed(r, Errors.INVALID_TOPIC_EXCEPTION, e.getMessage())));
                continue;
            }
            // -1: kafka.partitions, or the broker's per-address count when that is 0
            int partitions = t.numPartitions() == -1 ? server.config.partitions() : t.numPartitions();
            String compact = null;
            for (CreateTopicsRequestData.CreatableTopicConfig c : t.configs()) {
                if (c.name().equals("cleanup.policy") && c.value() != null && c.value().contains("compact")) {
                    compact = "cleanup.policy=compact is not supported: logs are kept by age and size";
                }
            }
            if (!KafkaNames.writable(address)) {
                results.add(Future.succeededFuture(failed(r, Errors.TOPIC_AUTHORIZATION_FAILED,
                        "'$' addresses belong to the gateway")));
            } else if (!connection.access.allowed(io.omnibus.core.spi.Authorizer.Action.ADMIN_OPERATE, null)) {
                results.add(Future.succeededFuture(failed(r, Errors.TOPIC_AUTHORIZATION_FAILED,
                        "creating topics needs admin: operate")));
            } else if (logs.partitionCount(address) > 0) {
                results.add(Future.succeededFuture(failed(r, Errors.TOPIC_ALREADY_EXISTS, "topic '" + t.name()
                        + "' already exists")));
            } else if (t.numPartitions() != -1 && (t.numPartitions() < 1 || t.numPartitions() > 10_000)) {
                results.add(Future.succeededFuture(failed(r, Errors.INVALID_PARTITIONS, "the number of partitions must be "
                        + "1 to 10000 (or -1 for the default), not " + t.numPartitions())));
            } else if (t.replicationFactor() > 1 || t.replicationFactor() == 0 || t.replicationFactor() < -1) {
                results.add(Future.succeededFuture(failed(r, Errors.INVALID_REPLICATION_FACTOR, "the gateway is one node: "
                        + "the replication factor is 1 (or -1), not " + t.replicationFactor())));
            } else if (!t.assignments().isEmpty()) {
                results.add(Future.succeededFuture(failed(r, Errors.INVALID_REPLICA_ASSIGNMENT,
                        "replica assignments are not supported: the gateway is one node")));
            } else if (compact != null) {
                results.add(Future.succeededFuture(failed(r, Errors.INVALID_CONFIG, compact)));
            } else if (request.validateOnly()) {
                results.add(Future.succeededFuture(created(r, t.name(), Math.max(partitions, 1))));
            } else {
                results.add(logs.partitions(address, Math.max(partitions, 0), true)
                        .map(n -> created(r, t.name(), n))
                        .recover(e -> Future.succeededFuture(failed(r, ProduceHandler.errorOf(e), e.getMessage()))));
            }
        }
        return Future.join(results).map(cf -> {
            CreateTopicsResponseData response = new CreateTopicsResponseData().setThrottleTimeMs(0);
            for (int i = 0; i < cf.size(); i++) {
                response.topics().add(cf.resultAt(i));
            }
            return response;
        });
    }

    private static CreatableTopicResult created(CreatableTopicResult r, String name, int partitions) {
        return r.setErrorCode(Errors.NONE.code()).setNumPartitions(partitions).setReplicationFactor((short) 1)
                .setTopicId(topicId(name));
    }

    private static CreatableTopicResult failed(CreatableTopicResult r, Errors error, String message) {
        return r.setErrorCode(error.code()).setErrorMessage(message).setConfigs(null);
    }

    Future<DeleteTopicsResponseData> deleteTopics(KafkaConnection connection, DeleteTopicsRequestData request, short version) {
        List<Future<DeletableTopicResult>> results = new ArrayList<>();
        for (String name : request.topicNames()) {
            DeletableTopicResult r = new DeletableTopicResult().setName(name);
            Address address = addressOrNull(name);
            if (address == null) {
                results.add(Future.succeededFuture(r.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())));
                continue;
            }
            if (!KafkaNames.writable(address) || !connection.access.allowed(io.omnibus.core.spi.Authorizer.Action.ADMIN_OPERATE, null)) {
                results.add(Future.succeededFuture(r.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())));
                continue;
            }
            results.add(logs.delete(address).compose(existed -> {
                if (!existed) {
                    return Future.succeededFuture(r.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
                }
                return server.onCoordinator(c -> c.forgetTopic(name)).map(v -> r.setErrorCode(Errors.NONE.code()));
            }).recover(e -> Future.succeededFuture(r.setErrorCode(ProduceHandler.errorOf(e).code())
                    .setErrorMessage(e.getMessage()))));
        }
        return Future.join(results).map(cf -> {
            DeleteTopicsResponseData response = new DeleteTopicsResponseData().setThrottleTimeMs(0);
            for (int i = 0; i < cf.size(); i++) {
                response.responses().add(cf.resultAt(i));
            }
            return response;
        });
    }

    Future<DescribeConfigsResponseData> describeConfigs(KafkaConnection connection, DescribeConfigsRequestData request) {
        DescribeConfigsResponseData response = new DescribeConfigsResponseData().setThrottleTimeMs(0);
        for (DescribeConfigsRequestData.DescribeConfigsResource res : request.resources()) {
            DescribeConfigsResponseData.DescribeConfigsResult result = new DescribeConfigsResponseData.DescribeConfigsResult()
                    .setResourceType(res.resourceType()).setResourceName(res.resourceName()).setErrorCode(Errors.NONE.code());
            Map<String, String> configs = new LinkedHashMap<>();
            if (res.resourceType() == RESOURCE_TOPIC) {
                Address address = addressOrNull(res.resourceName());
                if (address != null && !connection.access.maySee(address)) {
                    response.results().add(result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                            .setErrorMessage("not authorized to describe '" + res.resourceName() + "'"));
                    continue;
                }
                if (address == null || logs.partitionCount(address) == 0) {
                    response.results().add(result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                            .setErrorMessage("no topic '" + res.resourceName() + "'"));
                    continue;
                }
                configs.put("cleanup.policy", "delete");
                // the producer's batches kept as they came, or fetched as uncompressed batches rebuilt from the messages
                configs.put("compression.type", logs.keepsBatches() ? "producer" : "uncompressed");
                configs.put("max.message.bytes", Integer.toString(server.ctx.broker().maxMessageSize()));
                configs.put("message.timestamp.type", "CreateTime");
                configs.put("min.insync.replicas", "1");
            } else if (res.resourceType() == RESOURCE_BROKER) {
                configs.put("advertised.listeners", connection.listenerName() + "://"
                        + server.config.advertisedHost() + ":" + connection.advertisedPort());
                configs.put("auto.create.topics.enable", Boolean.toString(server.config.autoCreateTopics()));
                configs.put("message.max.bytes", Integer.toString(server.ctx.broker().maxMessageSize()));
                configs.put("socket.request.max.bytes", Integer.toString(server.config.maxRequestSize()));
                configs.put("group.initial.rebalance.delay.ms", Long.toString(
                        server.config.initialRebalanceDelay().toMillis()));
            } else {
                response.results().add(result.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("only topic and broker configurations can be described"));
                continue;
            }
            configs.forEach((name, value) -> {
                if (res.configurationKeys() == null || res.configurationKeys().contains(name)) {
                    result.configs().add(new DescribeConfigsResourceResult().setName(name).setValue(value)
                            .setReadOnly(true).setConfigSource(CONFIG_SOURCE_DEFAULT).setIsSensitive(false));
                }
            });
            response.results().add(result);
        }
        return Future.succeededFuture(response);
    }

    private static Address addressOrNull(String name) {
        try {
            return KafkaNames.toAddress(name);
        } catch (InvalidAddressException e) {
            return null;
        }
    }
}
