package io.omnibus.amqp;

import io.omnibus.core.transport.ProxyProtocol;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.SaslListener;
import org.apache.qpid.proton.engine.Transport;

import java.nio.charset.StandardCharsets;

/**
 * The server side of one connection's SASL exchange: ANONYMOUS (when no users are configured), PLAIN against the
 * gateway's users, SCRAM-SHA-256 and SCRAM-SHA-512 against their verifiers, and EXTERNAL (a verified TLS client
 * certificate names the user). Runs on the connection's context; a PLAIN password is checked off the event loop.
 */
final class SaslServer implements SaslListener {
    private final AmqpConnection conn;
    /** A SCRAM exchange under way: its server-final message goes as a second challenge, as Qpid JMS expects. */
    private io.omnibus.core.spi.Scram.Server scram;
    private boolean scramFinalSent;
    /** The exchange failed: whatever the client sends after is ignored (no second guess). */
    private boolean finished;

    SaslServer(AmqpConnection conn) {
        this.conn = conn;
    }

    @Override
    public void onSaslInit(Sasl sasl, Transport t) {
        if (finished) {
            return;
        }
        String[] mechanisms = sasl.getRemoteMechanisms();
        String mechanism = mechanisms.length == 0 ? "" : mechanisms[0];
        byte[] response = new byte[Math.max(0, sasl.pending())];
        sasl.recv(response, 0, response.length);
        var ctx = conn.server.ctx;
        if (mechanism.equals("ANONYMOUS") && ctx.authenticator().allowsAnonymous()) {
            conn.authenticated(null);
            sasl.done(Sasl.SaslOutcome.PN_SASL_OK);
            return;
        }
        if (ctx.authenticator().scramMechanisms().contains(mechanism)) {
            scram = new io.omnibus.core.spi.Scram.Server(mechanism, ctx.authenticator()::scramCredential);
            try {
                byte[] first = scram.clientFirst(response);
                sasl.send(first, 0, first.length);
            } catch (io.omnibus.core.spi.Scram.Failure e) {
                refuse(sasl, mechanism + ": " + e.getMessage());
            }
            return;
        }
        if (mechanism.equals("EXTERNAL")) {
            String certified = io.omnibus.core.transport.Tls.peerIdentity(conn.channel());
            if (certified == null) {
                refuse(sasl, "EXTERNAL without a verified client certificate");
            } else {
                conn.authenticated(certified);
                sasl.done(Sasl.SaslOutcome.PN_SASL_OK);
            }
            return;
        }
        if (!mechanism.equals("PLAIN") || !conn.plainAllowed()) {
            refuse(sasl, "mechanism " + mechanism + " is not offered");
            return;
        }
        // PLAIN: [authzid] NUL authcid NUL passwd [RFC 4616]
        int first = indexOf(response, 0);
        int second = first < 0 ? -1 : indexOf(response, first + 1);
        if (second < 0) {
            refuse(sasl, "malformed PLAIN response");
            return;
        }
        String name = new String(response, first + 1, second - first - 1, StandardCharsets.UTF_8);
        byte[] password = java.util.Arrays.copyOfRange(response, second + 1, response.length);
        // hashing takes milliseconds: off the event loop; the outcome is sent from here again
        ctx.vertx().executeBlocking(() -> ctx.authenticator().authenticate(name, password), false)
                .onComplete(ar -> {
                    if (conn.isClosed()) {
                        return;
                    }
                    if (ar.succeeded() && ar.result()) {
                        succeeded(name);
                        sasl.done(Sasl.SaslOutcome.PN_SASL_OK);
                    } else {
                        refuse(sasl, "bad username or password for '" + name + "'");
                    }
                    conn.pump();
                });
    }

    /** The outcome goes out at once, or later and later after repeated failures from the client's address. */
    private void refuse(Sasl sasl, String why) {
        finished = true;
        var ctx = conn.server.ctx;
        long delay = ctx.authenticator().loginFailed(io.omnibus.core.spi.Authenticator.addressOf(ProxyProtocol.clientAddress(conn.channel())), "amqp");
        if (delay == 0) {
            sasl.done(Sasl.SaslOutcome.PN_SASL_AUTH);
            conn.authenticationFailed(why);
            return;
        }
        ctx.vertx().setTimer(delay, t -> {
            if (!conn.isClosed()) {
                sasl.done(Sasl.SaslOutcome.PN_SASL_AUTH);
                conn.authenticationFailed(why);
                conn.pump();
            }
        });
    }

    private void succeeded(String user) {
        conn.server.ctx.authenticator().loginSucceeded(io.omnibus.core.spi.Authenticator.addressOf(ProxyProtocol.clientAddress(conn.channel())));
        // with no users to check against anybody is let in, as anonymous whatever name it gave
        conn.authenticated(conn.server.ctx.authenticator().knowsUsers() ? user : null);
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void onSaslResponse(Sasl sasl, Transport t) {
        if (finished) {
            return;
        }
        byte[] response = new byte[Math.max(0, sasl.pending())];
        sasl.recv(response, 0, response.length);
        if (scram == null) {
            refuse(sasl, "a SASL response without a challenge");
        } else if (scramFinalSent) {
            succeeded(scram.user()); // the client checked the server's signature and answered
            sasl.done(Sasl.SaslOutcome.PN_SASL_OK);
        } else {
            try {
                byte[] serverFinal = scram.clientFinal(response);
                scramFinalSent = true;
                sasl.send(serverFinal, 0, serverFinal.length);
            } catch (io.omnibus.core.spi.Scram.Failure e) {
                refuse(sasl, "SCRAM: " + e.getMessage());
            }
        }
    }

    @Override
    public void onSaslMechanisms(Sasl sasl, Transport t) {
    }

    @Override
    public void onSaslChallenge(Sasl sasl, Transport t) {
    }

    @Override
    public void onSaslOutcome(Sasl sasl, Transport t) {
    }
}
