package io.omnibus.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The classic consumer group protocol with real kafka-clients consumers: assignment, rebalance on leave and on a crash. */
@Timeout(180)
class KafkaGroupIT extends KafkaTestBase {

    /** A consumer on its own thread: processes each record once, commits synchronously after every poll. */
    private final class Member implements Runnable {
        final KafkaConsumer<String, String> consumer;
        final Map<String, Integer> processed;
        final AtomicBoolean stop = new AtomicBoolean();
        final Set<TopicPartition> assigned = ConcurrentHashMap.newKeySet();
        final AtomicInteger count = new AtomicInteger();
        final List<Throwable> failures;
        final Thread thread;

        Member(String name, Map<String, Integer> processed, List<Throwable> failures) {
            this.consumer = consumer("workers", Map.of(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                    ConsumerConfig.CLIENT_ID_CONFIG, name, ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000,
                    ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50));
            this.processed = processed;
            this.failures = failures;
            this.thread = new Thread(this, name);
        }

        @Override
        public void run() {
            try {
                consumer.subscribe(List.of("jobs"), new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
                        assigned.removeAll(partitions);
                    }

                    @Override
                    public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {
                        assigned.addAll(partitions);
                    }
                });
                while (!stop.get()) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                        processed.merge(r.value(), 1, Integer::sum);
                        count.incrementAndGet();
                    }
                    consumer.commitSync();
                }
                consumer.close(); // a polite LeaveGroup
            } catch (Throwable t) {
                failures.add(t);
            }
        }
    }

    private static void produce(KafkaProducer<String, String> producer, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            producer.send(new ProducerRecord<>("jobs", "job-" + i, "job-" + i));
        }
        producer.flush();
    }

    @Test
    void threeMembersShareTheWorkAndRebalanceWhenOneLeavesWithoutLosingOrRepeatingCommittedWork() throws Exception {
        start(Map.of("partitions", 6));
        KafkaProducer<String, String> producer = producer(Map.of());
        produce(producer, 0, 300);
        Map<String, Integer> processed = new ConcurrentHashMap<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            members.add(new Member("worker-" + i, processed, failures));
        }
        members.forEach(m -> m.thread.start());
        // all three get partitions: the six are split among them
        await().atMost(Duration.ofSeconds(60)).until(() -> members.stream().allMatch(m -> m.assigned.size() == 2));
        await().atMost(Duration.ofSeconds(60)).until(() -> processed.size() == 300);

        Member leaving = members.get(0);
        leaving.stop.set(true);
        leaving.thread.join(30_000);
        // the two left take over its partitions
        await().atMost(Duration.ofSeconds(60)).until(() -> members.get(1).assigned.size() + members.get(2).assigned.size() == 6
                && members.get(1).assigned.size() == 3);
        produce(producer, 300, 600);
        await().atMost(Duration.ofSeconds(60)).until(() -> processed.size() == 600);

        assertThat(failures).isEmpty();
        assertThat(processed.values()).allMatch(n -> n == 1); // every committed record processed exactly once
        Set<TopicPartition> all = new HashSet<>(members.get(1).assigned);
        all.addAll(members.get(2).assigned);
        assertThat(all).hasSize(6);
        members.subList(1, 3).forEach(m -> m.stop.set(true));
        for (Member m : members) {
            m.thread.join(30_000);
        }
    }

    @Test
    void aMemberThatStopsHeartbeatingIsRemovedAfterItsSessionTimeout() throws Exception {
        start(Map.of("partitions", 4));
        Map<String, Integer> processed = new ConcurrentHashMap<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Member real = new Member("surviving", processed, failures);
        real.thread.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> real.assigned.size() == 4);

        // a second member joins [KIP-394: MEMBER_ID_REQUIRED first], syncs, and then is never heard of again
        try (RawKafka silent = new RawKafka(gw.port("kafka"))) {
            byte[] subscription = org.apache.kafka.clients.consumer.internals.ConsumerProtocol.serializeSubscription(
                    new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(List.of("jobs"))).array();
            JoinGroupRequestData join = new JoinGroupRequestData().setGroupId("workers").setSessionTimeoutMs(6000)
                    .setRebalanceTimeoutMs(30_000).setMemberId("").setProtocolType("consumer");
            join.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(subscription));
            JoinGroupResponseData first = silent.receive(ApiKeys.JOIN_GROUP, (short) 9,
                    silent.send(ApiKeys.JOIN_GROUP, (short) 9, join), new JoinGroupResponseData());
            assertThat(first.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
            join.setMemberId(first.memberId());
            JoinGroupResponseData joined = silent.receive(ApiKeys.JOIN_GROUP, (short) 9,
                    silent.send(ApiKeys.JOIN_GROUP, (short) 9, join), new JoinGroupResponseData());
            assertThat(joined.errorCode()).isEqualTo(Errors.NONE.code());
            SyncGroupResponseData synced = silent.receive(ApiKeys.SYNC_GROUP, (short) 5,
                    silent.send(ApiKeys.SYNC_GROUP, (short) 5, new SyncGroupRequestData().setGroupId("workers")
                            .setMemberId(joined.memberId()).setGenerationId(joined.generationId())
                            .setProtocolType("consumer").setProtocolName(joined.protocolName())),
                    new SyncGroupResponseData());
            assertThat(synced.errorCode()).isEqualTo(Errors.NONE.code());
            await().atMost(Duration.ofSeconds(30)).until(() -> real.assigned.size() == 2); // it took two partitions
            // its session (6 s) runs out: the real member gets all four back
            await().atMost(Duration.ofSeconds(30)).until(() -> real.assigned.size() == 4);
            HeartbeatResponseData late = silent.receive(ApiKeys.HEARTBEAT, (short) 4,
                    silent.send(ApiKeys.HEARTBEAT, (short) 4, new HeartbeatRequestData().setGroupId("workers")
                            .setMemberId(joined.memberId()).setGenerationId(joined.generationId())),
                    new HeartbeatResponseData());
            assertThat(late.errorCode()).isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
        }
        assertThat(failures).isEmpty();
        real.stop.set(true);
        real.thread.join(30_000);
    }

    @Test
    void aGroupWithoutMembersLosesItsOffsetsAndItsCursorAfterOffsetsRetention() throws Exception {
        // Kafka's offsets.retention.minutes: an abandoned group no longer holds the topic's retention
        start(Map.of("offsets-retention", "2s"));
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            producer.send(new ProducerRecord<>("ledger", 0, "k", "v")).get();
        }
        TopicPartition tp = new TopicPartition("ledger", 0);
        try (KafkaConsumer<String, String> consumer = consumer("one-off", Map.of())) {
            consumer.assign(List.of(tp));
            consumer.commitSync(Map.of(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(1)));
            assertThat(consumer.committed(java.util.Set.of(tp)).get(tp).offset()).isEqualTo(1);
        }
        String cursor = CommittedOffsets.cursorName("one-off", io.omnibus.core.spi.Address.of("ledger"));
        org.awaitility.Awaitility.await().until(() -> gw.broker.subscription(cursor) != null);
        long committedAt = System.currentTimeMillis();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> gw.broker.subscription(cursor) == null);
        assertThat(System.currentTimeMillis() - committedAt).isGreaterThanOrEqualTo(1_000);
        try (KafkaConsumer<String, String> consumer = consumer("one-off", Map.of())) {
            assertThat(consumer.committed(java.util.Set.of(tp)).get(tp)).isNull();
        }
    }
}
