package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Authorizer;
import io.vertx.core.Future;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

import java.util.List;

/**
 * What one Kafka client may do under the gateway's rules, for the user it authenticated as: produce to an address,
 * fetch from it, see it in Metadata, commit its offsets, use a consumer group. Confined to the connection's context.
 */
final class KafkaAccess {
    private final KafkaConnection conn;

    KafkaAccess(KafkaConnection conn) {
        this.conn = conn;
    }

    /** Whether this client may produce to {@code address} (never to the gateway's '$' addresses). */
    boolean mayPublish(Address address) {
        return KafkaNames.writable(address) && allowed(Authorizer.Action.PUBLISH, address.name());
    }

    /** Whether this client may fetch from {@code address}, list its offsets or commit them. */
    boolean maySubscribe(Address address) {
        return KafkaNames.readable(address) && allowed(Authorizer.Action.SUBSCRIBE, address.name());
    }

    /** Whether this client may see {@code address} in Metadata: it may produce to it or fetch from it. */
    boolean maySee(Address address) {
        return KafkaNames.readable(address) && (mayPublish(address) || maySubscribe(address));
    }

    boolean allowed(Authorizer.Action action, String resource) {
        Authorizer rules = conn.server().ctx.authorizer();
        // %c is not offered: a Kafka client.id is whatever the client says
        return !rules.enforced() || rules.allows(conn.user(), null, action, resource);
    }

    /**
     * OffsetCommit: topics this client may not fetch from are answered TOPIC_AUTHORIZATION_FAILED (their offsets
     * are not stored); the rest go to the coordinator.
     */
    Future<org.apache.kafka.common.message.OffsetCommitResponseData> commit(
            org.apache.kafka.common.message.OffsetCommitRequestData request) {
        List<org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic> denied = new java.util.ArrayList<>();
        if (conn.server().ctx.authorizer().enforced()) {
            for (var t : request.topics()) {
                try {
                    if (!maySubscribe(KafkaNames.toAddress(t.name()))) {
                        denied.add(t);
                    }
                } catch (io.omnibus.core.spi.InvalidAddressException e) {
                    // the coordinator answers it
                }
            }
            request.topics().removeAll(denied);
        }
        return conn.server().onCoordinator(c -> c.commit(request)).map(response -> {
            for (var t : denied) {
                var topic = new org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic()
                        .setName(t.name());
                for (var p : t.partitions()) {
                    topic.partitions().add(new org.apache.kafka.common.message.OffsetCommitResponseData
                            .OffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex())
                            .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                }
                response.topics().add(topic);
            }
            return response;
        });
    }

    /**
     * The answer to a group request this client may not make (GROUP_AUTHORIZATION_FAILED in the request's own
     * response shape), or null when it may (and always without rules).
     */
    ApiMessage groupRefusal(ApiKeys api, short version, ApiMessage request) {
        if (!conn.server().ctx.authorizer().enforced()) {
            return null;
        }
        String denied = null;
        for (String group : groupsOf(request)) {
            if (group != null && !allowed(Authorizer.Action.CONSUMER_GROUP, group)) {
                denied = group;
                break;
            }
        }
        if (denied == null) {
            return null;
        }
        KafkaServer.LOG.info("kafka {} ({} as {}): {} refused: group '{}' is not allowed", conn.id, conn.clientId(),
                conn.user(), api.name, denied);
        org.apache.kafka.common.requests.AbstractRequest parsed = org.apache.kafka.common.requests.AbstractRequest
                .parseRequest(api, version, org.apache.kafka.common.protocol.MessageUtil.toByteBufferAccessor(request, version)).request;
        return parsed.getErrorResponse(0, new org.apache.kafka.common.errors.GroupAuthorizationException(
                "not authorized to use group '" + denied + "'")).data();
    }

    /** Every group a request names (one refused group refuses the whole request). */
    private static List<String> groupsOf(ApiMessage request) {
        if (request instanceof org.apache.kafka.common.message.JoinGroupRequestData r) {
            return List.of(r.groupId());
        } else if (request instanceof org.apache.kafka.common.message.SyncGroupRequestData r) {
            return List.of(r.groupId());
        } else if (request instanceof org.apache.kafka.common.message.HeartbeatRequestData r) {
            return List.of(r.groupId());
        } else if (request instanceof org.apache.kafka.common.message.LeaveGroupRequestData r) {
            return List.of(r.groupId());
        } else if (request instanceof org.apache.kafka.common.message.OffsetCommitRequestData r) {
            return List.of(r.groupId());
        } else if (request instanceof org.apache.kafka.common.message.OffsetFetchRequestData r) {
            return r.groups().isEmpty() ? java.util.Collections.singletonList(r.groupId())
                    : r.groups().stream().map(g -> g.groupId()).toList();
        } else if (request instanceof org.apache.kafka.common.message.FindCoordinatorRequestData r && r.keyType() == 0) {
            return r.coordinatorKeys().isEmpty() ? java.util.Collections.singletonList(r.key()) : r.coordinatorKeys();
        } else if (request instanceof org.apache.kafka.common.message.DescribeGroupsRequestData r) {
            return r.groups();
        }
        return List.of();
    }
}
