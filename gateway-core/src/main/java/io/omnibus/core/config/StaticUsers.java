package io.omnibus.core.config;

import io.omnibus.core.spi.Authenticator;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.Scram;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The authenticator the configuration gives: a static user list and the groups each user is in. A user's
 * {@code password-hash} is one verifier or a list of them: SCRAM verifiers ({@code scram-sha-256$...} and
 * {@code scram-sha-512$...}, what {@code bin/omnibus hash-password} prints), which serve password logins and
 * the SCRAM mechanism of the same name, or an older PBKDF2-HMAC-SHA256 hash ({@code pbkdf2-sha256$...}), which
 * serves password logins and SCRAM-SHA-256. Checking a password costs
 * a good part of a second by design (600,000 iterations for new hashes, as current advice has it), so
 * callers run it off the event loop; an unknown user costs the same as a known one. A password that checked
 * out is remembered (as a keyed MAC, in memory) so that a reconnecting client does not pay again.
 */
public final class StaticUsers implements Authenticator {
    static final String PREFIX = "pbkdf2-sha256";
    static final int ITERATIONS = Scram.ITERATIONS;
    private static final int REMEMBERED = 10_000;

    record User(List<String> hashes, Set<String> groups, String accessSecret) {
        String first() {
            return hashes.get(0);
        }
    }

    private final Map<String, User> users;
    private final boolean allowAnonymous;
    private boolean plainWithoutTls;
    /** Keys the logins remembered (null with no users: nobody logs in with a password). */
    private final byte[] rememberKey;
    private final ConcurrentHashMap<String, byte[]> remembered = new ConcurrentHashMap<>();
    private final String decoy;
    private final List<String> scramMechanisms;

    public StaticUsers(Map<String, User> users, boolean allowAnonymous) {
        this.users = users;
        this.allowAnonymous = allowAnonymous;
        this.rememberKey = users.isEmpty() ? null : new byte[32];
        if (rememberKey != null) {
            new SecureRandom().nextBytes(rememberKey);
        }
        this.scramMechanisms = users.isEmpty() ? List.of() : Scram.MECHANISMS.stream()
                .filter(m -> users.keySet().stream().allMatch(u -> scramCredential(u, m) != null)).toList();
        // an unknown user's password is checked against a user's own verifier, which costs what a known user's check
        // costs (the outcome is ignored): no verifier of its own to make at start (a full-cost hash, a good part of a
        // second, made again by every reading of the configuration); none with no users, where nobody is checked
        this.decoy = users.isEmpty() ? null : users.values().iterator().next().first();
    }

    /** Anonymous clients: with {@code allow-anonymous}, or with no users (and then from loopback only). */
    @Override
    public boolean allowsAnonymous() {
        return allowAnonymous || users.isEmpty();
    }

    /** No users and anonymous access not switched on: the safe default, as Mosquitto 2's. */
    @Override
    public boolean loopbackOnly() {
        return users.isEmpty() && !allowAnonymous;
    }

    /** Whether any user is configured. */
    public boolean hasUsers() {
        return !users.isEmpty();
    }

    @Override
    public boolean knowsUsers() {
        return !users.isEmpty();
    }

    /** The groups {@code user} is in (none for users not in the list, such as certificate identities). */
    public Set<String> groupsOf(String user) {
        User u = user == null ? null : users.get(user);
        return u == null ? Set.of() : u.groups();
    }

    @Override
    public boolean authenticate(String username, byte[] password) {
        if (users.isEmpty()) {
            return true; // nobody to check against: anybody (from loopback only, unless allow-anonymous)
        }
        User user = username == null ? null : users.get(username);
        if (password == null) {
            return false;
        }
        if (user != null) {
            byte[] known = remembered.get(username);
            if (known != null && MessageDigest.isEqual(known, mac(username, password))) {
                return true;
            }
        }
        boolean ok = check(user == null ? decoy : user.first(), password) && user != null;
        if (ok) {
            if (remembered.size() >= REMEMBERED) {
                remembered.clear();
            }
            remembered.put(username, mac(username, password));
        }
        return ok;
    }

    /** Failed logins per remote address in the current minute: {count, minute start}. */
    private final ConcurrentHashMap<java.net.InetAddress, long[]> failures = new ConcurrentHashMap<>();
    static final long MAX_FAILURE_DELAY = 5_000;

    /** Where failed logins are counted (null: not counted). */
    private volatile io.micrometer.core.instrument.MeterRegistry meters;

    /** Counts failed logins in {@code registry}, by protocol: each of {@code protocols} shows 0 from the start. */
    public void instrument(io.micrometer.core.instrument.MeterRegistry registry, java.util.Collection<String> protocols) {
        meters = registry;
        protocols.forEach(p -> failureCounter(registry, p));
    }

    private static io.micrometer.core.instrument.Counter failureCounter(io.micrometer.core.instrument.MeterRegistry registry,
                                                                      String protocol) {
        return io.micrometer.core.instrument.Counter.builder("omnibus.authentication.failures").tag("protocol", protocol)
                .description("Failed logins: wrong or unknown credentials, bad SASL proofs, bad request signatures")
                .register(registry);
    }

    /**
     * The first failure from an address is answered at once, the next ones after 100 ms, 200 ms, ... up to 5 s,
     * within a minute of the first; a success forgets them.
     */
    @Override
    public long loginFailed(java.net.InetAddress from, String protocol) {
        io.micrometer.core.instrument.MeterRegistry registry = meters;
        if (registry != null) {
            failureCounter(registry, protocol).increment();
        }
        if (from == null) {
            return 0;
        }
        long now = System.currentTimeMillis();
        if (failures.size() > 100_000) {
            failures.clear(); // an attack from very many addresses: no memory for all of them
        }
        long[] f = failures.compute(from, (a, old) -> old == null || now - old[1] > 60_000 ? new long[]{1, now}
                : new long[]{old[0] + 1, old[1]});
        return f[0] <= 1 ? 0 : Math.min(MAX_FAILURE_DELAY, 100L << Math.min(f[0] - 2, 6));
    }

    @Override
    public void loginSucceeded(java.net.InetAddress from) {
        if (from != null) {
            failures.remove(from);
        }
    }

    @Override
    public String accessSecret(String user) {
        User u = user == null ? null : users.get(user);
        return u == null ? null : u.accessSecret();
    }

    @Override
    public List<String> scramMechanisms() {
        return scramMechanisms;
    }

    @Override
    public Scram.Credential scramCredential(String user, String mechanism) {
        User u = user == null ? null : users.get(user);
        if (u == null) {
            return null;
        }
        for (String h : u.hashes()) {
            Scram.Credential c = Scram.parse(h);
            if (c != null && c.mechanism().equals(mechanism)) {
                return c;
            }
            if (c == null && mechanism.equals("SCRAM-SHA-256")) { // pbkdf2-sha256 holds SCRAM-SHA-256's SaltedPassword
                String[] parts = h.split("\\$");
                return Scram.fromSaltedPassword(mechanism, Base64.getDecoder().decode(parts[2]), Integer.parseInt(parts[1]),
                        Base64.getDecoder().decode(parts[3]));
            }
        }
        return null;
    }

    private static boolean check(String stored, byte[] password) {
        Scram.Credential scram = Scram.parse(stored);
        if (scram != null) {
            return Scram.matches(scram, password);
        }
        String[] parts = stored.split("\\$");
        int iterations = Integer.parseInt(parts[1]);
        byte[] salt = Base64.getDecoder().decode(parts[2]);
        byte[] expected = Base64.getDecoder().decode(parts[3]);
        return MessageDigest.isEqual(expected, derive(password, salt, iterations, expected.length));
    }

    private byte[] mac(String user, byte[] password) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(rememberKey, "HmacSHA256"));
            mac.update(user.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            return mac.doFinal(password);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a {@code users} list ({@code [{username, password-hash, groups}]}) for tests: anonymous only with no users, from anywhere. */
    public static StaticUsers read(List<ConfigSection> entries) {
        return read(entries, entries.isEmpty());
    }

    /** With {@code allowed} false, SASL PLAIN and HTTP Basic need TLS (or a client on this machine). */
    public StaticUsers plainWithoutTls(boolean allowed) {
        this.plainWithoutTls = allowed;
        return this;
    }

    @Override
    public boolean plainWithoutTls() {
        return plainWithoutTls;
    }

    /** Reads the top-level {@code users} list: {@code [{username, password-hash, groups}]}. */
    public static StaticUsers read(List<ConfigSection> entries, boolean allowAnonymous) {
        Map<String, User> users = new LinkedHashMap<>();
        for (ConfigSection u : entries) {
            u.requireOnly(Set.of("username", "password-hash", "groups", "access-secret"));
            List<String> hashes = AccessRules.list(u, "password-hash");
            if (hashes.isEmpty()) {
                throw new ConfigException(u.keyOf("password-hash"), "is required (make one with: bin/omnibus hash-password)");
            }
            for (String hash : hashes) {
                if (!isHash(hash) && Scram.parse(hash) == null) {
                    throw new ConfigException(u.keyOf("password-hash"), "expected scram-sha-256$..., scram-sha-512$... or "
                            + "pbkdf2-sha256$<iterations>$<salt>$<hash> (make them with: bin/omnibus hash-password)");
                }
            }
            String name = u.requireString("username");
            String secret = u.getString("access-secret", null);
            if (secret != null && secret.length() < 8) {
                throw new ConfigException(u.keyOf("access-secret"), "must be at least 8 characters (RocketMQ's own minimum is 6)");
            }
            if (users.put(name, new User(hashes, Set.copyOf(AccessRules.list(u, "groups")), secret)) != null) {
                throw new ConfigException(u.keyOf("username"), "'" + name + "' is listed twice");
            }
        }
        return new StaticUsers(Map.copyOf(users), allowAnonymous);
    }

    static boolean isHash(String s) {
        String[] parts = s.split("\\$");
        return parts.length == 4 && parts[0].equals(PREFIX) && parts[1].matches("\\d{1,9}");
    }

    /** A new PBKDF2-HMAC-SHA256 hash of {@code password} (good for password logins and SCRAM-SHA-256). */
    public static String hash(String password) {
        return hash(password, ITERATIONS);
    }

    /** The verifiers {@code bin/omnibus hash-password} prints: SCRAM-SHA-256 and SCRAM-SHA-512. */
    public static List<String> verifiers(String password) {
        return Scram.MECHANISMS.stream().sorted().map(m -> Scram.hash(m, password, ITERATIONS)).toList();
    }

    /** A hash with fewer iterations than advised: for tests, which make many. */
    public static String hash(String password, int iterations) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        byte[] h = derive(password.getBytes(StandardCharsets.UTF_8), salt, iterations, 32);
        return PREFIX + "$" + iterations + "$" + Base64.getEncoder().encodeToString(salt) + "$"
                + Base64.getEncoder().encodeToString(h);
    }

    private static byte[] derive(byte[] password, byte[] salt, int iterations, int length) {
        char[] chars = new String(password, StandardCharsets.UTF_8).toCharArray();
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                    .generateSecret(new PBEKeySpec(chars, salt, iterations, length * 8)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
