package io.omnibus.server;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * {@code broker.defaults.max-deliveries}. Lists ({@code addresses}, {@code subscriptions}) cannot
 * be overridden this way, nor can {@code bridges}.
 */
public final class ConfigLoader {
    public static final String ENV_PREFIX = "OMNIBUS_";
    /** Variables the launcher itself uses; never configuration. */
    private static final Set<String> LAUNCHER_VARS = Set.of("OMNIBUS_HOME", "OMNIBUS_OPTS", "OMNIBUS_CLASSPATH",
            "OMNIBUS_JAVA", "OMNIBUS_NO_BUILD", "OMNIBUS_LOG_LEVEL");
    /** The built-in protocols: their sections are known even when their adapter is not installed. */
    public static final List<String> PROTOCOLS = List.of("mqtt", "amqp", "kafka", "openmessaging");

    /** Every scalar key an environment variable may set, besides those present in the file. */
    private static final List<String> KNOWN_SCALARS = List.of(
            "admin.host", "admin.port", "store.type", "store.dir", "store.fsync", "store.fsync-interval",
            "store.fsync-bytes", "store.segment-size", "store.checkpoint-interval", "store.queue-bytes",
            "store.retention-age", "store.retention-bytes", "store.memory.max-messages", "store.memory.max-bytes", "shutdown.timeout",
            "broker.auto-create-topics", "broker.max-message-size", "broker.shards",
            "broker.defaults.dispatch", "broker.defaults.max-deliveries", "broker.defaults.redelivery-delay",
            "broker.defaults.redelivery-multiplier", "broker.defaults.max-redelivery-delay",
            "broker.defaults.ack-timeout", "broker.defaults.dead-letter-address", "broker.defaults.max-pending",
            "broker.defaults.overflow",
            "mqtt.enabled", "mqtt.host", "mqtt.port", "amqp.enabled", "amqp.host", "amqp.port",
            "kafka.enabled", "kafka.host", "kafka.port", "kafka.advertised-host", "kafka.advertised-port",
            "kafka.node-id", "kafka.cluster-id", "kafka.max-request-size", "kafka.fetch-max-bytes", "kafka.max-inflight-requests",
            "kafka.auto-create-topics", "kafka.partitions", "kafka.max-connections", "kafka.group-initial-rebalance-delay",
            "kafka.group-min-session-timeout", "kafka.group-max-session-timeout", "kafka.producer-state-retention",
            "openmessaging.enabled", "openmessaging.host", "openmessaging.port", "openmessaging.advertised-host",
            "openmessaging.advertised-port", "openmessaging.broker-name", "openmessaging.cluster-name",
            "openmessaging.max-frame-size", "openmessaging.max-inflight-requests", "openmessaging.max-connections",
            "openmessaging.auto-create-topics", "openmessaging.queues", "openmessaging.max-held-pulls", "openmessaging.max-suspend",
            "openmessaging.pull-max-bytes", "openmessaging.max-reconsume-times", "openmessaging.delay-levels", "openmessaging.max-delay", "openmessaging.max-batch-messages",
            "openmessaging.transaction-timeout", "openmessaging.transaction-check-interval",
            "openmessaging.transaction-max-checks", "openmessaging.client-expiry", "openmessaging.lock-expiry",
            "openmessaging.idle-timeout", "kafka.idle-timeout", "kafka.max-request-size-unauthenticated",
            "kafka.authentication-timeout", "amqp.authentication-timeout", "allow-anonymous", "allow-plain-without-tls");

    /** Every listener's TLS and connection-cap keys (docs/security.md), settable from the environment too. */
    private static final List<String> LISTENER_SCALARS = listenerScalars();

    private static List<String> listenerScalars() {
        List<String> keys = new ArrayList<>();
        for (String listener : List.of("admin", "mqtt", "mqtt.websocket", "amqp", "kafka", "openmessaging")) {
            for (String key : List.of("enabled", "port", "advertised-port", "cert", "key", "keystore", "keystore-password", "ca",
                    "client-auth", "identity", "protocols", "reload-check", "handshake-timeout")) {
                keys.add(listener + ".tls." + key);
            }
            if (!listener.equals("admin") && !listener.equals("mqtt.websocket")) {
                keys.add(listener + ".max-connections-per-address");
            }
        }
        return List.copyOf(keys);
    }

    private static final Map<String, Integer> DEFAULT_PORTS = Map.of("mqtt", 1883, "amqp", 5672, "kafka", 9092,
            "openmessaging", 9876);

    private final Map<String, String> env;
    private final Map<String, ProtocolAdapterFactory<?>> factories;
    private final List<String> warnings = new ArrayList<>();

    public ConfigLoader(Map<String, String> env, Map<String, ProtocolAdapterFactory<?>> factories) {
        this.env = env;
        this.factories = factories;
    }

    /** Environment variables that looked like overrides but named no key. */
    public List<String> warnings() {
        return warnings;
    }

    public GatewayConfig load(Path file, Path dataDirOverride) {
        String name = file.toString();
        Map<String, Object> tree;
        try {
            tree = parse(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ConfigFileException(name, "file not found", e);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": ";
            throw new ConfigFileException(name, where + "not valid YAML: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigFileException(name, "cannot be read: " + e, e);
        }
        try {
            applyEnvironment(tree);
            if (dataDirOverride != null) {
                section(tree, "store").put("dir", dataDirOverride.toString());
            }
            return validate(name, new ConfigSection("", tree));
        } catch (ConfigException e) {
            throw new ConfigFileException(name, e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> parse(String yaml) throws JsonProcessingException {
        if (yaml.isBlank()) {
            return new LinkedHashMap<>();
        }
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
        Object root = mapper.readValue(yaml, Object.class);
        if (root == null) {
            return new LinkedHashMap<>();
        }
        if (!(root instanceof Map)) {
            throw new ConfigException("(root)", "expected a mapping of keys at the top of the file");
        }
        return (Map<String, Object>) root;
    }

    private GatewayConfig validate(String source, ConfigSection root) {
        Set<String> known = new TreeSet<>(Set.of("admin", "store", "broker", "addresses", "subscriptions", "shutdown", "users",
                "bridges", "allow-anonymous", "acl", "allow-plain-without-tls"));
        known.addAll(PROTOCOLS);
        known.addAll(factories.keySet());
        root.requireOnly(known);

        ConfigSection admin = root.section("admin").requireOnly(Set.of("host", "port", "tls", "tokens"));
        io.omnibus.core.transport.Listeners.Config adminListeners = io.omnibus.core.transport.Listeners.read(admin, 8080, 8443);
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
                adminListeners.tls(), Map.copyOf(tokens));

        ConfigSection store = root.section("store").requireOnly(Set.of("type", "dir", "fsync", "fsync-interval",
                "fsync-bytes", "segment-size", "checkpoint-interval", "queue-bytes", "retention-age", "retention-bytes",
                "memory"));
        ConfigSection memory = store.section("memory").requireOnly(Set.of("max-messages", "max-bytes"));
        GatewayConfig.StoreConfig storeConfig = new GatewayConfig.StoreConfig(
                store.getChoice("type", "file", GatewayConfig.StoreConfig.TYPES),
                Path.of(store.getString("dir", "./data")),
                store.getChoice("fsync", "group", GatewayConfig.StoreConfig.FSYNC),
                store.getDuration("fsync-interval", Duration.ofMillis(5)),
                store.getSize("fsync-bytes", 1024 * 1024, 1, 1L << 30),
                store.getSize("segment-size", 128L << 20, 1L << 16, 1L << 30),
                store.getDuration("checkpoint-interval", Duration.ofSeconds(10)),
                store.getSize("queue-bytes", 64L << 20, 1L << 16, 1L << 34),
                store.getDuration("retention-age", Duration.ofDays(7)),
                store.getSize("retention-bytes", 0, 0, Long.MAX_VALUE),
                memory.getLong("max-messages", 100_000, 1, Long.MAX_VALUE),
                memory.getSize("max-bytes", 256L * 1024 * 1024, 1024, Long.MAX_VALUE));
        if (storeConfig.checkpointInterval().toMillis() < 10) {
            throw new ConfigException("store.checkpoint-interval", "must be at least 10ms");
        }

        ConfigSection shutdown = root.section("shutdown").requireOnly(Set.of("timeout"));
        Duration shutdownTimeout = shutdown.getDuration("timeout", Duration.ofSeconds(10));

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
        return new GatewayConfig(source, adminConfig, storeConfig, broker, shutdownTimeout, users,
                io.omnibus.core.config.AccessRules.read(root, users), adapters,
                io.omnibus.server.bridge.BridgeConfig.read(root.sections("bridges"), ConfigLoader.class.getClassLoader()));
    }

    // ---- environment -------------------------------------------------------------------------------

    private void applyEnvironment(Map<String, Object> tree) {
        Map<String, String> byEnvName = new LinkedHashMap<>();
        for (String key : KNOWN_SCALARS) {
            byEnvName.put(envName(key), key);
        }
        for (String key : LISTENER_SCALARS) {
            byEnvName.put(envName(key), key);
        }
        collectScalars("", tree, byEnvName);
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
        }
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
