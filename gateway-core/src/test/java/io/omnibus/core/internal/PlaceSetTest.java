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

/** {@link PlaceSet} against a {@code LinkedHashSet} (or a {@code HashSet}) of the same places, operation by operation. */
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
        // places come in offset order per partition, as a subscription adds them
        Random random = new Random(42);
        for (int round = 0; round < 20; round++) {
            PlaceSet set = new PlaceSet();
            LinkedHashSet<Place> model = new LinkedHashSet<>();
            long[] next = new long[PARTITIONS.size()];
            int ops = 2_000 + random.nextInt(20_000);
            for (int op = 0; op < ops; op++) {
                int kind = random.nextInt(10);
                if (kind < 5) { // add: the partition's next offset, or one in the set already
                    int p = random.nextInt(PARTITIONS.size());
                    Place place = new Place(PARTITIONS.get(p), next[p]);
                    if (random.nextInt(8) == 0 && !model.isEmpty()) {
                        place = pick(model, random);
                    } else {
                        next[p] += 1 + random.nextInt(3);
                    }
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
                assertThat(set.held()).isLessThanOrEqualTo(2 * model.size() + PlaceSet.KEPT_SLOTS + 1);
            }
            assertThat(drain(set)).containsExactlyElementsOf(model);
        }
    }

    @Test
    void placesAddedOutOfOrderAreKeptAndTheOldestOfAPartitionIsThenItsLowestOffset() {
        Random random = new Random(7);
        for (int round = 0; round < 20; round++) {
            PlaceSet set = new PlaceSet();
            java.util.HashSet<Place> model = new java.util.HashSet<>();
            long[] next = new long[PARTITIONS.size()];
            int ops = 2_000 + random.nextInt(20_000);
            for (int op = 0; op < ops; op++) {
                int kind = random.nextInt(10);
                int p = random.nextInt(PARTITIONS.size());
                if (kind < 5) { // add: the next offset past a gap, or any lower one (new, in the set, or removed)
                    long offset = random.nextInt(4) == 0 && next[p] > 0 ? random.nextLong(next[p]) : (next[p] += 2);
                    Place place = new Place(PARTITIONS.get(p), offset);
                    assertThat(set.add(place.tp(), place.offset())).isEqualTo(model.add(place));
                } else if (kind < 8 && !model.isEmpty()) {
                    Place place = new Place(PARTITIONS.get(p), next[p] == 0 ? 0 : random.nextLong(next[p] + 1));
                    assertThat(set.remove(place.tp(), place.offset())).isEqualTo(model.remove(place));
                } else if (!model.isEmpty()) {
                    Place oldest = new Place(set.oldestPartition(), set.oldestOffset());
                    assertThat(model).contains(oldest);
                    assertThat(model).noneMatch(q -> q.tp().equals(oldest.tp()) && q.offset() < oldest.offset());
                    set.removeOldest();
                    model.remove(oldest);
                }
                assertThat(set.size()).isEqualTo(model.size());
            }
            List<Place> drained = drain(set);
            assertThat(drained).containsExactlyInAnyOrderElementsOf(model);
            for (TopicPartition tp : PARTITIONS) {
                List<Long> offsets = drained.stream().filter(q -> q.tp().equals(tp)).map(Place::offset).toList();
                assertThat(offsets).isSorted();
            }
        }
    }

    @Test
    void aPlaceKeptWhileMillionsAfterItGoDoesNotKeepThemHeld() {
        PlaceSet set = new PlaceSet();
        TopicPartition a = PARTITIONS.get(0);
        TopicPartition b = PARTITIONS.get(2);
        set.add(a, 0); // never handed out: the order cannot pass it
        for (long i = 1; i <= 2_000_000; i++) {
            set.add(i % 2 == 0 ? a : b, i);
            assertThat(set.remove(i % 2 == 0 ? a : b, i)).isTrue();
        }
        assertThat(set.size()).isOne();
        assertThat(set.held()).isLessThanOrEqualTo(2 + PlaceSet.KEPT_SLOTS + 1);
        assertThat(set.oldestPartition()).isEqualTo(a);
        assertThat(set.oldestOffset()).isZero();
        set.add(b, 2_000_001);
        set.removeOldest();
        assertThat(set.oldestPartition()).isEqualTo(b);
        assertThat(set.oldestOffset()).isEqualTo(2_000_001);
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
