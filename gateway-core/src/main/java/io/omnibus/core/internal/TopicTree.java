package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.TopicFilter;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Topic filters to values, matched against addresses level by level: a trie whose edges are filter
 * levels, {@code +} and {@code #} included. Matching costs grow with the depth of the address and the
 * number of wildcard branches on its path, not with the number of filters.
 *
 * <p>One writer, many readers: {@link #add} and {@link #remove} must be called by one thread (or
 * context) at a time; {@link #match} may run concurrently on any thread. Children live in
 * concurrent maps and each node's values in a copy-on-write array, so a reader sees every value
 * either before or after a write, never a torn one.
 */
public final class TopicTree<V> {
    private static final Object[] NONE = new Object[0];

    private final Node root = new Node();
    private volatile int size;

    private static final class Node {
        final ConcurrentHashMap<String, Node> children = new ConcurrentHashMap<>(4);
        volatile Object[] values = NONE;

        boolean isEmpty() {
            return values.length == 0 && children.isEmpty();
        }
    }

    /** Adds {@code value} under {@code filter}; adding the same pair twice keeps one. */
    public boolean add(TopicFilter filter, V value) {
        Node node = root;
        for (String level : filter.levels()) {
            node = node.children.computeIfAbsent(level, l -> new Node());
        }
        Object[] old = node.values;
        for (Object o : old) {
            if (o.equals(value)) {
                return false;
            }
        }
        Object[] next = Arrays.copyOf(old, old.length + 1);
        next[old.length] = value;
        node.values = next;
        size++;
        return true;
    }

    /** Removes one pair, pruning nodes that hold nothing any more. */
    public boolean remove(TopicFilter filter, V value) {
        List<String> levels = filter.levels();
        Node[] path = new Node[levels.size() + 1];
        path[0] = root;
        for (int i = 0; i < levels.size(); i++) {
            Node child = path[i].children.get(levels.get(i));
            if (child == null) {
                return false;
            }
            path[i + 1] = child;
        }
        Node node = path[levels.size()];
        Object[] old = node.values;
        int at = -1;
        for (int i = 0; i < old.length; i++) {
            if (old[i].equals(value)) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            return false;
        }
        Object[] next = new Object[old.length - 1];
        System.arraycopy(old, 0, next, 0, at);
        System.arraycopy(old, at + 1, next, at, old.length - at - 1);
        node.values = next.length == 0 ? NONE : next;
        size--;
        for (int i = levels.size(); i > 0 && path[i].isEmpty(); i--) {
            path[i - 1].children.remove(levels.get(i - 1), path[i]);
        }
        return true;
    }

    /** Calls {@code sink} once for every (filter, value) pair whose filter matches {@code address}. */
    public void match(Address address, Consumer<? super V> sink) {
        String name = address.name();
        // [MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with '$'
        matchLevel(root, name, 0, !address.isSystem(), sink);
    }

    /**
     * A tree of {@code values} grouped by their filters, made once to be matched many times: one value per distinct
     * filter, the list of every value with that filter. ({@link #add} compares a value with each one its node holds
     * already: thousands of subscriptions with one filter would cost their square.)
     */
    public static <V> TopicTree<List<V>> grouped(Iterable<V> values, Function<? super V, TopicFilter> filterOf) {
        java.util.Map<TopicFilter, List<V>> byFilter = new java.util.HashMap<>();
        for (V v : values) {
            byFilter.computeIfAbsent(filterOf.apply(v), f -> new java.util.ArrayList<>()).add(v);
        }
        TopicTree<List<V>> tree = new TopicTree<>();
        byFilter.forEach(tree::add);
        return tree;
    }

    public int size() {
        return size;
    }

    @SuppressWarnings("unchecked")
    private void matchLevel(Node node, String name, int start, boolean wildcardsAllowed, Consumer<? super V> sink) {
        int end = name.indexOf(Address.SEPARATOR, start);
        boolean last = end < 0;
        String level = last ? name.substring(start) : name.substring(start, end);
        if (wildcardsAllowed) {
            Node multi = node.children.get(TopicFilter.MULTI);
            if (multi != null) {
                emit(multi, sink);
            }
            Node single = node.children.get(TopicFilter.SINGLE);
            if (single != null) {
                descend(single, name, end, last, sink);
            }
        }
        Node exact = node.children.get(level);
        if (exact != null) {
            descend(exact, name, end, last, sink);
        }
    }

    private void descend(Node child, String name, int end, boolean last, Consumer<? super V> sink) {
        if (last) {
            emit(child, sink);
            // "sport/#" also matches "sport": '#' includes the parent level [MQTT-4.7.1-2]
            Node multi = child.children.get(TopicFilter.MULTI);
            if (multi != null) {
                emit(multi, sink);
            }
        } else {
            matchLevel(child, name, end + 1, true, sink);
        }
    }

    @SuppressWarnings("unchecked")
    private static <V> void emit(Node node, Consumer<? super V> sink) {
        for (Object v : node.values) {
            sink.accept((V) v);
        }
    }
}
