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
import java.util.concurrent.atomic.AtomicInteger;

import static io.omnibus.core.internal.TestBroker.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A durable subscription's cursor is saved at each acknowledgement while it has few gaps; with more than
 * {@link LogCursors#SAVED_AT_ONCE_RANGES} (consumers that acknowledge out of order), once the event loop has done the
 * acknowledgements at hand, and by the broker's close at the latest: a restart gets exactly what was not acknowledged.
 */
@Timeout(60)
class CursorSavesTest {
    @Test
    void outOfOrderAcknowledgementsOfOneRunAreSavedTogetherAndAllOfThemByTheClose() {
        MemoryMessageStore memory = new MemoryMessageStore(100_000, 64L << 20);
        AtomicInteger saves = new AtomicInteger();
        MessageStore counting = (MessageStore) Proxy.newProxyInstance(MessageStore.class.getClassLoader(),
                new Class<?>[] {MessageStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("saveCursor")) {
                        saves.incrementAndGet();
                    }
                    try {
                        return method.invoke(memory, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        int n = 400;
        try (TestBroker first = new TestBroker(Map.of(), counting)) {
            Subscription sub = await(first.broker.subscribe(SubscriptionSpec.of("d", "q/#").withDurable(true)));
            TestBroker.Recorder r = first.recorder().manual().attach(sub, n);
            for (int i = 0; i < n; i++) {
                first.publish("q/a", "m" + i);
            }
            await().until(() -> r.received.size() == n);
            int before = saves.get();
            // every other one, in one task of the consumer's context (as the dispositions of one read): 199 gaps
            await(r.runOn(() -> {
                for (Delivery d : r.received) {
                    if (d.offset() % 2 == 0) {
                        r.consumer.ack(d);
                    }
                }
                return Future.succeededFuture();
            }));
            await().until(() -> first.view("d").acknowledged() == n / 2);
            assertThat(saves.get() - before).as("cursor saves for %d acknowledgements", n / 2)
                    .isGreaterThanOrEqualTo(LogCursors.SAVED_AT_ONCE_RANGES) // the first ones at once
                    .isLessThan(LogCursors.SAVED_AT_ONCE_RANGES + 10); // the rest together, not 136 more
        }
        try (TestBroker second = new TestBroker(Map.of(), memory)) {
            TestBroker.Recorder r = second.recorder().attach(second.broker.subscription("d"), n);
            await().until(() -> r.received.size() == n / 2);
            assertThat(r.received).extracting(Delivery::offset).allMatch(offset -> offset % 2 == 1);
        }
    }
}
