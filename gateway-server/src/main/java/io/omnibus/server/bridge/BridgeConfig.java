package io.omnibus.server.bridge;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.TopicFilter;
import io.omnibus.core.spi.bridge.RemoteConnector;
import io.omnibus.core.spi.bridge.RemoteSpec;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;

/**
 * One entry of {@code bridges:} (docs/bridges.md), checked.
 *
 * @param local          out: the address filter whose messages leave; in: the local address, a template of
 *                       {@code {address}} (the remote name's address)
 * @param remoteAddress  out: the remote name, a template of {@code {address}} (the address's name in the remote's
 *                       protocol); in: the remote source (an AMQP address, an MQTT topic filter, Kafka topics)
 */
public record BridgeConfig(String name, boolean outbound, String local, String remoteAddress, RemoteSpec remote,
                           RemoteConnector connector, Duration backoffInitial, Duration backoffMax) {
    private static final Set<String> KEYS = Set.of("name", "direction", "local", "remote", "in-flight", "reconnect", "enabled");
    private static final Set<String> REMOTE_KEYS = Set.of("url", "address", "username", "password", "tls");

    /** The enabled bridges of a configuration; every key checked, the remote's by its connector. */
    public static List<BridgeConfig> read(List<ConfigSection> sections, ClassLoader loader) {
        if (sections.isEmpty()) {
            return List.of();
        }
        Map<String, RemoteConnector> connectors = connectors(loader);
        List<BridgeConfig> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (ConfigSection s : sections) {
            Set<String> known = new HashSet<>(KEYS);
            s.requireOnly(known);
            String name = s.requireString("name");
            if (!name.matches("[A-Za-z0-9._-]{1,100}")) {
                throw new ConfigException(s.keyOf("name"), "must be 1 to 100 of A-Z a-z 0-9 . _ -, got '" + name + "'");
            }
            if (!names.add(name)) {
                throw new ConfigException(s.keyOf("name"), "two bridges are named '" + name + "'");
            }
            String direction = s.getChoice("direction", null, List.of("out", "in"));
            if (direction == null) {
                throw new ConfigException(s.keyOf("direction"), "is required: out (local to remote) or in (remote to local)");
            }
            boolean outbound = direction.equals("out");
            String local = s.getString("local", outbound ? null : "{address}");
            if (local == null) {
                throw new ConfigException(s.keyOf("local"), "an outbound bridge needs the address filter it forwards");
            }
            if (outbound) {
                try {
                    TopicFilter.of(local);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(s.keyOf("local"), e.getMessage());
                }
            }
            int inFlight = s.getInt("in-flight", 100, 1, 65_535);
            ConfigSection reconnect = s.section("reconnect").requireOnly(Set.of("initial", "max"));
            Duration initial = reconnect.getDuration("initial", Duration.ofMillis(500));
            Duration max = reconnect.getDuration("max", Duration.ofSeconds(30));
            if (initial.isZero() || max.compareTo(initial) < 0) {
                throw new ConfigException(reconnect.keyOf("max"), "reconnect.initial must be above 0 and at most reconnect.max");
            }
            ConfigSection r = s.section("remote");
            String url = r.requireString("url");
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new ConfigException(r.keyOf("url"), "not a URL: " + e.getMessage());
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
            RemoteConnector connector = connectors.get(scheme);
            if (connector == null) {
                throw new ConfigException(r.keyOf("url"), "no bridge connector for '" + scheme + "://' on the classpath; "
                        + "the installed ones reach " + connectors.keySet());
            }
            Set<String> remoteKeys = new HashSet<>(REMOTE_KEYS);
            remoteKeys.addAll(connector.keys());
            r.requireOnly(remoteKeys);
            List<String> hosts = hosts(r, uri, scheme);
            ConfigSection tls = r.section("tls").requireOnly(Set.of("enabled", "ca-file", "cert-file", "key-file", "verify-host"));
            boolean tlsScheme = scheme.endsWith("s") && !scheme.equals("ws") || scheme.endsWith("+ssl");
            String certFile = tls.getString("cert-file", null);
            String keyFile = tls.getString("key-file", null);
            if ((certFile == null) != (keyFile == null)) {
                throw new ConfigException(tls.keyOf("key-file"), "cert-file and key-file go together");
            }
            String remoteAddress = r.getString("address", outbound ? "{address}" : null);
            if (remoteAddress == null) {
                throw new ConfigException(r.keyOf("address"), "an inbound bridge needs the remote address it takes messages from");
            }
            RemoteSpec spec = new RemoteSpec(name, uri, hosts, r.getString("username", null), r.getString("password", null),
                    tls.getBoolean("enabled", tlsScheme), tls.getString("ca-file", null), certFile, keyFile,
                    tls.getBoolean("verify-host", true), inFlight, r);
            connector.check(spec);
            if (s.getBoolean("enabled", true)) {
                out.add(new BridgeConfig(name, outbound, local, remoteAddress, spec, connector, initial, max));
            }
        }
        return List.copyOf(out);
    }

    private static List<String> hosts(ConfigSection r, URI uri, String scheme) {
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isBlank()) {
            throw new ConfigException(r.keyOf("url"), "names no host: " + uri);
        }
        if (authority.contains("@")) {
            throw new ConfigException(r.keyOf("url"), "credentials go in remote.username and remote.password, not the URL");
        }
        int defaultPort = switch (scheme) {
            case "amqp" -> 5672;
            case "amqps" -> 5671;
            case "mqtt", "ws" -> 1883;
            case "mqtts", "wss" -> 8883;
            default -> 9092;
        };
        List<String> out = new ArrayList<>();
        for (String h : authority.split(",")) {
            String host = h.trim();
            boolean hasPort = host.lastIndexOf(':') > host.lastIndexOf(']');
            if (!hasPort) {
                host = host + ":" + defaultPort;
            }
            out.add(host);
        }
        return out;
    }

    private static Map<String, RemoteConnector> connectors(ClassLoader loader) {
        Map<String, RemoteConnector> out = new TreeMap<>();
        try {
            for (RemoteConnector c : ServiceLoader.load(RemoteConnector.class, loader)) {
                for (String scheme : c.schemes()) {
                    out.putIfAbsent(scheme, c);
                }
            }
        } catch (ServiceConfigurationError e) {
            throw new IllegalStateException("a bridge connector on the classpath cannot be loaded: " + e.getMessage(), e);
        }
        return out;
    }
}
