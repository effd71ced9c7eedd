package io.omnibus.kafka;

import io.omnibus.core.spi.Broker;
import io.omnibus.kafka.ConsumerGroup.Member;
import io.omnibus.kafka.ConsumerGroup.State;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The classic consumer group protocol (KIP-62 timeouts, KIP-394 member ids) as one Kafka node coordinates it, with
 * the groups' committed offsets ({@link CommittedOffsets}) and the producer ids ({@link ProducerIds}); confined to its
 * own context ({@link KafkaServer#onCoordinator}).
 *
 * <p>A group goes Empty → PreparingRebalance (members join; the first assignment of a new group waits
 * {@code group-initial-rebalance-delay} for more) → CompletingRebalance (the leader assigns) → Stable. A member
 * that joins, leaves or misses its session timeout sends the group back to PreparingRebalance; the others learn
 * it from REBALANCE_IN_PROGRESS on their heartbeat and rejoin within the rebalance timeout, or are dropped.
 * Committed offsets are written to the broker's durable state before the commit is answered; membership is
 * not kept across restarts (members rejoin, as after a coordinator move). Static membership (KIP-345) is not
 * supported: a group instance id is accepted and ignored.
 */
final class GroupCoordinator {

    private final KafkaServer server;
    private final Broker broker;
    private final Vertx vertx;
    private final Map<String, ConsumerGroup> groups = new HashMap<>();
    private final CommittedOffsets offsets;
    private final ProducerIds producerIds;

    GroupCoordinator(KafkaServer server) {
        this.server = server;
        this.broker = server.ctx.broker();
        this.vertx = server.ctx.vertx();
        this.offsets = new CommittedOffsets(broker, vertx);
        this.producerIds = new ProducerIds(broker);
    }

    /** Reads the committed offsets and the producer ids handed out before a restart. */
    Future<Void> load() {
        offsets.load();
        producerIds.load();
        return Future.succeededFuture();
    }

    // ---- offsets (CommittedOffsets), checked against the groups here --------------------------------------------

    Future<OffsetCommitResponseData> commit(OffsetCommitRequestData req) {
        return offsets.commit(req, commitCheck(req));
    }

    private Errors commitCheck(OffsetCommitRequestData req) {
        if (req.groupId() == null || req.groupId().isEmpty()) {
            return Errors.INVALID_GROUP_ID;
        }
        ConsumerGroup g = groups.get(req.groupId());
        boolean simple = req.generationIdOrMemberEpoch() < 0 && (req.memberId() == null || req.memberId().isEmpty());
        if (g == null || g.members.isEmpty()) {
            return simple ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
        }
        if (simple) {
            return Errors.UNKNOWN_MEMBER_ID; // the group is in use: only its members commit
        }
        if (g.state == State.COMPLETING_REBALANCE) {
            return Errors.REBALANCE_IN_PROGRESS;
        }
        if (!g.members.containsKey(req.memberId())) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        return req.generationIdOrMemberEpoch() == g.generation ? Errors.NONE : Errors.ILLEGAL_GENERATION;
    }

    Future<OffsetFetchResponseData> fetchOffsets(OffsetFetchRequestData req, short version) {
        return offsets.fetch(req, version);
    }

    /** Checks, now and then, for groups without members whose offsets have outlived {@code offsets-retention}. */
    void startOffsetsExpiry() {
        offsets.startExpiry(server.config.offsetsRetention().toMillis(), this::inUse);
    }

    private boolean inUse(String group) {
        ConsumerGroup g = groups.get(group);
        return g != null && !g.members.isEmpty();
    }

    /** A deleted topic's committed offsets go with it. */
    Future<Void> forgetTopic(String topic) {
        return offsets.forgetTopic(topic);
    }

    Future<InitProducerIdResponseData> initProducerId(InitProducerIdRequestData req) {
        return producerIds.initProducerId(req);
    }

    // ---- JoinGroup ---------------------------------------------------------------------------------------------

    Future<JoinGroupResponseData> join(JoinGroupRequestData req, short version, String clientId, String clientHost) {
        JoinGroupResponseData error = new JoinGroupResponseData().setMemberId(req.memberId()).setGenerationId(-1)
                .setProtocolName(version >= 7 ? null : "").setLeader("");
        if (req.groupId() == null || req.groupId().isEmpty()) {
            return Future.succeededFuture(error.setErrorCode(Errors.INVALID_GROUP_ID.code()));
        }
        if (req.sessionTimeoutMs() < server.config.minSessionTimeout().toMillis()
                || req.sessionTimeoutMs() > server.config.maxSessionTimeout().toMillis()) {
            return Future.succeededFuture(error.setErrorCode(Errors.INVALID_SESSION_TIMEOUT.code()));
        }
        if (req.protocolType() == null || req.protocolType().isEmpty() || req.protocols().isEmpty()) {
            return Future.succeededFuture(error.setErrorCode(Errors.INCONSISTENT_GROUP_PROTOCOL.code()));
        }
        if (!groups.containsKey(req.groupId()) && !req.memberId().isEmpty()) {
            // a member of a group that is gone (a restart, or it emptied): it joins again without its id
            return Future.succeededFuture(error.setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
        }
        ConsumerGroup group = groups.computeIfAbsent(req.groupId(), ConsumerGroup::new);
        LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();
        req.protocols().forEach(p -> protocols.putIfAbsent(p.name(), p.metadata()));
        if (!group.members.isEmpty() && (!req.protocolType().equals(group.protocolType) || !group.commonProtocol(protocols))) {
            return Future.succeededFuture(error.setErrorCode(Errors.INCONSISTENT_GROUP_PROTOCOL.code()));
        }
        String memberId = req.memberId();
        Member m = group.members.get(memberId);
        if (memberId.isEmpty()) {
            String id = (clientId.isEmpty() ? "member" : clientId) + "-" + UUID.randomUUID();
            if (version >= 4) { // KIP-394: the client joins again with this id
                long expiry = vertx.setTimer(req.sessionTimeoutMs(), t -> {
                    group.pending.remove(id);
                    dropIfUnused(group);
                });
                group.pending.put(id, expiry);
                return Future.succeededFuture(error.setMemberId(id).setErrorCode(Errors.MEMBER_ID_REQUIRED.code()));
            }
            memberId = id;
        } else if (m == null) {
            Long expiry = group.pending.remove(memberId);
            if (expiry == null) {
                return Future.succeededFuture(error.setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
            }
            vertx.cancelTimer(expiry);
        }
        boolean isNew = m == null;
        if (isNew) {
            m = new Member(memberId, clientId, clientHost);
            group.members.put(memberId, m);
        }
        boolean changed = isNew || !ConsumerGroup.sameProtocols(m.protocols, protocols);
        m.protocols = protocols;
        m.sessionTimeout = req.sessionTimeoutMs();
        m.rebalanceTimeout = req.rebalanceTimeoutMs() > 0 ? req.rebalanceTimeoutMs() : req.sessionTimeoutMs();
        group.protocolType = req.protocolType();
        if (group.state == State.STABLE && !changed && !memberId.equals(group.leader)) {
            // a follower rejoining with nothing new: the current generation stands (as Kafka answers)
            scheduleSession(group, m);
            return Future.succeededFuture(group.joinAnswer(m));
        }
        if (m.joining != null) { // a repeated join replaces the one waiting
            m.joining.tryComplete(error.setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
        }
        Promise<JoinGroupResponseData> answer = Promise.promise();
        m.joining = answer;
        cancelSession(m);
        if (group.state != State.PREPARING_REBALANCE) {
            prepareRebalance(group, group.state == State.EMPTY);
        }
        tryCompleteJoin(group);
        return answer.future();
    }

    private void prepareRebalance(ConsumerGroup g, boolean fromEmpty) {
        if (g.state == State.COMPLETING_REBALANCE) {
            for (Member m : g.members.values()) {
                if (m.syncing != null) {
                    m.syncing.tryComplete(new SyncGroupResponseData().setErrorCode(Errors.REBALANCE_IN_PROGRESS.code())
                            .setAssignment(new byte[0]));
                    m.syncing = null;
                }
            }
        }
        g.state = State.PREPARING_REBALANCE;
        cancelRebalanceTimer(g);
        int maxRebalance = g.maxRebalanceTimeout();
        long delay;
        if (fromEmpty) {
            g.initialDelay = true;
            delay = Math.min(server.config.initialRebalanceDelay().toMillis(), maxRebalance);
        } else {
            delay = maxRebalance;
        }
        g.rebalanceTimer = vertx.setTimer(Math.max(1, delay), t -> {
            g.rebalanceTimer = -1;
            if (g.initialDelay) {
                g.initialDelay = false;
                tryCompleteJoin(g);
                if (g.state == State.PREPARING_REBALANCE) { // some did not rejoin yet: wait the rebalance timeout
                    g.rebalanceTimer = vertx.setTimer(Math.max(1, g.maxRebalanceTimeout()), x -> completeJoin(g));
                }
            } else {
                completeJoin(g);
            }
        });
    }

    private void tryCompleteJoin(ConsumerGroup g) {
        if (g.state != State.PREPARING_REBALANCE || g.initialDelay) {
            return;
        }
        for (Member m : g.members.values()) {
            if (m.joining == null) {
                return;
            }
        }
        completeJoin(g);
    }

    /** Ends the join phase: members that did not rejoin are dropped, the next generation starts. */
    private void completeJoin(ConsumerGroup g) {
        if (g.state != State.PREPARING_REBALANCE) {
            return;
        }
        cancelRebalanceTimer(g);
        g.initialDelay = false;
        g.members.values().removeIf(m -> {
            if (m.joining == null) {
                cancelSession(m);
                KafkaServer.LOG.info("kafka group {}: member {} did not rejoin in time; removed", g.id, m.id);
                return true;
            }
            return false;
        });
        g.generation++;
        if (g.members.isEmpty()) {
            g.state = State.EMPTY;
            g.protocol = null;
            g.leader = null;
            dropIfUnused(g);
            return;
        }
        g.protocol = g.chooseProtocol();
        if (g.leader == null || !g.members.containsKey(g.leader)) {
            g.leader = g.members.keySet().iterator().next();
        }
        g.state = State.COMPLETING_REBALANCE;
        KafkaServer.LOG.info("kafka group {}: generation {} with {} member(s), protocol {}", g.id, g.generation,
                g.members.size(), g.protocol);
        for (Member m : g.members.values()) {
            Promise<JoinGroupResponseData> p = m.joining;
            m.joining = null;
            m.assignment = new byte[0];
            scheduleSession(g, m);
            p.tryComplete(g.joinAnswer(m));
        }
    }

    // ---- SyncGroup, Heartbeat, LeaveGroup -------------------------------------------------------------------------

    Future<SyncGroupResponseData> sync(SyncGroupRequestData req) {
        SyncGroupResponseData r = new SyncGroupResponseData().setAssignment(new byte[0]);
        ConsumerGroup g = groups.get(req.groupId());
        Member m = g == null ? null : g.members.get(req.memberId());
        if (m == null) {
            return Future.succeededFuture(r.setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
        }
        if (req.generationId() != g.generation) {
            return Future.succeededFuture(r.setErrorCode(Errors.ILLEGAL_GENERATION.code()));
        }
        if (req.protocolType() != null && !req.protocolType().equals(g.protocolType)
                || req.protocolName() != null && !req.protocolName().equals(g.protocol)) {
            return Future.succeededFuture(r.setErrorCode(Errors.INCONSISTENT_GROUP_PROTOCOL.code()));
        }
        r.setProtocolType(g.protocolType).setProtocolName(g.protocol);
        scheduleSession(g, m);
        switch (g.state) {
            case PREPARING_REBALANCE:
                return Future.succeededFuture(r.setErrorCode(Errors.REBALANCE_IN_PROGRESS.code()));
            case STABLE:
                return Future.succeededFuture(r.setErrorCode(Errors.NONE.code()).setAssignment(m.assignment));
            case COMPLETING_REBALANCE:
                Promise<SyncGroupResponseData> answer = Promise.promise();
                if (m.syncing != null) { // a repeated sync replaces the one waiting
                    m.syncing.tryComplete(new SyncGroupResponseData().setErrorCode(Errors.REBALANCE_IN_PROGRESS.code())
                            .setAssignment(new byte[0]));
                }
                m.syncing = answer;
                if (m.id.equals(g.leader)) {
                    Map<String, byte[]> given = new HashMap<>();
                    req.assignments().forEach(a -> given.put(a.memberId(), a.assignment()));
                    g.state = State.STABLE;
                    for (Member each : g.members.values()) {
                        each.assignment = given.getOrDefault(each.id, new byte[0]);
                        if (each.syncing != null) {
                            each.syncing.tryComplete(new SyncGroupResponseData().setErrorCode(Errors.NONE.code())
                                    .setProtocolType(g.protocolType).setProtocolName(g.protocol)
                                    .setAssignment(each.assignment));
                            each.syncing = null;
                        }
                    }
                }
                return answer.future();
            default:
                return Future.succeededFuture(r.setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
        }
    }

    Future<HeartbeatResponseData> heartbeat(HeartbeatRequestData req) {
        HeartbeatResponseData r = new HeartbeatResponseData().setThrottleTimeMs(0);
        ConsumerGroup g = groups.get(req.groupId());
        Member m = g == null ? null : g.members.get(req.memberId());
        if (m == null) {
            return Future.succeededFuture(r.setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
        }
        if (req.generationId() != g.generation) {
            return Future.succeededFuture(r.setErrorCode(Errors.ILLEGAL_GENERATION.code()));
        }
        if (m.joining == null) {
            scheduleSession(g, m);
        }
        Errors e = g.state == State.PREPARING_REBALANCE ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
        return Future.succeededFuture(r.setErrorCode(e.code()));
    }

    Future<LeaveGroupResponseData> leave(LeaveGroupRequestData req, short version) {
        LeaveGroupResponseData r = new LeaveGroupResponseData().setThrottleTimeMs(0).setErrorCode(Errors.NONE.code());
        ConsumerGroup g = groups.get(req.groupId());
        List<String> ids = new ArrayList<>();
        if (version < 3) {
            ids.add(req.memberId());
        } else {
            req.members().forEach(mi -> ids.add(mi.memberId()));
        }
        for (String id : ids) {
            Member m = g == null ? null : g.members.get(id);
            Errors e = m == null ? Errors.UNKNOWN_MEMBER_ID : Errors.NONE;
            if (m != null) {
                KafkaServer.LOG.info("kafka group {}: member {} left", g.id, id);
                remove(g, m);
            }
            if (version < 3) {
                r.setErrorCode(e.code());
            } else {
                r.members().add(new LeaveGroupResponseData.MemberResponse().setMemberId(id).setErrorCode(e.code()));
            }
        }
        return Future.succeededFuture(r);
    }

    private void remove(ConsumerGroup g, Member m) {
        cancelSession(m);
        g.members.remove(m.id);
        if (m.joining != null) {
            m.joining.tryComplete(new JoinGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code())
                    .setMemberId(m.id).setGenerationId(-1).setProtocolName("").setLeader(""));
        }
        if (m.syncing != null) {
            m.syncing.tryComplete(new SyncGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code())
                    .setAssignment(new byte[0]));
        }
        if (g.state == State.STABLE || g.state == State.COMPLETING_REBALANCE) {
            if (g.members.isEmpty()) {
                g.state = State.EMPTY;
                g.generation++;
                g.protocol = null;
                g.leader = null;
                dropIfUnused(g);
            } else {
                prepareRebalance(g, false);
            }
        } else if (g.state == State.PREPARING_REBALANCE) {
            if (g.members.isEmpty()) {
                completeJoin(g);
            } else {
                tryCompleteJoin(g);
            }
        }
    }

    /** An empty group with nobody about to join is forgotten (its committed offsets stay). */
    private void dropIfUnused(ConsumerGroup g) {
        if (g.members.isEmpty() && g.pending.isEmpty() && g.rebalanceTimer < 0 && groups.get(g.id) == g) {
            groups.remove(g.id);
        }
    }

    private void scheduleSession(ConsumerGroup g, Member m) {
        cancelSession(m);
        m.sessionTimer = vertx.setTimer(Math.max(1, m.sessionTimeout), t -> {
            m.sessionTimer = -1;
            if (g.members.get(m.id) == m && m.joining == null) {
                KafkaServer.LOG.info("kafka group {}: member {} missed its session timeout ({} ms); removed", g.id, m.id,
                        m.sessionTimeout);
                remove(g, m);
            }
        });
    }

    private void cancelSession(Member m) {
        if (m.sessionTimer >= 0) {
            vertx.cancelTimer(m.sessionTimer);
            m.sessionTimer = -1;
        }
    }

    private void cancelRebalanceTimer(ConsumerGroup g) {
        if (g.rebalanceTimer >= 0) {
            vertx.cancelTimer(g.rebalanceTimer);
            g.rebalanceTimer = -1;
        }
    }

    // ---- DescribeGroups, ListGroups -----------------------------------------------------------------------------

    Future<DescribeGroupsResponseData> describe(DescribeGroupsRequestData req) {
        DescribeGroupsResponseData r = new DescribeGroupsResponseData().setThrottleTimeMs(0);
        for (String id : req.groups()) {
            ConsumerGroup g = groups.get(id);
            DescribeGroupsResponseData.DescribedGroup d = new DescribeGroupsResponseData.DescribedGroup().setGroupId(id)
                    .setErrorCode(Errors.NONE.code());
            if (g == null) {
                d.setGroupState(offsets.has(id) ? "Empty" : "Dead").setProtocolType("").setProtocolData("");
            } else {
                d.setGroupState(g.state.kafkaName).setProtocolType(Objects.requireNonNullElse(g.protocolType, ""))
                        .setProtocolData(Objects.requireNonNullElse(g.protocol, ""));
                for (Member m : g.members.values()) {
                    byte[] meta = g.protocol == null ? new byte[0] : m.protocols.getOrDefault(g.protocol, new byte[0]);
                    d.members().add(new DescribeGroupsResponseData.DescribedGroupMember().setMemberId(m.id)
                            .setClientId(m.clientId).setClientHost(m.clientHost).setMemberMetadata(meta)
                            .setMemberAssignment(m.assignment));
                }
            }
            r.groups().add(d);
        }
        return Future.succeededFuture(r);
    }

    Future<ListGroupsResponseData> list(ListGroupsRequestData req) {
        ListGroupsResponseData r = new ListGroupsResponseData().setThrottleTimeMs(0).setErrorCode(Errors.NONE.code());
        java.util.Set<String> ids = new java.util.TreeSet<>(groups.keySet());
        ids.addAll(offsets.groups());
        for (String id : ids) {
            ConsumerGroup g = groups.get(id);
            String state = g == null ? "Empty" : g.state.kafkaName;
            if (!req.statesFilter().isEmpty() && !req.statesFilter().contains(state)) {
                continue;
            }
            r.groups().add(new ListGroupsResponseData.ListedGroup().setGroupId(id)
                    .setProtocolType(g == null || g.protocolType == null ? "consumer" : g.protocolType)
                    .setGroupState(state));
        }
        return Future.succeededFuture(r);
    }

    /** The gateway stops: members waiting for a join or sync are told to find the coordinator again. */
    Future<Void> shutdown() {
        offsets.stopExpiry();
        for (ConsumerGroup g : groups.values()) {
            cancelRebalanceTimer(g);
            g.pending.values().forEach(vertx::cancelTimer);
            for (Member m : g.members.values()) {
                cancelSession(m);
                if (m.joining != null) {
                    m.joining.tryComplete(new JoinGroupResponseData().setErrorCode(Errors.NOT_COORDINATOR.code())
                            .setMemberId(m.id).setGenerationId(-1).setProtocolName("").setLeader(""));
                }
                if (m.syncing != null) {
                    m.syncing.tryComplete(new SyncGroupResponseData().setErrorCode(Errors.NOT_COORDINATOR.code())
                            .setAssignment(new byte[0]));
                }
            }
        }
        return Future.succeededFuture();
    }
}
