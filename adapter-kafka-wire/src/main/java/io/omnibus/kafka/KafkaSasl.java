package io.omnibus.kafka;

import io.omnibus.core.transport.ProxyProtocol;
import io.omnibus.core.spi.Authenticator;
import io.omnibus.core.spi.Scram;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.Errors;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One Kafka connection's SASL exchange: a SaslHandshake choosing the mechanism, then one SaslAuthenticate
 * (PLAIN) or two (SCRAM-SHA-256 and -512: client-first, client-final). Runs on the connection's context; a PLAIN
 * password is checked off the event loop.
 */
final class KafkaSasl {
    private final KafkaConnection conn;
    private boolean handshakeDone;
    /** The mechanism the handshake chose: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. */
    private String mechanism;
    /** The SCRAM exchange under way, between its two SaslAuthenticate requests. */
    private Scram.Server scram;
    private boolean authenticating;
    private boolean done;
    /** A refused attempt ends the exchange: the connection closes after its answer, and no second guess is taken. */
    private boolean failed;

    KafkaSasl(KafkaConnection conn) {
        this.conn = conn;
    }

    private Authenticator authenticator() {
        return conn.server().ctx.authenticator();
    }

    SaslHandshakeResponseData handshake(SaslHandshakeRequestData request) {
        List<String> mechanisms = new ArrayList<>(authenticator().scramMechanisms());
        if (io.omnibus.core.transport.Listeners.plainAllowed(conn.channel(), authenticator())) {
            mechanisms.add("PLAIN"); // a password in clear text: over TLS, from this machine, or where allowed
        }
        SaslHandshakeResponseData response = new SaslHandshakeResponseData().setMechanisms(mechanisms);
        if (!mechanisms.contains(request.mechanism()) || handshakeDone) {
            return response.setErrorCode(handshakeDone ? Errors.ILLEGAL_SASL_STATE.code()
                    : Errors.UNSUPPORTED_SASL_MECHANISM.code());
        }
        handshakeDone = true;
        mechanism = request.mechanism();
        return response.setErrorCode(Errors.NONE.code());
    }

    Future<SaslAuthenticateResponseData> authenticate(SaslAuthenticateRequestData request) {
        SaslAuthenticateResponseData response = new SaslAuthenticateResponseData().setAuthBytes(new byte[0]);
        if (!handshakeDone || authenticating || done || failed) {
            return Future.succeededFuture(response.setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                    .setErrorMessage("SaslAuthenticate needs one SaslHandshake first"));
        }
        if (!mechanism.equals("PLAIN")) {
            return scramStep(request.authBytes(), response);
        }
        // PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd
        byte[] token = request.authBytes();
        int first = indexOf(token, 0);
        int second = first < 0 ? -1 : indexOf(token, first + 1);
        if (second < 0) {
            return refused(response, "malformed SASL PLAIN token", "malformed SASL PLAIN token");
        }
        String name = new String(token, first + 1, second - first - 1, StandardCharsets.UTF_8);
        byte[] password = Arrays.copyOfRange(token, second + 1, token.length);
        authenticating = true;
        // hashing takes milliseconds: off the event loop; the answer comes back here
        return conn.server().ctx.vertx().executeBlocking(() -> authenticator().authenticate(name, password), false)
                .otherwise(false)
                .compose(ok -> {
                    authenticating = false;
                    if (!ok) {
                        String why = "Authentication failed: invalid username or password";
                        return refused(response, why, why);
                    }
                    done = true;
                    conn.authenticatedAs(name);
                    return Future.succeededFuture(response.setErrorCode(Errors.NONE.code()));
                });
    }

    /** One SCRAM step: client-first answered with server-first, client-final checked and answered with server-final. */
    private Future<SaslAuthenticateResponseData> scramStep(byte[] token, SaslAuthenticateResponseData response) {
        try {
            if (scram == null) {
                scram = new Scram.Server(mechanism, authenticator()::scramCredential);
                return Future.succeededFuture(response.setAuthBytes(scram.clientFirst(token)).setErrorCode(Errors.NONE.code()));
            }
            byte[] serverFinal = scram.clientFinal(token);
            done = true;
            conn.authenticatedAs(scram.user());
            return Future.succeededFuture(response.setAuthBytes(serverFinal).setErrorCode(Errors.NONE.code()));
        } catch (Scram.Failure e) {
            return refused(response, e.getMessage(), "Authentication failed during authentication due to invalid "
                    + "credentials with SASL mechanism " + mechanism);
        }
    }

    /**
     * A failed authentication is answered, then the connection closes (as Kafka does); repeated failures from one
     * address are answered later and later.
     */
    private Future<SaslAuthenticateResponseData> refused(SaslAuthenticateResponseData response, String why,
                                                         String toClient) {
        failed = true;
        KafkaServer.LOG.info("kafka {} ({} from {}): SASL {} refused: {}", conn.id(), conn.clientId(),
                ProxyProtocol.clientAddress(conn.channel()), mechanism, why);
        conn.lastWord(response.setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code()).setErrorMessage(toClient));
        long delay = authenticator().loginFailed(Authenticator.addressOf(ProxyProtocol.clientAddress(conn.channel())), "kafka");
        if (delay == 0) {
            return Future.succeededFuture(response);
        }
        Promise<SaslAuthenticateResponseData> later = conn.context().promise();
        conn.server().ctx.vertx().setTimer(delay, t -> later.complete(response));
        return later.future();
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return -1;
    }
}
