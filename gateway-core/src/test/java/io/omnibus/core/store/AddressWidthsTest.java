package io.omnibus.core.store;

import io.omnibus.core.spi.Address;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The partitions a subscription's filter matches, found from the addresses a store noted. */
class AddressWidthsTest {
    private static TopicPartition tp(String address, int partition) {
        return new TopicPartition(Address.of(address), partition);
    }

    private static List<TopicPartition> matching(AddressWidths widths, String filter) {
        List<TopicPartition> out = new ArrayList<>();
        widths.forEachMatching(filter, out::add);
        return out;
    }

    @Test
    void anExactFilterGetsEveryPartitionUpToTheHighestNotedOfItsAddressOnly() {
        AddressWidths widths = new AddressWidths();
        widths.add(tp("a/b", 2));
        widths.add(tp("a/b", 0));
        widths.add(tp("a/c", 0));
        assertThat(matching(widths, "a/b")).containsExactly(tp("a/b", 0), tp("a/b", 1), tp("a/b", 2));
        assertThat(widths.width(Address.of("a/b"))).isEqualTo(3);
        assertThat(matching(widths, "a/d")).isEmpty();
    }

    @Test
    void aWildcardGetsThePartitionsOfEveryAddressItMatches() {
        AddressWidths widths = new AddressWidths();
        widths.add(tp("s/1/t", 0));
        widths.add(tp("s/2/t", 1));
        widths.add(tp("s/2/h", 0));
        widths.add(tp("other", 0));
        assertThat(matching(widths, "s/+/t")).containsExactlyInAnyOrder(tp("s/1/t", 0), tp("s/2/t", 0), tp("s/2/t", 1));
        assertThat(matching(widths, "s/#")).hasSize(4);
        assertThat(matching(widths, "#")).hasSize(5);
    }
}
