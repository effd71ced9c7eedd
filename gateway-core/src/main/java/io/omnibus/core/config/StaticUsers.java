package io.omnibus.core.config;

import io.omnibus.core.spi.Authenticator;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;

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
 * The authenticator the configuration gives: a static user list with PBKDF2-HMAC-SHA256 hashes
 * ({@code pbkdf2-sha256$iterations$salt$hash}, Base64) and the groups each user is in. Checking a hash costs
 * a good part of a second by design (600,000 iterations for new hashes, as current advice has it), so
 * callers run it off the event loop; an unknown user costs the same as a known one. A password that checked
 * out is remembered (as a keyed MAC, in memory) so that a reconnecting client does not pay again.
 */
public final class StaticUsers implements Authenticator {
    static final String PREFIX = "pbkdf2-sha256";
    static final int ITERATIONS = 600_000;
    private static final int REMEMBERED = 10_000;

    record User(String hash, Set<String> groups) {
    }

    private final Map<String, User> users;
    private final boolean allowAnonymous;
    private final byte[] rememberKey = new byte[32];
    private final ConcurrentHashMap<String, byte[]> remembered = new ConcurrentHashMap<>();
    private final String decoy;

    public StaticUsers(Map<String, User> users, boolean allowAnonymous) {
        this.users = users;
        this.allowAnonymous = allowAnonymous;
        new SecureRandom().nextBytes(rememberKey);
        // an unknown user is checked against a hash of the same cost as the users' own
        int iterations = users.values().stream().mapToInt(u -> Integer.parseInt(u.hash().split("\\$")[1])).max()
                .orElse(ITERATIONS);
        this.decoy = hash("decoy " + System.nanoTime(), iterations);
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
        boolean ok = check(user == null ? decoy : user.hash(), password) && user != null;
        if (ok) {
            if (remembered.size() >= REMEMBERED) {
                remembered.clear();
            }
            remembered.put(username, mac(username, password));
        }
        return ok;
    }

    private static boolean check(String stored, byte[] password) {
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

    /** Reads the top-level {@code users} list: {@code [{username, password-hash, groups}]}. */
    public static StaticUsers read(List<ConfigSection> entries, boolean allowAnonymous) {
        Map<String, User> users = new LinkedHashMap<>();
        for (ConfigSection u : entries) {
            u.requireOnly(Set.of("username", "password-hash", "groups"));
            String hash = u.requireString("password-hash");
            if (!isHash(hash)) {
                throw new ConfigException(u.keyOf("password-hash"), "expected pbkdf2-sha256$<iterations>$<salt>$<hash> "
                        + "(make one with: bin/omnibus hash-password)");
            }
            String name = u.requireString("username");
            if (users.put(name, new User(hash, Set.copyOf(AccessRules.list(u, "groups")))) != null) {
                throw new ConfigException(u.keyOf("username"), "'" + name + "' is listed twice");
            }
        }
        return new StaticUsers(Map.copyOf(users), allowAnonymous);
    }

    static boolean isHash(String s) {
        String[] parts = s.split("\\$");
        return parts.length == 4 && parts[0].equals(PREFIX) && parts[1].matches("\\d{1,9}");
    }

    /** A new hash of {@code password}, for the configuration file. */
    public static String hash(String password) {
        return hash(password, ITERATIONS);
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
