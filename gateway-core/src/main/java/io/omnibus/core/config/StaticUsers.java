package io.omnibus.core.config;

import io.omnibus.core.spi.Authenticator;
import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;

/**
 * The authenticator the configuration gives: a static user list with PBKDF2-HMAC-SHA256 hashes
 * ({@code pbkdf2-sha256$iterations$salt$hash}, Base64). With no users, everyone is let in.
 * Checking a hash costs milliseconds by design, so callers run it off the event loop.
 */
public final class StaticUsers implements Authenticator {
    private static final String PREFIX = "pbkdf2-sha256";
    private final Map<String, String> users;

    public StaticUsers(Map<String, String> users) {
        this.users = users;
    }

    @Override
    public boolean allowsAnonymous() {
        return users.isEmpty();
    }

    @Override
    public boolean authenticate(String username, byte[] password) {
        if (users.isEmpty()) {
            return true;
        }
        String stored = username == null ? null : users.get(username);
        if (stored == null || password == null) {
            return false;
        }
        String[] parts = stored.split("\\$");
        int iterations = Integer.parseInt(parts[1]);
        byte[] salt = Base64.getDecoder().decode(parts[2]);
        byte[] expected = Base64.getDecoder().decode(parts[3]);
        return MessageDigest.isEqual(expected, derive(password, salt, iterations, expected.length));
    }

    /** Reads the top-level {@code users} list: {@code [{username, password-hash}]}. */
    public static StaticUsers read(java.util.List<ConfigSection> entries) {
        Map<String, String> users = new java.util.LinkedHashMap<>();
        for (ConfigSection u : entries) {
            u.requireOnly(java.util.Set.of("username", "password-hash"));
            String hash = u.requireString("password-hash");
            if (!isHash(hash)) {
                throw new ConfigException(u.keyOf("password-hash"), "expected pbkdf2-sha256$<iterations>$<salt>$<hash> "
                        + "(make one with: bin/omnibus hash-password)");
            }
            users.put(u.requireString("username"), hash);
        }
        return new StaticUsers(Map.copyOf(users));
    }

    static boolean isHash(String s) {
        String[] parts = s.split("\\$");
        return parts.length == 4 && parts[0].equals(PREFIX) && parts[1].matches("\\d+");
    }

    /** A new hash of {@code password}, for the configuration file. */
    public static String hash(String password) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        int iterations = 100_000;
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
