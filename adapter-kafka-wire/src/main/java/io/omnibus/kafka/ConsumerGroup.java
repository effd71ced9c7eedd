package io.omnibus.kafka;

import io.vertx.core.Promise;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One classic consumer group as {@link GroupCoordinator} keeps it: its state, generation, chosen protocol and leader,
 * its members with their protocols and assignments, and the member ids handed out and not joined yet. Confined to the
 * coordinator's context.
 */
final class ConsumerGroup {
    final String id;
    State state = State.EMPTY;
    int generation;
    String protocolType;
    String protocol;
    String leader;
    final LinkedHashMap<String, Member> members = new LinkedHashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED, not joined yet, with their expiry timers. */
    final Map<String, Long> pending = new HashMap<>();
    long rebalanceTimer = -1;
    boolean initialDelay;

    ConsumerGroup(String id) {
        this.id = id;
    }

    /** The group's states, with their names in DescribeGroups and ListGroups. */
    enum State {
        EMPTY("Empty"), PREPARING_REBALANCE("PreparingRebalance"), COMPLETING_REBALANCE("CompletingRebalance"),
        STABLE("Stable");

        final String kafkaName;

        State(String kafkaName) {
            this.kafkaName = kafkaName;
        }
    }

    /** A member: its client, timeouts, protocols, the join or sync it waits in, and its assignment. */
    static final class Member {
        final String id;
        final String clientId;
        final String clientHost;
        int sessionTimeout;
        int rebalanceTimeout;
        LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();
        Promise<JoinGroupResponseData> joining;
        Promise<SyncGroupResponseData> syncing;
        byte[] assignment = new byte[0];
        long sessionTimer = -1;

        Member(String id, String clientId, String clientHost) {
            this.id = id;
            this.clientId = clientId;
            this.clientHost = clientHost;
        }
    }

    /** Whether two members' protocol lists are the same, names and metadata. */
    static boolean sameProtocols(Map<String, byte[]> a, Map<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, byte[]> e : a.entrySet()) {
            if (!java.util.Arrays.equals(e.getValue(), b.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Whether some protocol of {@code candidate} is supported by every member. */
    boolean commonProtocol(Map<String, byte[]> candidate) {
        for (String name : candidate.keySet()) {
            boolean everyone = true;
            for (Member m : members.values()) {
                everyone &= m.protocols.containsKey(name);
            }
            if (everyone) {
                return true;
            }
        }
        return false;
    }

    /** The longest rebalance timeout of the members: how long a rebalance waits for them to rejoin. */
    int maxRebalanceTimeout() {
        int max = 0;
        for (Member m : members.values()) {
            max = Math.max(max, m.rebalanceTimeout);
        }
        return max;
    }

    /** The protocol most members prefer among those every member supports (Kafka's vote). */
    String chooseProtocol() {
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (Member m : members.values()) {
            for (String name : m.protocols.keySet()) {
                boolean everyone = true;
                for (Member other : members.values()) {
                    everyone &= other.protocols.containsKey(name);
                }
                if (everyone) {
                    votes.merge(name, 1, Integer::sum);
                    break;
                }
            }
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElseThrow();
    }

    /** The JoinGroup answer of {@code m}: the leader's lists every member with its metadata. */
    JoinGroupResponseData joinAnswer(Member m) {
        JoinGroupResponseData r = new JoinGroupResponseData().setErrorCode(Errors.NONE.code()).setGenerationId(generation)
                .setProtocolType(protocolType).setProtocolName(protocol).setLeader(leader).setMemberId(m.id);
        if (m.id.equals(leader)) {
            for (Member each : members.values()) {
                r.members().add(new JoinGroupResponseData.JoinGroupResponseMember().setMemberId(each.id)
                        .setMetadata(each.protocols.get(protocol)));
            }
        }
        return r;
    }
}
