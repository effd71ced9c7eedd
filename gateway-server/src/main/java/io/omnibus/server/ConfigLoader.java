package io.omnibus.server;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.omnibus.core.config.BrokerConfig;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.ProtocolAdapterFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads {@code gateway.yaml}, applies environment overrides and validates everything, so that a
 * bad file is reported before anything starts.
 *
 * <p>Environment rule: a variable {@code OMNIBUS_<KEY>} overrides the scalar key whose dotted
 * path, upper-cased with {@code .} and {@code -} turned into {@code _}, is {@code <KEY>}:
 * {@code OMNIBUS_MQTT_PORT=1884} sets {@code mqtt.port}, {@code OMNIBUS_KAFKA_ADVERTISED_HOST}
 * sets {@code kafka.advertised-host}, {@code OMNIBUS_BROKER_DEFAULTS_MAX_DELIVERIES} sets
 * {@code broker.defaults.max-deliveries}. The keys are the configuration model's own: those the code that reads
 * the configuration (the gateway's and every installed adapter's) knows, found by reading an empty configuration
 * with it ({@link ConfigSection.Catalog}), so a key cannot be left out of a hand-kept list. Lists ({@code users},
 * {@code addresses}, {@code acl}, {@code bridges}, ...) are not set this way: they come from files named by
 * {@code include} (or {@code OMNIBUS_INCLUDE}), merged into the main file.
 */
public final class ConfigLoader {
    public static final String ENV_PREFIX = "OMNIBUS_";
    /** Variables the launcher itself uses; never configuration. */
    private static final Set<String> LAUNCHER_VARS = Set.of("OMNIBUS_HOME", "OMNIBUS_OPTS", "OMNIBUS_CLASSPATH",
            "OMNIBUS_JAVA", "OMNIBUS_NO_BUILD", "OMNIBUS_LOG_LEVEL", "OMNIBUS_LOG_FORMAT", "OMNIBUS_HEAP", "OMNIBUS_INCLUDE",
            "OMNIBUS_GC_OPTS", "OMNIBUS_CDS", "OMNIBUS_CDS_DIR");
    /** The built-in protocols: their sections are known even when their adapter is not installed. */
    public static final List<String> PROTOCOLS = List.of("mqtt", "amqp", "kafka", "openmessaging");

    private static final Map<String, Integer> DEFAULT_PORTS = Map.of("mqtt", 1883, "amqp", 5672, "kafka", 9092,
            "openmessaging", 9876);

    private final Map<String, String> env;
    private final Map<String, ProtocolAdapterFactory<?>> factories;
    private final List<String> warnings = new ArrayList<>();

    public ConfigLoader(Map<String, String> env, Map<String, ProtocolAdapterFactory<?>> factories) {
        this.env = env;
        this.factories = factories;
    }

    /** Where a relative store.dir is (null: the working directory). */
    private Path home;

    /** Resolves a relative {@code store.dir} under {@code home} (bin/omnibus passes the gateway's home). */
    public ConfigLoader home(Path home) {
        this.home = home;
        return this;
    }

    /** Environment variables that looked like overrides but named no key. */
    public List<String> warnings() {
        return warnings;
    }

    public GatewayConfig load(Path file, Path dataDirOverride) {
        String name = file.toString();
        Map<String, Object> tree = read(file);
        Map<String, String> fromEnvironment;
        try {
            includes(file, tree);
            fromEnvironment = applyEnvironment(tree);
            if (dataDirOverride != null) {
                section(tree, "store").put("dir", dataDirOverride.toString());
            } else if (home != null) {
                Object dir = section(tree, "store").get("dir");
                Path p = Path.of(dir == null ? "data" : String.valueOf(dir));
                if (!p.isAbsolute()) {
                    section(tree, "store").put("dir", home.resolve(p).normalize().toString());
                }
            }
        } catch (ConfigException e) {
            throw new ConfigFileException(name, e.getMessage(), e);
        }
        try {
            return validate(name, new ConfigSection("", tree));
        } catch (ConfigException e) {
            String variable = fromEnvironment.get(e.key());
            if (variable != null) {
                // the value is the environment's, not the file's: say so, with the variable's name
                throw new ConfigFileException("environment variable " + variable, e.getMessage(), e);
            }
            throw new ConfigFileException(name, e.getMessage(), e);
        }
    }

    /** {@code store.kafka}, or null when it names no bootstrap servers. */
    private static GatewayConfig.KafkaStoreConfig kafkaStore(ConfigSection store) {
        ConfigSection kafka = store.section("kafka").requireOnly(Set.of("bootstrap-servers", "topic-prefix",
                "replication-factor", "min-insync-replicas", "node-id", "readers", "read-timeout", "session-timeout",
                "cache-bytes", "properties", "advertised-host", "standby-forwarding", "standby-proxy-protocol"));
        if (!kafka.has("bootstrap-servers")) {
            return null;
        }
        String prefix = kafka.getString("topic-prefix", "omnibus.");
        if (!prefix.matches("[a-zA-Z0-9._-]{0,100}")) {
            throw new ConfigException(kafka.keyOf("topic-prefix"), "a Kafka topic name prefix: up to 100 of a-z A-Z 0-9 . _ -");
        }
        String nodeId = kafka.getString("node-id", null);
        if (nodeId != null && !nodeId.matches("[a-zA-Z0-9._-]{1,100}")) {
            throw new ConfigException(kafka.keyOf("node-id"), "up to 100 of a-z A-Z 0-9 . _ -");
        }
        Duration sessionTimeout = kafka.getDuration("session-timeout", Duration.ofSeconds(10));
        if (sessionTimeout.toMillis() < 1000) {
            throw new ConfigException(kafka.keyOf("session-timeout"), "must be at least 1s (and within the Kafka "
                    + "cluster's group.min.session.timeout.ms and group.max.session.timeout.ms)");
        }
        ConfigSection props = kafka.section("properties");
        Map<String, String> properties = new java.util.TreeMap<>();
        for (String key : props.keys()) {
            Object v = props.raw(key);
            if (v instanceof Map || v instanceof List) {
                throw new ConfigException(props.keyOf(key), "a Kafka client setting takes one value");
            }
            properties.put(key, String.valueOf(v));
        }
        return new GatewayConfig.KafkaStoreConfig(kafka.requireString("bootstrap-servers"), prefix,
                kafka.has("replication-factor") ? kafka.getInt("replication-factor", 1, 1, Short.MAX_VALUE) : null,
                kafka.has("min-insync-replicas") ? kafka.getInt("min-insync-replicas", 1, 1, Short.MAX_VALUE) : null,
                nodeId, kafka.getInt("readers", 2, 1, 64), kafka.getDuration("read-timeout", Duration.ofSeconds(10)),
                sessionTimeout, kafka.getSize("cache-bytes", 64L << 20, 0, 1L << 40), Map.copyOf(properties),
                kafka.getString("advertised-host", null), kafka.getBoolean("standby-forwarding", true),
                kafka.getBoolean("standby-proxy-protocol", false));
    }

    private static Map<String, Object> read(Path file) {
        String name = file.toString();
        try {
            return parse(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ConfigFileException(name, "file not found", e);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": ";
            throw new ConfigFileException(name, where + "not valid YAML: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigFileException(name, "cannot be read: " + e, e);
        }
    }

    // ---- include ---------------------------------------------------------------------------------

    /**
     * Merges the files named by {@code include} (a path or a list, relative to the including file) and by the
     * {@code OMNIBUS_INCLUDE} variable (paths separated by {@code ,}, also relative to the main file) into {@code tree}: mappings are merged key by
     * key, lists are joined (users, addresses, acl rules, bridges from several files), and a single value set in two
     * files is an error that names both. Included files include nothing further.
     */
    @SuppressWarnings("unchecked")
    private void includes(Path file, Map<String, Object> tree) {
        List<Path> files = new ArrayList<>();
        Object named = tree.remove("include");
        Path base = file.toAbsolutePath().getParent();
        if (named instanceof List<?> list) {
            list.forEach(p -> files.add(base.resolve(String.valueOf(p))));
        } else if (named != null && !(named instanceof Map)) {
            files.add(base.resolve(String.valueOf(named)));
        } else if (named != null) {
            throw new ConfigException("include", "expected a file name or a list of them");
        }
        String fromEnv = env.get(ENV_PREFIX + "INCLUDE");
        if (fromEnv != null) {
            for (String p : fromEnv.split(",")) {
                if (!p.isBlank()) {
                    files.add(base.resolve(p.trim())); // relative to the main file, like include's
                }
            }
        }
        Map<String, String> origin = new java.util.HashMap<>();
        for (Path f : files) {
            Map<String, Object> included = read(f);
            if (included.containsKey("include")) {
                throw new ConfigFileException(f.toString(), "include: an included file cannot include others", null);
            }
            merge("", tree, included, f.toString(), file.toString(), origin);
        }
    }

    /** The file that brought {@code key}, or the nearest section above it; the main file if none did. */
    private static String originOf(String key, Map<String, String> origin, String mainFile) {
        for (String k = key; ; k = k.substring(0, k.lastIndexOf('.'))) {
            if (origin.containsKey(k)) {
                return origin.get(k);
            }
            if (!k.contains(".")) {
                return mainFile;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void merge(String prefix, Map<String, Object> into, Map<String, Object> from, String fromFile,
                              String mainFile, Map<String, String> origin) {
        for (Map.Entry<String, Object> e : from.entrySet()) {
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            Object mine = into.get(e.getKey());
            Object theirs = e.getValue();
            if (mine == null) {
                into.put(e.getKey(), theirs);
                origin.put(key, fromFile);
            } else if (mine instanceof Map<?, ?> m && theirs instanceof Map<?, ?> t) {
                merge(key, (Map<String, Object>) m, (Map<String, Object>) t, fromFile, mainFile, origin);
            } else if (mine instanceof List<?> m && theirs instanceof List<?> t) {
                List<Object> joined = new ArrayList<>(m);
                joined.addAll(t);
                into.put(e.getKey(), joined);
            } else {
                throw new ConfigException(key, "set both in " + originOf(key, origin, mainFile) + " and in " + fromFile
                        + " (an included file adds keys and list entries; it does not override)");
            }
        }
    }

    /** YAML's own parser (its tokens), shared: thread-safe once configured. */
    private static final YAMLFactory YAML = new YAMLFactory();

    /**
     * The file as maps, lists and scalars (strings, {@code Integer}/{@code Long}/{@code BigInteger}, {@code Double},
     * booleans, nulls), built from the YAML parser's tokens: what an {@code ObjectMapper} reading it as {@code Object}
     * makes, without the databind machinery (which cost the start-up about 50 ms to set up for one file).
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> parse(String yaml) throws IOException {
        if (yaml.isBlank()) {
            return new LinkedHashMap<>();
        }
        Object root;
        try (JsonParser p = YAML.createParser(yaml)) {
            JsonToken first = p.nextToken();
            root = first == null ? null : value(p, first);
        }
        if (root == null) {
            return new LinkedHashMap<>();
        }
        if (!(root instanceof Map)) {
            throw new ConfigException("(root)", "expected a mapping of keys at the top of the file");
        }
        return (Map<String, Object>) root;
    }

    private static Object value(JsonParser p, JsonToken token) throws IOException {
        switch (token) {
            case START_OBJECT -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                    String key = p.currentName(); // a FIELD_NAME: the parser fails on anything else here
                    map.put(key, value(p, next(p)));
                }
                return map;
            }
            case START_ARRAY -> {
                List<Object> list = new ArrayList<>();
                for (JsonToken t = next(p); t != JsonToken.END_ARRAY; t = next(p)) {
                    list.add(value(p, t));
                }
                return list;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT -> {
                return p.getNumberValue();
            }
            case VALUE_NUMBER_FLOAT -> {
                return p.getDoubleValue();
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return token == JsonToken.VALUE_TRUE;
            }
            case VALUE_NULL -> {
                return null;
            }
            case VALUE_EMBEDDED_OBJECT -> {
                return p.getEmbeddedObject(); // !!binary
            }
            default -> throw new com.fasterxml.jackson.core.JsonParseException(p, "unexpected " + token);
        }
    }

    private static JsonToken next(JsonParser p) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            throw new com.fasterxml.jackson.core.JsonParseException(p, "unexpected end of the file");
        }
        return t;
    }

    private GatewayConfig validate(String source, ConfigSection root) {
        Set<String> known = new TreeSet<>(Set.of("admin", "store", "broker", "addresses", "subscriptions", "shutdown", "users",
                "bridges", "allow-anonymous", "acl", "allow-plain-without-tls", "server"));
        known.addAll(PROTOCOLS);
        known.addAll(factories.keySet());
        root.requireOnly(known);

        ConfigSection admin = root.section("admin").requireOnly(Set.of("host", "port", "tls", "tokens", "subscription-lag-top"));
        io.omnibus.core.transport.Listeners.Config adminListeners = io.omnibus.core.transport.Listeners.read(admin, 8080, 8443, false);
        Map<String, String> tokens = new LinkedHashMap<>();
        for (ConfigSection t : admin.sections("tokens")) {
            t.requireOnly(Set.of("user", "token-sha256"));
            String hash = t.requireString("token-sha256").toLowerCase(java.util.Locale.ROOT);
            if (!hash.matches("[0-9a-f]{64}")) {
                throw new ConfigException(t.keyOf("token-sha256"), "expected 64 hex digits (make one with: "
                        + "bin/omnibus hash-token)");
            }
            tokens.put(hash, t.requireString("user"));
        }
        GatewayConfig.AdminConfig adminConfig = new GatewayConfig.AdminConfig(adminListeners.host(), adminListeners.port(),
                adminListeners.tls(), Map.copyOf(tokens), admin.getInt("subscription-lag-top", 20, 0, 1000));

        ConfigSection store = root.section("store").requireOnly(Set.of("type", "dir", "fsync", "fsync-interval",
                "fsync-bytes", "segment-size", "preallocate", "checkpoint-interval", "queue-bytes", "retention-age", "retention-bytes",
                "memory", "kafka"));
        ConfigSection memory = store.section("memory").requireOnly(Set.of("max-messages", "max-bytes"));
        GatewayConfig.StoreConfig storeConfig = new GatewayConfig.StoreConfig(
                store.getChoice("type", "file", GatewayConfig.StoreConfig.TYPES),
                Path.of(store.getString("dir", "data")),
                store.getChoice("fsync", "group", GatewayConfig.StoreConfig.FSYNC),
                store.getDuration("fsync-interval", Duration.ofMillis(5)),
                store.getSize("fsync-bytes", 1024 * 1024, 1, 1L << 30),
                store.getSize("segment-size", 128L << 20, 1L << 16, 1L << 30),
                store.getSize("preallocate", 4L << 20, 0, 1L << 30),
                store.getDuration("checkpoint-interval", Duration.ofSeconds(10)),
                store.getSize("queue-bytes", 64L << 20, 1L << 16, 1L << 34),
                store.getDuration("retention-age", Duration.ofDays(7)),
                store.getSize("retention-bytes", 0, 0, Long.MAX_VALUE),
                memory.getLong("max-messages", 100_000, 1, Long.MAX_VALUE),
                memory.getSize("max-bytes", 256L * 1024 * 1024, 1024, Long.MAX_VALUE),
                kafkaStore(store));
        if (storeConfig.checkpointInterval().toMillis() < 10) {
            throw new ConfigException("store.checkpoint-interval", "must be at least 10ms");
        }

        if (storeConfig.type().equals("kafka") && storeConfig.kafka() == null) {
            throw new ConfigException("store.kafka.bootstrap-servers", "store.type kafka needs the Kafka cluster's "
                    + "bootstrap servers (host:port, comma-separated)");
        }

        ConfigSection shutdown = root.section("shutdown").requireOnly(Set.of("timeout"));
        Duration shutdownTimeout = shutdown.getDuration("timeout", Duration.ofSeconds(10));
        ConfigSection server = root.section("server").requireOnly(Set.of("event-loops", "worker-threads"));
        int eventLoops = server.getInt("event-loops", Runtime.getRuntime().availableProcessors(), 1, 1024);
        int workerThreads = server.getInt("worker-threads", GatewayConfig.defaultWorkerThreads(), 1, 1024);

        BrokerConfig broker = BrokerConfig.read(root);
        if (storeConfig.type().equals("file") && broker.maxMessageSize() + 65_536 > storeConfig.segmentSize()) {
            throw new ConfigException("store.segment-size", "must exceed broker.max-message-size ("
                    + broker.maxMessageSize() + " bytes) by at least 64KiB");
        }

        Map<String, GatewayConfig.AdapterSection> adapters = new LinkedHashMap<>();
        Set<String> protocols = new TreeSet<>(PROTOCOLS);
        protocols.addAll(factories.keySet());
        for (String protocol : protocols) {
            ConfigSection s = root.section(protocol);
            boolean enabled = s.getBoolean("enabled", false);
            ConfigSection adapterSection = s.without("enabled");
            if (DEFAULT_PORTS.containsKey(protocol)) {
                adapterSection = adapterSection.withDefault("port", DEFAULT_PORTS.get(protocol));
            }
            if (adapterSection.has("port")) {
                io.omnibus.core.transport.Listeners.portOrOff(adapterSection, "port", 0);
            }
            ProtocolAdapterFactory<?> factory = factories.get(protocol);
            if (enabled && factory == null) {
                throw new ConfigException(protocol + ".enabled", "the " + protocol
                        + " adapter is enabled but not on the classpath (no ProtocolAdapterFactory for '" + protocol
                        + "' was found); install its jar in lib/ or set " + protocol + ".enabled: false");
            }
            if (factory != null) {
                factory.configure(adapterSection);
            }
            adapters.put(protocol, new GatewayConfig.AdapterSection(protocol, enabled, adapterSection));
        }
        io.omnibus.core.config.StaticUsers users = io.omnibus.core.config.StaticUsers.read(root.sections("users"),
                root.getBoolean("allow-anonymous", false)).plainWithoutTls(root.getBoolean("allow-plain-without-tls", false));
        return new GatewayConfig(source, adminConfig, storeConfig, broker, shutdownTimeout, eventLoops, workerThreads,
                users, io.omnibus.core.config.AccessRules.read(root, users), adapters,
                io.omnibus.server.bridge.BridgeConfig.read(root.sections("bridges"), ConfigLoader.class.getClassLoader()));
    }

    // ---- environment -------------------------------------------------------------------------------

    /**
     * Sets the keys named by {@code OMNIBUS_*} variables in {@code tree}; returns the variable that set each key. A
     * variable naming no key is a warning, not an error: the environment is shared with other programs.
     */
    private Map<String, String> applyEnvironment(Map<String, Object> tree) {
        Map<String, String> byEnvName = new LinkedHashMap<>();
        for (String key : settableKeys()) {
            byEnvName.put(envName(key), key);
        }
        collectScalars("", tree, byEnvName);
        Map<String, String> applied = new java.util.HashMap<>();
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(env).entrySet()) {
            String var = e.getKey();
            if (!var.startsWith(ENV_PREFIX) || LAUNCHER_VARS.contains(var)) {
                continue;
            }
            String key = byEnvName.get(var);
            if (key == null) {
                warnings.add(var + " is ignored: it names no configuration key");
                continue;
            }
            String[] parts = key.split("\\.");
            Map<String, Object> node = tree;
            for (int i = 0; i < parts.length - 1; i++) {
                node = section(node, parts[i]);
            }
            node.put(parts[parts.length - 1], e.getValue());
            applied.put(key, var);
        }
        return applied;
    }

    /**
     * Every single-value key of the configuration model: the keys the gateway's and the installed adapters' own
     * reading code knows, found by reading an empty configuration with it.
     */
    public Set<String> settableKeys() {
        ConfigSection.Catalog catalog = new ConfigSection.Catalog();
        validate("(keys)", ConfigSection.cataloguing(new LinkedHashMap<>(), catalog));
        return catalog.scalars();
    }

    static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    @SuppressWarnings("unchecked")
    private static void collectScalars(String prefix, Map<String, Object> node, Map<String, String> out) {
        for (Map.Entry<String, Object> e : node.entrySet()) {
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue() instanceof Map<?, ?> m) {
                collectScalars(key, (Map<String, Object>) m, out);
            } else if (!(e.getValue() instanceof List)) {
                out.putIfAbsent(envName(key), key);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> node, String key) {
        Object v = node.get(key);
        if (v instanceof Map) {
            return (Map<String, Object>) v;
        }
        if (v != null) {
            throw new ConfigException(key, "expected a mapping of keys, got '" + v + "'");
        }
        Map<String, Object> created = new LinkedHashMap<>();
        node.put(key, created);
        return created;
    }
}
