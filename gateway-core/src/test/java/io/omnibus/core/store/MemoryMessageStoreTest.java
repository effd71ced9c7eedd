package io.omnibus.core.store;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.spi.Envelope;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A durable subscription made on the memory store starts at the end of each partition its filter matches then. */
class MemoryMessageStoreTest {
    private static TopicPartition tp(String address, int partition) {
        return new TopicPartition(Address.of(address), partition);
    }

    private static void append(MemoryMessageStore store, TopicPartition tp, int n) {
        for (int i = 0; i < n; i++) {
            store.append(tp, Envelope.builder(tp.address()).payload("m" + i).build());
        }
    }

    private static Map<TopicPartition, CursorState> cursorsOf(MemoryMessageStore store, String name) {
        return store.subscriptions().result().entrySet().stream().filter(e -> e.getKey().name().equals(name))
                .findFirst().orElseThrow().getValue();
    }

    @Test
    void aNewSubscriptionStartsAtTheEndOfThePartitionsItsFilterMatches() {
        MemoryMessageStore store = new MemoryMessageStore(1000, 1 << 20);
        store.open();
        append(store, tp("a/b", 0), 2);
        append(store, tp("a/c", 0), 1);
        append(store, tp("x/y", 1), 3); // partition 0 of x/y has no log
        append(store, tp("other", 0), 1);

        store.saveSubscription(new SubscriptionRecord("wild", "a/+", DispatchPolicy.ROUND_ROBIN));
        store.saveSubscription(new SubscriptionRecord("exact", "x/y", DispatchPolicy.ROUND_ROBIN));
        store.saveSubscription(new SubscriptionRecord("none", "z/#", DispatchPolicy.ROUND_ROBIN));

        assertThat(cursorsOf(store, "wild")).containsOnlyKeys(tp("a/b", 0), tp("a/c", 0));
        assertThat(cursorsOf(store, "wild").get(tp("a/b", 0)).ackedBelow()).isEqualTo(2);
        assertThat(cursorsOf(store, "wild").get(tp("a/c", 0)).ackedBelow()).isEqualTo(1);
        assertThat(cursorsOf(store, "exact")).containsOnlyKeys(tp("x/y", 1));
        assertThat(cursorsOf(store, "exact").get(tp("x/y", 1)).ackedBelow()).isEqualTo(3);
        assertThat(cursorsOf(store, "none")).isEmpty();
    }
}
