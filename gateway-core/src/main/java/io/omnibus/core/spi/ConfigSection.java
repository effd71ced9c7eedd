package io.omnibus.core.spi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A read-only view of one part of the configuration tree (plain maps, lists and scalars, as YAML
 * gives them). Every getter names the full dotted key in its {@link ConfigException}, so a user
 * sees exactly what to fix. Scalars given as strings (environment overrides) are converted.
 */
public final class ConfigSection {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?");

    private final String path;
    private final Map<String, Object> values;
    /** Where the keys this section is asked about are recorded (null: nowhere). */
    private final Catalog catalog;

    public ConfigSection(String path, Map<String, Object> values) {
        this(path, values, null);
    }

    private ConfigSection(String path, Map<String, Object> values, Catalog catalog) {
        this.path = path == null ? "" : path;
        this.values = values == null ? Map.of() : values;
        this.catalog = catalog;
    }

    /**
     * A root section that records, in {@code catalog}, every key the code reading it knows or asks for: read with
     * the configuration model's own code, it lists the model's keys (how every key is settable from the environment).
     */
    public static ConfigSection cataloguing(Map<String, Object> values, Catalog catalog) {
        return new ConfigSection("", values, catalog);
    }

    /**
     * The keys a configuration model knows, as the code reading it asked for them: its scalars (a number, a string, a
     * duration) by dotted key, apart from keys read as sections or lists.
     */
    public static final class Catalog {
        private final Map<String, Set<String>> known = new java.util.TreeMap<>();
        private final Set<String> structured = new java.util.HashSet<>();

        private void known(String path, java.util.Collection<String> keys) {
            known.computeIfAbsent(path, p -> new TreeSet<>()).addAll(keys);
        }

        /**
         * Every dotted key of a single value outside lists: each key a section declared ({@link #requireOnly}) or
         * a getter read, unless it was read as a section or a list of sections.
         */
        public Set<String> scalars() {
            Set<String> out = new TreeSet<>();
            known.forEach((path, keys) -> {
                if (path.contains("[")) {
                    return; // inside a list: not addressable by a dotted key
                }
                for (String k : keys) {
                    String full = path.isEmpty() ? k : path + "." + k;
                    if (!structured.contains(full)) {
                        out.add(full);
                    }
                }
            });
            return out;
        }
    }

    private void asked(String key) {
        if (catalog != null) {
            catalog.known(path, List.of(key));
        }
    }

    private void structured(String key) {
        if (catalog != null) {
            catalog.structured.add(keyOf(key));
        }
    }

    public static ConfigSection empty(String path) {
        return new ConfigSection(path, Map.of());
    }

    /** The dotted path of this section ("" for the root). */
    public String path() {
        return path;
    }

    public String keyOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    public Set<String> keys() {
        return Collections.unmodifiableSet(values.keySet());
    }

    public boolean has(String key) {
        return values.containsKey(key) && values.get(key) != null;
    }

    /** This section without {@code key} (e.g. the gateway's {@code enabled} before an adapter reads the rest). */
    public ConfigSection without(String key) {
        Map<String, Object> copy = new LinkedHashMap<>(values);
        copy.remove(key);
        return new ConfigSection(path, copy, catalog);
    }

    /** This section with {@code key} set to {@code value} where it is not set. */
    public ConfigSection withDefault(String key, Object value) {
        if (has(key)) {
            return this;
        }
        Map<String, Object> copy = new LinkedHashMap<>(values);
        copy.put(key, value);
        return new ConfigSection(path, copy, catalog);
    }

    /** Fails on any key not in {@code known}: a typo must not be silently ignored. */
    public ConfigSection requireOnly(Set<String> known) {
        if (catalog != null) {
            catalog.known(path, known);
        }
        for (String k : values.keySet()) {
            if (!known.contains(k)) {
                throw new ConfigException(keyOf(k), "unknown key; known keys here are " + new TreeSet<>(known));
            }
        }
        return this;
    }

    public ConfigSection section(String key) {
        structured(key);
        Object v = values.get(key);
        if (v == null) {
            return new ConfigSection(keyOf(key), Map.of(), catalog);
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new ConfigException(keyOf(key), "expected a mapping of keys, got " + describe(v));
        }
        return new ConfigSection(keyOf(key), stringKeys(keyOf(key), m), catalog);
    }

    /** The elements of a list of mappings, each as a section named {@code key[i]}. */
    public List<ConfigSection> sections(String key) {
        structured(key);
        Object v = values.get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw new ConfigException(keyOf(key), "expected a list, got " + describe(v));
        }
        List<ConfigSection> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String k = keyOf(key) + "[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> m)) {
                throw new ConfigException(k, "expected a mapping of keys, got " + describe(list.get(i)));
            }
            out.add(new ConfigSection(k, stringKeys(k, m), catalog));
        }
        return out;
    }

    /** The value as YAML gave it (a map, a list or a scalar), or null. */
    public Object raw(String key) {
        asked(key);
        return values.get(key);
    }

    public String getString(String key, String defaultValue) {
        asked(key);
        Object v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof Map || v instanceof List) {
            throw new ConfigException(keyOf(key), "expected a single value, got " + describe(v));
        }
        return String.valueOf(v);
    }

    /**
     * The host an adapter tells clients to connect to (Kafka's Metadata, RocketMQ's routes): {@code key}, else
     * {@code host} unless that is a wildcard address, else {@code wildcardDefault}. A wildcard or empty value is
     * an error: clients cannot connect to it.
     */
    public String getAdvertisedHost(String key, String host, String wildcardDefault) {
        String advertised = getString(key, wildcard(host) ? wildcardDefault : host);
        if (wildcard(advertised) || advertised.isBlank()) {
            throw new ConfigException(keyOf(key), "must be a host name or address clients can reach, not '" + advertised + "'");
        }
        return advertised;
    }

    private static boolean wildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::");
    }

    public String requireString(String key) {
        String s = getString(key, null);
        if (s == null || s.isBlank()) {
            throw new ConfigException(keyOf(key), "is required");
        }
        return s;
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        asked(key);
        Object v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = String.valueOf(v).trim().toLowerCase(Locale.ROOT);
        if (s.equals("true") || s.equals("yes") || s.equals("on")) {
            return true;
        }
        if (s.equals("false") || s.equals("no") || s.equals("off")) {
            return false;
        }
        throw new ConfigException(keyOf(key), "expected true or false, got " + describe(v));
    }

    public long getLong(String key, long defaultValue, long min, long max) {
        asked(key);
        Object v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        long n;
        if (v instanceof Integer || v instanceof Long || v instanceof Short) {
            n = ((Number) v).longValue();
        } else {
            try {
                n = Long.parseLong(String.valueOf(v).trim());
            } catch (NumberFormatException e) {
                throw new ConfigException(keyOf(key), "expected a whole number, got " + describe(v));
            }
        }
        return checkRange(key, n, min, max);
    }

    public int getInt(String key, int defaultValue, int min, int max) {
        return (int) getLong(key, defaultValue, min, max);
    }

    /** A TCP port: 0 (pick a free one) to 65535. */
    public int getPort(String key, int defaultValue) {
        return getInt(key, defaultValue, 0, 65_535);
    }

    /** A duration: a number of milliseconds or a number with ms, s, m, h or d. */
    public Duration getDuration(String key, Duration defaultValue) {
        asked(key);
        Object v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        Matcher m = DURATION.matcher(String.valueOf(v).trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new ConfigException(keyOf(key), "expected a duration such as 500ms, 30s, 5m, 2h or 1d, got " + describe(v));
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    /** A duration as {@link #getDuration(String, Duration)} reads it, between {@code min} and {@code max}. */
    public Duration getDuration(String key, Duration defaultValue, Duration min, Duration max) {
        Duration d = getDuration(key, defaultValue);
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new ConfigException(keyOf(key), "must be between " + min.toMillis() + " ms and " + max.toMillis()
                    + " ms, got " + d.toMillis() + " ms");
        }
        return d;
    }

    /** A size in bytes: a number, or a number with KiB, MiB or GiB (KB, MB, GB are read as the same powers of two). */
    public long getSize(String key, long defaultValue, long min, long max) {
        asked(key);
        Object v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        Matcher m = SIZE.matcher(String.valueOf(v).trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new ConfigException(keyOf(key), "expected a size such as 65536, 64KiB or 16MiB, got " + describe(v));
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        long factor = switch (unit.charAt(0)) {
            case 'k' -> 1024L;
            case 'm' -> 1024L * 1024;
            case 'g' -> 1024L * 1024 * 1024;
            default -> 1L;
        };
        return checkRange(key, Math.multiplyExact(n, factor), min, max);
    }

    /** One of a fixed set of names (case-insensitive). */
    public String getChoice(String key, String defaultValue, List<String> allowed) {
        String s = getString(key, null);
        if (s == null) {
            return defaultValue;
        }
        String n = s.trim().toLowerCase(Locale.ROOT);
        if (!allowed.contains(n)) {
            throw new ConfigException(keyOf(key), "expected one of " + allowed + ", got '" + s + "'");
        }
        return n;
    }

    private long checkRange(String key, long n, long min, long max) {
        if (n < min || n > max) {
            throw new ConfigException(keyOf(key), "must be between " + min + " and " + max + ", got " + n);
        }
        return n;
    }

    private static Map<String, Object> stringKeys(String key, Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String s)) {
                throw new ConfigException(key, "keys must be names, got " + describe(e.getKey()));
            }
            out.put(s, e.getValue());
        }
        return out;
    }

    private static String describe(Object v) {
        if (v instanceof Map) {
            return "a mapping";
        }
        if (v instanceof List) {
            return "a list";
        }
        return "'" + v + "'";
    }
}
