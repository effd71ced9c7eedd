package io.omnibus.core.internal;

import io.omnibus.core.spi.Envelope;
import io.omnibus.core.store.MemoryMessageStore;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.TopicPartition;
import io.omnibus.core.store.CursorState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A store answers appends in order, but an answer can be ready before the broker listens for it. The second
 * append of a new topic below completes before its listener is attached, while the first one's answer is still
 * queued on the partition's context: routed inline, the second message reached the subscription first, whose
 * cursor then began past the first and dropped it as acknowledged (found with the MQTT fan-in benchmark:
 * acknowledged QoS 1 messages never delivered).
 */
@Timeout(30)
class AppendOrderTest {
    private TestBroker tb;

    @AfterEach
    void stop() {
        if (tb != null) {
            tb.close();
        }
    }

    /**
     * The first append's answer is held back; the second append completes it from another thread (which queues
     * its listener on the partition's context), waits until it is done, and answers at once: in order, but ready
     * before the broker listens for it, while the first one's routing is still queued behind this task.
     */
    private static final class LateFirstAnswer implements MessageStore {
        private final MemoryMessageStore delegate = new MemoryMessageStore(1000, 1 << 20);
        private Promise<Long> first;

        @Override
        public Future<Long> append(TopicPartition partition, Envelope envelope) {
            long offset = delegate.append(partition, envelope).result();
            if (first == null) {
                first = Promise.promise();
                return first.future();
            }
            CountDownLatch firstDone = new CountDownLatch(1);
            Promise<Long> held = first;
            new Thread(() -> {
                held.complete(offset - 1);
                firstDone.countDown();
            }).start();
            try {
                firstDone.await(5, TimeUnit.SECONDS); // in order: never before the first
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Future.succeededFuture(offset);
        }

        @Override
        public Future<Long> appendAll(TopicPartition partition, List<Envelope> envelopes) {
            return delegate.appendAll(partition, envelopes);
        }

        @Override
        public void appendAtomically(List<io.omnibus.core.store.PartitionBatch> batches,
                                     List<io.omnibus.core.store.StateChange> states,
                                     List<io.omnibus.core.store.CursorChange> cursors, io.vertx.core.Promise<long[]> done) {
            delegate.appendAtomically(batches, states, cursors, done);
        }

        @Override
        public String type() {
            return "late-first-answer";
        }

        @Override
        public boolean healthy() {
            return true;
        }

        @Override
        public Future<Void> open() {
            return delegate.open();
        }

        @Override
        public Future<List<StoredMessage>> read(TopicPartition partition, long fromOffset, int max) {
            return delegate.read(partition, fromOffset, max);
        }

        @Override
        public Future<Void> truncate(TopicPartition partition) {
            return delegate.truncate(partition);
        }

        @Override
        public Future<Boolean> truncateIfEndsAt(TopicPartition partition, long end) {
            return delegate.truncateIfEndsAt(partition, end);
        }

        @Override
        public long startOffset(TopicPartition partition) {
            return delegate.startOffset(partition);
        }

        @Override
        public long endOffset(TopicPartition partition) {
            return delegate.endOffset(partition);
        }

        @Override
        public Set<TopicPartition> partitions() {
            return delegate.partitions();
        }

        @Override
        public Future<Void> saveSubscription(SubscriptionRecord record) {
            return delegate.saveSubscription(record);
        }

        @Override
        public Future<Void> deleteSubscription(String name) {
            return delegate.deleteSubscription(name);
        }

        @Override
        public void saveCursor(String subscription, TopicPartition partition, CursorState state) {
            delegate.saveCursor(subscription, partition, state);
        }

        @Override
        public Future<Map<SubscriptionRecord, Map<TopicPartition, CursorState>>> subscriptions() {
            return delegate.subscriptions();
        }

        @Override
        public Future<Void> putState(String namespace, String key, byte[] value) {
            return delegate.putState(namespace, key, value);
        }

        @Override
        public Map<String, byte[]> states(String namespace) {
            return delegate.states(namespace);
        }

        @Override
        public long droppedByRetention() {
            return 0;
        }

        @Override
        public Future<Void> flush() {
            return delegate.flush();
        }

        @Override
        public Future<Void> close() {
            return delegate.close();
        }
    }

    @Test
    void anAnswerReadyBeforeItsListenerIsStillRoutedAfterTheEarlierOnes() {
        tb = new TestBroker(Map.of("broker", Map.of("shards", 1)), new LateFirstAnswer());
        TestBroker.Recorder r = tb.recorder().attach(tb.subscribe("s", "new/#"), 100);
        // both appends are queued on the partition's context before the first answer comes
        Future<?> first = tb.broker.publish(Envelope.builder("new/topic").payload("first").build());
        Future<?> second = tb.broker.publish(Envelope.builder("new/topic").payload("second").build());
        TestBroker.await(first);
        TestBroker.await(second);
        await().until(() -> r.received.size() == 2);
        assertThat(r.payloads()).containsExactly("first", "second");
    }
}
