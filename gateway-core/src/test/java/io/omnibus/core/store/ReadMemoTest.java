package io.omnibus.core.store;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReadMemoTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aRepeatedValueIsMadeOnceAndEveryValueReadsBackAsItsOwnBytesSay() {
        ReadMemo memo = new ReadMemo();
        byte[] framed = utf8("xxsensors/1yy");
        String first = memo.string(framed, 2, 9);
        assertThat(first).isEqualTo("sensors/1");
        assertThat(memo.string(utf8("sensors/1"), 0, 9)).isSameAs(first);
        // many values of one length sharing their first and last bytes: slots are shared, answers never mixed up
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            names.add(String.format("a%05dz", i));
        }
        for (int round = 0; round < 2; round++) {
            for (String n : names) {
                assertThat(memo.string(utf8(n), 0, n.length())).isEqualTo(n);
                assertThat(memo.address(utf8(n), 0, n.length())).isEqualTo(Address.of(n));
            }
        }
        String longName = "l".repeat(1000);
        assertThat(memo.string(utf8(longName), 0, 1000)).isEqualTo(longName);
        assertThat(memo.string(utf8("é/ü"), 0, utf8("é/ü").length)).isEqualTo("é/ü");
    }

    /** Empty slots hold a key no value matches: an empty value, and one of the longest kept, read back as themselves. */
    @Test
    void anEmptyValueAndOneOfTheLongestKeptReadBackFromAFreshMemo() {
        for (String v : List.of("", "k".repeat(256), "k".repeat(257), "\0".repeat(256))) {
            ReadMemo memo = new ReadMemo();
            byte[] framed = utf8("[" + v + "]");
            for (int i = 0; i < 2; i++) {
                assertThat(memo.string(framed, 1, framed.length - 2)).isEqualTo(v);
            }
        }
    }

    @Test
    void anInvalidAddressIsRefusedEveryTimeAndNotKept() {
        ReadMemo memo = new ReadMemo();
        byte[] wild = utf8("a/+/b");
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> memo.address(wild, 0, wild.length)).isInstanceOf(InvalidAddressException.class);
        }
    }
}
