package io.omnibus.core.config;

import io.omnibus.core.spi.Authorizer;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.TopicFilter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The configuration's {@code acl}: rules that allow, never deny; what no rule allows is refused. A rule applies
 * to the users and user groups it names, or to everybody (anonymous clients included) when it names none.
 * Filters and names may hold {@code %u} (the username) and {@code %c} (the client id), as Mosquitto's pattern
 * ACLs do; a rule needing one the client lacks, or one holding a wildcard or separator, does not apply.
 */
public final class AccessRules implements Authorizer {
    static final Set<String> KEYS = Set.of("users", "groups", "publish", "subscribe", "consumer-groups", "client-ids",
            "admin");

    record Rule(Set<String> users, Set<String> groups, List<String> publish, List<String> subscribe,
                List<String> consumerGroups, List<String> clientIds, String admin) {
        boolean appliesTo(String user, Set<String> userGroups) {
            if (users.isEmpty() && groups.isEmpty()) {
                return true;
            }
            return user != null && (users.contains(user) || userGroups.stream().anyMatch(groups::contains));
        }
    }

    private final List<Rule> rules;
    private final Function<String, Set<String>> groupsOf;

    AccessRules(List<Rule> rules, Function<String, Set<String>> groupsOf) {
        this.rules = List.copyOf(rules);
        this.groupsOf = groupsOf;
    }

    /** The {@code acl} list; no list at all allows everything ({@link Authorizer#ALLOW_ALL}). */
    public static Authorizer read(ConfigSection root, StaticUsers users) {
        List<ConfigSection> entries = root.sections("acl"); // a list, whether or not present (and so not an env key)
        if (!root.has("acl")) {
            return ALLOW_ALL;
        }
        List<Rule> rules = new ArrayList<>();
        for (ConfigSection r : entries) {
            r.requireOnly(KEYS);
            List<String> publish = filters(r, "publish");
            List<String> subscribe = filters(r, "subscribe");
            rules.add(new Rule(Set.copyOf(list(r, "users")), Set.copyOf(list(r, "groups")), publish, subscribe,
                    list(r, "consumer-groups"), list(r, "client-ids"),
                    r.getChoice("admin", "none", List.of("none", "read", "operate"))));
        }
        return new AccessRules(rules, users::groupsOf);
    }

    @Override
    public boolean enforced() {
        return true;
    }

    @Override
    public boolean allows(String user, String clientId, Action action, String resource) {
        Set<String> userGroups = user == null ? Set.of() : groupsOf.apply(user);
        if (action == Action.CLIENT_ID) {
            boolean constrained = false;
            for (Rule rule : rules) {
                if (rule.appliesTo(user, userGroups) && !rule.clientIds().isEmpty()) {
                    constrained = true;
                    if (matchesAny(rule.clientIds(), user, resource, resource)) {
                        return true;
                    }
                }
            }
            return !constrained;
        }
        for (Rule rule : rules) {
            if (rule.appliesTo(user, userGroups) && allowedBy(rule, user, clientId, action, resource)) {
                return true;
            }
        }
        return false;
    }

    private static boolean allowedBy(Rule rule, String user, String clientId, Action action, String resource) {
        switch (action) {
            case ADMIN_READ:
                return !rule.admin().equals("none");
            case ADMIN_OPERATE:
                return rule.admin().equals("operate");
            case CONSUMER_GROUP:
                return matchesAny(rule.consumerGroups(), user, clientId, resource);
            default:
                TopicFilter asked;
                try {
                    asked = TopicFilter.of(resource);
                } catch (InvalidAddressException e) {
                    return false;
                }
                for (String f : action == Action.PUBLISH ? rule.publish() : rule.subscribe()) {
                    String filter = substitute(f, user, clientId);
                    if (filter != null && TopicFilter.of(filter).covers(asked)) {
                        return true;
                    }
                }
                return false;
        }
    }

    /** Whether a name pattern ({@code *} for any characters, %u and %c filled in) matches {@code name}. */
    private static boolean matchesAny(List<String> patterns, String user, String clientId, String name) {
        for (String p : patterns) {
            String filled = substitute(p, user, clientId);
            if (filled != null && name != null && glob(filled).matcher(name).matches()) {
                return true;
            }
        }
        return false;
    }

    /** The pattern with %u and %c filled in, or null when a value is missing or could widen it. */
    static String substitute(String pattern, String user, String clientId) {
        // one pass: a user name holding "%c" stays as it is
        StringBuilder out = new StringBuilder(pattern.length() + 16);
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '%' && i + 1 < pattern.length() && (pattern.charAt(i + 1) == 'u' || pattern.charAt(i + 1) == 'c')) {
                String value = pattern.charAt(i + 1) == 'u' ? user : clientId;
                if (!safe(value)) {
                    return null;
                }
                out.append(value);
                i++;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean safe(String value) {
        return value != null && !value.isEmpty() && value.chars().noneMatch(ch -> ch == '/' || ch == '+' || ch == '#'
                || ch == '*');
    }

    private static Pattern glob(String p) {
        StringBuilder re = new StringBuilder();
        for (String part : p.split("\\*", -1)) {
            if (!re.isEmpty()) {
                re.append(".*");
            }
            re.append(Pattern.quote(part));
        }
        return Pattern.compile(re.toString());
    }

    private static List<String> filters(ConfigSection r, String key) {
        List<String> out = list(r, key);
        for (String f : out) {
            try {
                TopicFilter.of(f.replace("%u", "u").replace("%c", "c"));
            } catch (InvalidAddressException e) {
                throw new ConfigException(r.keyOf(key), e.getMessage());
            }
        }
        return out;
    }

    /** A list of names, or a single name. */
    static List<String> list(ConfigSection r, String key) {
        Object v = r.has(key) ? r.raw(key) : null;
        if (v == null) {
            return List.of();
        }
        if (v instanceof List<?> l) {
            List<String> out = new ArrayList<>();
            for (Object o : l) {
                if (o == null || o instanceof Map || o instanceof List) {
                    throw new ConfigException(r.keyOf(key), "expected a list of names");
                }
                out.add(String.valueOf(o));
            }
            return List.copyOf(out);
        }
        if (v instanceof Map) {
            throw new ConfigException(r.keyOf(key), "expected a name or a list of names");
        }
        return List.of(String.valueOf(v));
    }
}
