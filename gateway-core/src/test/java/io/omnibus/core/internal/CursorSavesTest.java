package io.omnibus.core.internal;

import io.omnibus.core.spi.Delivery;
import io.omnibus.core.spi.Subscription;
import io.omnibus.core.spi.SubscriptionSpec;
import io.omnibus.core.store.MemoryMessageStore;
import io.omnibus.core.store.MessageStore;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A durable subscription's cursor is saved at each acknowledgement while it has few gaps; with more than
 * {@link LogCursors#SAVED_AT_ONCE_RANGES} (consumers that acknowledge out of order), once the event loop has done the
 * acknowledgements at hand, and by the broker's drain at the latest: a restart gets exactly what was not acknowledged.
 */
@Timeout(60)
class CursorSavesTest {
    private static final int N = 400;

    private final MemoryMessageStore memory = new MemoryMessageStore(100_000, 64L << 20);
    private final AtomicInteger saves = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The memory store, counting cursor saves and dropping those that come after its close (as a file store does). */
    private final MessageStore store = (MessageStore) Proxy.newProxyInstance(MessageStore.class.getClassLoader(),
            new Class<?>[] {MessageStore.class}, (proxy, method, args) -> {
                if (method.getName().equals("close")) {
                    closed.set(true);
                } else if (method.getName().equals("saveCursor")) {
                    if (closed.get()) {
                        return null;
                    }
                    saves.incrementAndGet();
                }
                try {
                    return method.invoke(memory, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });

    @Test
    void outOfOrderAcknowledgementsOfOneRunAreSavedTogether() {
        try (TestBroker first = new TestBroker(Map.of(), store)) {
            TestBroker.Recorder r = everyMessageReceived(first);
            int before = saves.get();
            await(r.runOn(() -> {
                ackEveryOther(r);
                return Future.succeededFuture();
            }));
            // 65 at once (while the cursor has at most 64 gaps), then the other 135 in one save
            await().until(() -> saves.get() - before >= LogCursors.SAVED_AT_ONCE_RANGES + 2);
            assertThat(saves.get() - before).as("cursor saves for %d acknowledgements", N / 2)
                    .isLessThan(LogCursors.SAVED_AT_ONCE_RANGES + 10);
        }
        closed.set(false);
        assertOnlyTheOtherHalfComesBack();
    }

    @Test
    void theBrokersCloseSavesWhatWaitsToBeSaved() {
        TestBroker first = new TestBroker(Map.of(), store);
        TestBroker.Recorder r = everyMessageReceived(first);
        // acknowledged and closed in one task: the close comes before the save queued behind the event loop's work
        await(r.runOn(() -> {
            ackEveryOther(r);
            return first.broker.close();
        }));
        await(first.vertx.close());
        closed.set(false);
        assertOnlyTheOtherHalfComesBack();
    }

    /** A durable subscription on a fresh broker, and a consumer that has all of {@link #N} messages unacknowledged. */
    private static TestBroker.Recorder everyMessageReceived(TestBroker broker) {
        Subscription sub = await(broker.broker.subscribe(SubscriptionSpec.of("d", "q/#").withDurable(true)));
        TestBroker.Recorder r = broker.recorder().manual().attach(sub, N);
        for (int i = 0; i < N; i++) {
            broker.publish("q/a", "m" + i);
        }
        await().until(() -> r.received.size() == N);
        return r;
    }

    /** Acknowledges the messages of even offsets, one by one, as the dispositions of one read: 199 gaps. */
    private static void ackEveryOther(TestBroker.Recorder r) {
        for (Delivery d : r.received) {
            if (d.offset() % 2 == 0) {
                r.consumer.ack(d);
            }
        }
    }

    private void assertOnlyTheOtherHalfComesBack() {
        try (TestBroker second = new TestBroker(Map.of(), memory)) {
            await().until(() -> second.view("d").backlog() == N / 2); // no more: every acknowledgement was saved
            TestBroker.Recorder r = second.recorder().attach(second.broker.subscription("d"), N);
            await().until(() -> r.received.size() == N / 2);
            assertThat(r.received).extracting(Delivery::offset).allMatch(offset -> offset % 2 == 1);
        }
    }
}
