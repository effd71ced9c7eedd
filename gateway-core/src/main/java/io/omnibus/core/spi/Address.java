package io.omnibus.core.spi;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A canonical address: the name of a topic, MQTT style, levels separated by {@code /}.
 *
 * <p>Every adapter maps its own names to and from these with a documented, reversible rule. Levels
 * may be empty ({@code a//b}) and may hold any character but the wildcards {@code +} and
 * {@code #} and U+0000; no normalisation is applied [MQTT-4.7.3-4].
 */
public final class Address implements Comparable<Address> {
    public static final char SEPARATOR = '/';

    private final String name;

    private Address(String name) {
        this.name = name;
    }

    /** Parses a topic name, naming the broken rule when it is not valid. */
    public static Address of(String name) {
        Names.checkCommon("address", name);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '+' || c == '#') {
                throw new InvalidAddressException("address '" + Names.printable(name) + "' contains the wildcard '" + c
                        + "' at index " + i + "; wildcards are allowed only in subscription filters [MQTT-4.7.1-1]");
            }
        }
        return new Address(name);
    }

    public String name() {
        return name;
    }

    /** The levels between separators, in order; empty levels are kept. */
    public List<String> levels() {
        return Collections.unmodifiableList(split(name));
    }

    /** Whether this is a system topic: one that filters starting with a wildcard never match [MQTT-4.7.2-1]. */
    public boolean isSystem() {
        return name.charAt(0) == '$';
    }

    static List<String> split(String s) {
        List<String> levels = new ArrayList<>(4);
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == SEPARATOR) {
                levels.add(s.substring(start, i));
                start = i + 1;
            }
        }
        levels.add(s.substring(start));
        return levels;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Address a && a.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public int compareTo(Address o) {
        return name.compareTo(o.name);
    }

    @Override
    public String toString() {
        return name;
    }
}
