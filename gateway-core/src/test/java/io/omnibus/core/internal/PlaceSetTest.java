package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.store.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link PlaceSet} against a {@code LinkedHashSet} of the same places, operation by operation. */
class PlaceSetTest {
    private record Place(TopicPartition tp, long offset) {
    }

    private static final List<TopicPartition> PARTITIONS = List.of(
            new TopicPartition(Address.of("a"), 0), new TopicPartition(Address.of("a"), 1),
            new TopicPartition(Address.of("b/c"), 0), new TopicPartition(Address.of("d"), 7),
            new TopicPartition(Address.of("e"), 0), new TopicPartition(Address.of("f"), 0), // past the listed few:
            new TopicPartition(Address.of("g"), 2)); // partitions are then looked up in a map

    @Test
    void keepsTheOrderAndMembershipOfALinkedHashSetThroughGrowthShrinkingAndRemovalsAnywhere() {
        Random random = new Random(42);
        for (int round = 0; round < 20; round++) {
            PlaceSet set = new PlaceSet();
            LinkedHashSet<Place> model = new LinkedHashSet<>();
            long[] next = new long[PARTITIONS.size()];
            int ops = 2_000 + random.nextInt(20_000);
            for (int op = 0; op < ops; op++) {
                int kind = random.nextInt(10);
                if (kind < 5) { // add: mostly the partition's next offset, sometimes one seen before
                    int p = random.nextInt(PARTITIONS.size());
                    long offset = random.nextInt(8) == 0 && next[p] > 0 ? random.nextLong(next[p]) : next[p]++;
                    Place place = new Place(PARTITIONS.get(p), offset);
                    assertThat(set.add(place.tp(), place.offset())).isEqualTo(model.add(place));
                } else if (kind < 8 && !model.isEmpty()) { // remove one somewhere: often near the oldest
                    Place place = pick(model, random);
                    assertThat(set.remove(place.tp(), place.offset())).isTrue();
                    model.remove(place);
                } else if (kind < 9 && !model.isEmpty()) {
                    Place oldest = model.iterator().next();
                    assertThat(set.oldestPartition()).isEqualTo(oldest.tp());
                    assertThat(set.oldestOffset()).isEqualTo(oldest.offset());
                    set.removeOldest();
                    model.remove(oldest);
                } else { // a place not there
                    int p = random.nextInt(PARTITIONS.size());
                    Place absent = new Place(PARTITIONS.get(p), next[p] + 1 + random.nextInt(100));
                    assertThat(set.remove(absent.tp(), absent.offset())).isFalse();
                }
                assertThat(set.size()).isEqualTo(model.size());
            }
            assertThat(drain(set)).containsExactlyElementsOf(model);
        }
    }

    @Test
    void fewPartitionsAreFoundInTheListAndManyInTheMapWhicheverWasUsedFirst() {
        PlaceSet set = new PlaceSet();
        for (int i = 0; i < PARTITIONS.size(); i++) { // the 5th partition turns the list into a map
            assertThat(set.add(PARTITIONS.get(i), 10 + i)).isTrue();
            for (int j = 0; j <= i; j++) {
                assertThat(set.add(PARTITIONS.get(j), 10 + j)).as("partition %d after %d", j, i).isFalse();
            }
        }
        for (int i = PARTITIONS.size() - 1; i >= 0; i--) {
            assertThat(set.remove(PARTITIONS.get(i), 10 + i)).isTrue();
        }
        assertThat(set.isEmpty()).isTrue();
    }

    @Test
    void aDrainedBacklogLetsItsSlotsGoAndTheSetWorksOn() {
        PlaceSet set = new PlaceSet();
        TopicPartition tp = PARTITIONS.get(0);
        for (long i = 0; i < 100_000; i++) {
            set.add(tp, i);
        }
        for (long i = 0; i < 100_000; i++) {
            assertThat(set.remove(tp, i)).isTrue();
        }
        assertThat(set.isEmpty()).isTrue();
        assertThat(set.remove(tp, 5)).isFalse();
        assertThat(set.add(PARTITIONS.get(3), 9)).isTrue();
        assertThat(set.oldestPartition()).isEqualTo(PARTITIONS.get(3));
        assertThat(set.oldestOffset()).isEqualTo(9);
        set.clear();
        assertThat(set.isEmpty()).isTrue();
        assertThat(set.add(tp, 9)).isTrue();
        assertThat(set.size()).isOne();
    }

    private static Place pick(LinkedHashSet<Place> model, Random random) {
        int at = random.nextBoolean() ? random.nextInt(Math.min(3, model.size())) : random.nextInt(model.size());
        Iterator<Place> it = model.iterator();
        for (int i = 0; i < at; i++) {
            it.next();
        }
        return it.next();
    }

    private static List<Place> drain(PlaceSet set) {
        List<Place> out = new ArrayList<>();
        while (!set.isEmpty()) {
            out.add(new Place(set.oldestPartition(), set.oldestOffset()));
            set.removeOldest();
        }
        return out;
    }
}
