package io.omnibus.core.spi;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScramTest {
    /** The client's side of RFC 5802, written from the RFC: the proof for {@code password}. */
    private static String clientFinal(String mechanism, String password, String clientFirstBare, String serverFirst) {
        String nonce = serverFirst.split(",")[0].substring(2);
        byte[] salt = Base64.getDecoder().decode(serverFirst.split(",")[1].substring(2));
        int iterations = Integer.parseInt(serverFirst.split(",")[2].substring(2));
        byte[] salted = Scram.saltedPassword(mechanism, password.getBytes(StandardCharsets.UTF_8), salt, iterations);
        byte[] clientKey = Scram.hmac(mechanism, salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
        byte[] storedKey = Scram.digest(mechanism, clientKey);
        String withoutProof = "c=" + Base64.getEncoder().encodeToString("n,,".getBytes(StandardCharsets.UTF_8)) + ",r=" + nonce;
        byte[] signature = Scram.hmac(mechanism, storedKey, (clientFirstBare + "," + serverFirst + "," + withoutProof)
                .getBytes(StandardCharsets.UTF_8));
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ signature[i]);
        }
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }

    private static Scram.Credential stored(String mechanism, String password) {
        return Scram.parse(Scram.hash(mechanism, password, 4096));
    }

    /** RFC 7677's SCRAM-SHA-256 example, section 3: the verifier made from "pencil" checks its proof and signs alike. */
    @Test
    void theVerifierAgreesWithTheRfcExample() {
        String nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        String serverFirst = "r=" + nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        String withoutProof = "c=biws,r=" + nonce;
        byte[] authMessage = ("n=user,r=rOprNGfwEbeRWgbNEkqO," + serverFirst + "," + withoutProof)
                .getBytes(StandardCharsets.UTF_8);
        byte[] proof = Base64.getDecoder().decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        Scram.Credential c = Scram.credential("SCRAM-SHA-256", "pencil".getBytes(StandardCharsets.UTF_8),
                Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);

        byte[] signature = Scram.hmac("SCRAM-SHA-256", c.storedKey(), authMessage);
        byte[] clientKey = new byte[proof.length];
        for (int i = 0; i < proof.length; i++) {
            clientKey[i] = (byte) (proof[i] ^ signature[i]);
        }
        assertThat(Scram.digest("SCRAM-SHA-256", clientKey)).isEqualTo(c.storedKey());
        assertThat(Base64.getEncoder().encodeToString(Scram.hmac("SCRAM-SHA-256", c.serverKey(), authMessage)))
                .isEqualTo("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    @Test
    void aRightPasswordPassesAndTheServerProvesItKnowsTheVerifier() throws Exception {
        for (String mechanism : Scram.MECHANISMS) {
            Scram.Credential alice = stored(mechanism, "pencil");
            Scram.Server server = new Scram.Server(mechanism, (u, m) -> u.equals("alice") ? alice : null);
            String bare = "n=alice,r=fyko+d2lbbFgONRv9qkxdawL";
            String serverFirst = new String(server.clientFirst(("n,," + bare).getBytes(StandardCharsets.UTF_8)),
                    StandardCharsets.UTF_8);
            assertThat(serverFirst).startsWith("r=fyko+d2lbbFgONRv9qkxdawL").contains(",i=4096");
            String serverFinal = new String(server.clientFinal(clientFinal(mechanism, "pencil", bare, serverFirst)
                    .getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
            assertThat(serverFinal).startsWith("v=");
            assertThat(server.user()).isEqualTo("alice");
            assertThat(Scram.matches(alice, "pencil".getBytes(StandardCharsets.UTF_8))).isTrue();
            assertThat(Scram.matches(alice, "pen".getBytes(StandardCharsets.UTF_8))).isFalse();
        }
    }

    @Test
    void aWrongPasswordAndAnUnknownUserFailAtTheProofAlike() throws Exception {
        Scram.Credential alice = stored("SCRAM-SHA-256", "pencil");
        Scram.Credentials lookup = (u, m) -> u.equals("alice") ? alice : null;
        for (String user : new String[]{"alice", "mallory"}) {
            Scram.Server server = new Scram.Server("SCRAM-SHA-256", lookup);
            String bare = "n=" + user + ",r=abc";
            String serverFirst = new String(server.clientFirst(("n,," + bare).getBytes(StandardCharsets.UTF_8)),
                    StandardCharsets.UTF_8);
            byte[] wrong = clientFinal("SCRAM-SHA-256", "not-pencil", bare, serverFirst).getBytes(StandardCharsets.UTF_8);
            assertThatThrownBy(() -> server.clientFinal(wrong)).isInstanceOf(Scram.Failure.class).hasMessage("invalid proof");
            assertThat(server.user()).isNull();
        }
        // one proof per exchange: after a wrong one, not even the right one is taken
        Scram.Server once = new Scram.Server("SCRAM-SHA-256", lookup);
        String serverFirst = new String(once.clientFirst("n,,n=alice,r=abc".getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8);
        byte[] wrongProof = clientFinal("SCRAM-SHA-256", "guess", "n=alice,r=abc", serverFirst).getBytes(StandardCharsets.UTF_8);
        byte[] rightProof = clientFinal("SCRAM-SHA-256", "pencil", "n=alice,r=abc", serverFirst).getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> once.clientFinal(wrongProof)).isInstanceOf(Scram.Failure.class);
        assertThatThrownBy(() -> once.clientFinal(rightProof)).isInstanceOf(Scram.Failure.class);
        assertThat(once.user()).isNull();
        // an unknown user's salt is the same on every attempt, as a real user's is
        String s1 = new String(new Scram.Server("SCRAM-SHA-256", lookup).clientFirst("n,,n=mallory,r=1".getBytes()));
        String s2 = new String(new Scram.Server("SCRAM-SHA-256", lookup).clientFirst("n,,n=mallory,r=2".getBytes()));
        assertThat(s1.split(",")[1]).isEqualTo(s2.split(",")[1]);
    }

    @Test
    void channelBindingAndForeignAuthorizationIdentitiesAreRefused() {
        Scram.Server server = new Scram.Server("SCRAM-SHA-256", (u, m) -> null);
        assertThatThrownBy(() -> server.clientFirst("p=tls-unique,,n=a,r=1".getBytes())).isInstanceOf(Scram.Failure.class);
        assertThatThrownBy(() -> new Scram.Server("SCRAM-SHA-256", (u, m) -> null).clientFirst("n,a=root,n=a,r=1".getBytes()))
                .isInstanceOf(Scram.Failure.class);
        assertThatThrownBy(() -> new Scram.Server("SCRAM-SHA-256", (u, m) -> null).clientFinal("c=biws,r=1,p=AA==".getBytes()))
                .isInstanceOf(Scram.Failure.class);
    }
}
