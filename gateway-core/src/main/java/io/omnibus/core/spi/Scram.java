package io.omnibus.core.spi;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * SCRAM (RFC 5802, RFC 7677) as the gateway keeps and checks it: the verifier a user's entry stores
 * ({@code scram-sha-256$iterations$salt$storedKey$serverKey}, Base64) and the server side of one exchange. The
 * verifier is not the password's equivalent: it lets the server check a proof, not make one.
 */
public final class Scram {
    /** The mechanisms offered, strongest first (clients pick the first they know). */
    public static final List<String> MECHANISMS = List.of("SCRAM-SHA-512", "SCRAM-SHA-256");
    /** Iterations of new verifiers: PBKDF2-HMAC-SHA256 at 600,000 is current advice (OWASP, 2023). */
    public static final int ITERATIONS = 600_000;

    /** What is stored for one user and one mechanism. */
    public record Credential(String mechanism, byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
    }

    /** Makes the salts of unknown users: stable within a process, unknown outside it. */
    private static final byte[] DECOY_SECRET = new SecureRandom().generateSeed(32);

    private Scram() {
    }

    static String prefix(String mechanism) {
        return mechanism.toLowerCase(Locale.ROOT);
    }

    static String hmacName(String mechanism) {
        return mechanism.equals("SCRAM-SHA-512") ? "HmacSHA512" : "HmacSHA256";
    }

    static String digestName(String mechanism) {
        return mechanism.equals("SCRAM-SHA-512") ? "SHA-512" : "SHA-256";
    }

    /** A new verifier of {@code password}. */
    public static String hash(String mechanism, String password, int iterations) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        Credential c = credential(mechanism, password.getBytes(StandardCharsets.UTF_8), salt, iterations);
        Base64.Encoder b64 = Base64.getEncoder();
        return prefix(mechanism) + "$" + iterations + "$" + b64.encodeToString(salt) + "$"
                + b64.encodeToString(c.storedKey()) + "$" + b64.encodeToString(c.serverKey());
    }

    /** Reads a stored verifier, or null when {@code stored} is not one. */
    public static Credential parse(String stored) {
        String[] p = stored.split("\\$");
        for (String mechanism : MECHANISMS) {
            if (p.length == 5 && p[0].equals(prefix(mechanism)) && p[1].matches("\\d{1,9}")) {
                Base64.Decoder b64 = Base64.getDecoder();
                return new Credential(mechanism, b64.decode(p[2]), Integer.parseInt(p[1]), b64.decode(p[3]), b64.decode(p[4]));
            }
        }
        return null;
    }

    /** The keys of a salted password (SaltedPassword of RFC 5802: PBKDF2 of the password). */
    public static Credential fromSaltedPassword(String mechanism, byte[] salt, int iterations, byte[] saltedPassword) {
        byte[] clientKey = hmac(mechanism, saltedPassword, "Client Key".getBytes(StandardCharsets.US_ASCII));
        return new Credential(mechanism, salt, iterations, digest(mechanism, clientKey),
                hmac(mechanism, saltedPassword, "Server Key".getBytes(StandardCharsets.US_ASCII)));
    }

    static Credential credential(String mechanism, byte[] password, byte[] salt, int iterations) {
        return fromSaltedPassword(mechanism, salt, iterations, saltedPassword(mechanism, password, salt, iterations));
    }

    public static byte[] saltedPassword(String mechanism, byte[] password, byte[] salt, int iterations) {
        char[] chars = new String(password, StandardCharsets.UTF_8).toCharArray();
        int bits = mechanism.equals("SCRAM-SHA-512") ? 512 : 256;
        try {
            return SecretKeyFactory.getInstance("PBKDF2With" + hmacName(mechanism))
                    .generateSecret(new PBEKeySpec(chars, salt, iterations, bits)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code password} matches the verifier (a PLAIN login against a SCRAM entry). */
    public static boolean matches(Credential c, byte[] password) {
        Credential computed = credential(c.mechanism(), password, c.salt(), c.iterations());
        return MessageDigest.isEqual(computed.storedKey(), c.storedKey());
    }

    public static byte[] hmac(String mechanism, byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance(hmacName(mechanism));
            mac.init(new SecretKeySpec(key, hmacName(mechanism)));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] digest(String mechanism, byte[] data) {
        try {
            return MessageDigest.getInstance(digestName(mechanism)).digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where the server finds a user's credential for a mechanism; null for unknown users and missing verifiers. */
    @FunctionalInterface
    public interface Credentials {
        Credential lookup(String user, String mechanism);
    }

    /**
     * The server side of one SCRAM exchange: {@link #clientFirst} answers the server-first message,
     * {@link #clientFinal} checks the proof and answers the server-final one. An unknown user gets a made-up salt
     * (the same one each time) and fails only at the proof, as a wrong password does.
     */
    public static final class Server {
        private final String mechanism;
        private final Credentials credentials;
        private String user;
        private Credential credential;
        private String clientFirstBare;
        private String serverFirst;
        private String gs2Header;
        private String nonce;
        private boolean done;
        private boolean failed;

        public Server(String mechanism, Credentials credentials) {
            if (!MECHANISMS.contains(mechanism)) {
                throw new IllegalArgumentException(mechanism);
            }
            this.mechanism = mechanism;
            this.credentials = credentials;
        }

        /** The user the exchange authenticated, once {@link #clientFinal} succeeded. */
        public String user() {
            return done ? user : null;
        }

        /** client-first-message in, server-first-message out. */
        public byte[] clientFirst(byte[] message) throws Failure {
            String m = new String(message, StandardCharsets.UTF_8);
            // gs2-header: n or y (no channel binding), then an optional authzid, then the bare message
            int first = m.indexOf(',');
            int second = first < 0 ? -1 : m.indexOf(',', first + 1);
            if (second < 0 || !(m.startsWith("n,") || m.startsWith("y,"))) {
                throw new Failure(m.startsWith("p=") ? "channel binding is not supported" : "malformed client-first-message");
            }
            gs2Header = m.substring(0, second + 1);
            clientFirstBare = m.substring(second + 1);
            String name = null;
            String clientNonce = null;
            for (String attr : clientFirstBare.split(",")) {
                if (attr.startsWith("n=")) {
                    name = attr.substring(2).replace("=2C", ",").replace("=3D", "=");
                } else if (attr.startsWith("r=")) {
                    clientNonce = attr.substring(2);
                } else if (attr.startsWith("m=") || attr.equals("tokenauth=true")) {
                    throw new Failure("unsupported SCRAM extension " + attr);
                }
            }
            if (name == null || name.isEmpty() || clientNonce == null || clientNonce.isEmpty()) {
                throw new Failure("malformed client-first-message");
            }
            String authzid = m.substring(first + 1, second);
            if (!authzid.isEmpty() && !authzid.equals("a=" + name)) {
                throw new Failure("authorization identity must be the user's own");
            }
            user = name;
            credential = credentials.lookup(name, mechanism);
            if (credential == null) {
                byte[] salt = java.util.Arrays.copyOf(hmac(mechanism, DECOY_SECRET, name.getBytes(StandardCharsets.UTF_8)), 16);
                credential = new Credential(mechanism, salt, ITERATIONS, new byte[0], new byte[0]);
            }
            byte[] random = new byte[18];
            new SecureRandom().nextBytes(random);
            nonce = clientNonce + Base64.getEncoder().encodeToString(random);
            serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(credential.salt()) + ",i="
                    + credential.iterations();
            return serverFirst.getBytes(StandardCharsets.UTF_8);
        }

        /** client-final-message in, server-final-message out; a wrong proof throws. */
        public byte[] clientFinal(byte[] message) throws Failure {
            if (serverFirst == null || done || failed) {
                throw new Failure("unexpected client-final-message"); // one proof per exchange: no second guess
            }
            failed = true; // until the proof checks out
            String m = new String(message, StandardCharsets.UTF_8);
            int p = m.lastIndexOf(",p=");
            if (p < 0) {
                throw new Failure("malformed client-final-message");
            }
            String withoutProof = m.substring(0, p);
            String channel = null;
            String finalNonce = null;
            for (String attr : withoutProof.split(",")) {
                if (attr.startsWith("c=")) {
                    channel = attr.substring(2);
                } else if (attr.startsWith("r=")) {
                    finalNonce = attr.substring(2);
                }
            }
            String expectedChannel = Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8));
            if (!expectedChannel.equals(channel) || !nonce.equals(finalNonce)) {
                throw new Failure("channel binding or nonce do not match");
            }
            byte[] proof;
            try {
                proof = Base64.getDecoder().decode(m.substring(p + 3));
            } catch (IllegalArgumentException e) {
                throw new Failure("malformed proof");
            }
            byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
            byte[] signature = hmac(mechanism, credential.storedKey().length == 0 ? new byte[1] : credential.storedKey(),
                    authMessage);
            if (proof.length != signature.length) {
                throw new Failure("invalid proof");
            }
            byte[] clientKey = new byte[proof.length];
            for (int i = 0; i < proof.length; i++) {
                clientKey[i] = (byte) (proof[i] ^ signature[i]);
            }
            if (credential.storedKey().length == 0 || !MessageDigest.isEqual(digest(mechanism, clientKey), credential.storedKey())) {
                throw new Failure("invalid proof");
            }
            failed = false;
            done = true;
            byte[] serverSignature = hmac(mechanism, credential.serverKey(), authMessage);
            return ("v=" + Base64.getEncoder().encodeToString(serverSignature)).getBytes(StandardCharsets.UTF_8);
        }
    }

    /** A SCRAM exchange that must end: the reason is for the log, clients get their protocol's failure. */
    public static final class Failure extends Exception {
        public Failure(String reason) {
            super(reason);
        }
    }
}
