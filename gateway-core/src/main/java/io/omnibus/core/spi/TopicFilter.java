package io.omnibus.core.spi;

import java.util.Collections;
import java.util.List;

/**
 * A subscription filter over canonical addresses: MQTT's {@code +} (exactly one level) and
 * {@code #} (any number of levels, including none, last only). Filters that start with a wildcard
 * never match addresses that start with {@code $} [MQTT-4.7.2-1].
 */
public final class TopicFilter {
    public static final String SINGLE = "+";
    public static final String MULTI = "#";

    private final String filter;
    private final List<String> levels;
    private final boolean wildcard;

    private TopicFilter(String filter, List<String> levels, boolean wildcard) {
        this.filter = filter;
        this.levels = levels;
        this.wildcard = wildcard;
    }

    /** Parses a filter, naming the broken rule when it is not valid. */
    public static TopicFilter of(String filter) {
        Names.checkCommon("topic filter", filter);
        List<String> levels = Address.split(filter);
        boolean wildcard = false;
        for (int i = 0; i < levels.size(); i++) {
            String level = levels.get(i);
            int hash = level.indexOf('#');
            if (hash >= 0) {
                if (level.length() != 1 || i != levels.size() - 1) {
                    throw new InvalidAddressException("topic filter '" + Names.printable(filter) + "': '#' at level " + (i + 1)
                            + " must stand alone in the last level [MQTT-4.7.1-2]");
                }
                wildcard = true;
            }
            int plus = level.indexOf('+');
            if (plus >= 0) {
                if (level.length() != 1) {
                    throw new InvalidAddressException("topic filter '" + Names.printable(filter) + "': '+' at level " + (i + 1)
                            + " must occupy the entire level [MQTT-4.7.1-3]");
                }
                wildcard = true;
            }
        }
        return new TopicFilter(filter, Collections.unmodifiableList(levels), wildcard);
    }

    /** The filter that matches exactly one address. */
    public static TopicFilter exactly(Address address) {
        return new TopicFilter(address.name(), Collections.unmodifiableList(Address.split(address.name())), false);
    }

    public String filter() {
        return filter;
    }

    public List<String> levels() {
        return levels;
    }

    public boolean hasWildcard() {
        return wildcard;
    }

    /**
     * Matches one address; the topic tree does the same for many filters at once. Walks the name level by level
     * without splitting it: a retention pass asks this of every address against the address rules.
     */
    public boolean matches(Address address) {
        String name = address.name();
        if (address.isSystem() && (levels.get(0).equals(SINGLE) || levels.get(0).equals(MULTI))) {
            return false;
        }
        int n = name.length();
        int from = 0; // where the name's next level starts; past n: no level left
        for (int i = 0; i < levels.size(); i++) {
            String level = levels.get(i);
            if (level.equals(MULTI)) {
                return true;
            }
            if (from > n) {
                return false;
            }
            int end = name.indexOf(Address.SEPARATOR, from);
            if (end < 0) {
                end = n;
            }
            if (!level.equals(SINGLE) && (end - from != level.length() || !name.startsWith(level, from))) {
                return false;
            }
            from = end + 1;
        }
        return from > n;
    }

    /**
     * Whether every address {@code other} can match, this filter matches too (an authorization rule's filter
     * covering a requested subscription): {@code a/#} covers {@code a/+/b}, {@code +} covers only one level, and
     * a filter starting with a wildcard covers no {@code $} address.
     */
    public boolean covers(TopicFilter other) {
        List<String> mine = levels;
        List<String> theirs = other.levels;
        boolean system = theirs.get(0).startsWith("$");
        if (system && (mine.get(0).equals(SINGLE) || mine.get(0).equals(MULTI))) {
            return false;
        }
        for (int i = 0; i < mine.size(); i++) {
            String level = mine.get(i);
            if (level.equals(MULTI)) {
                return true;
            }
            if (i >= theirs.size()) {
                return false;
            }
            String t = theirs.get(i);
            if (t.equals(MULTI)) {
                return false; // theirs reaches further than one level or a name
            }
            if (!level.equals(SINGLE) && !level.equals(t)) {
                return false;
            }
        }
        return mine.size() == theirs.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopicFilter f && f.filter.equals(filter);
    }

    @Override
    public int hashCode() {
        return filter.hashCode();
    }

    @Override
    public String toString() {
        return filter;
    }
}
