package io.omnibus.amqp;

import io.omnibus.core.config.StaticUsers;
import io.omnibus.core.harness.TestGateway;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Modified;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Released;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transaction.Coordinator;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The wire and the engine's edges, with a proton-j client: outcomes, drain, settlement, refusals, bad input. */
@Timeout(60)
class ProtonIT {
    private TestGateway gw;

    private int start(Map<String, Object> amqp, Map<String, Object> broker) {
        gw = TestGateway.builder().brokerConfig(broker).adapter(new AmqpAdapterFactory(), amqp).start();
        return gw.port("amqp");
    }

    @AfterEach
    void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    private static Message text(String to, String body) {
        Message m = Message.Factory.create();
        m.setAddress(to);
        m.setBody(new AmqpValue(body));
        return m;
    }

    private static Source queue(String address) {
        Source s = new Source();
        s.setAddress(address);
        return s;
    }

    private static Target target(String address) {
        Target t = new Target();
        t.setAddress(address);
        return t;
    }

    @Test
    void rejectedGoesToTheDeadLetterQueueModifiedIsRedeliveredWithItsCountReleasedWithout() throws Exception {
        int port = start(Map.of(), Map.of());
        try (ProtonClient c = ProtonClient.connect(port)) {
            Sender s = c.sender("p", target("work"));
            for (String body : List.of("bad", "flaky", "later")) {
                assertThat(c.send(s, text(null, body), false).getRemoteState()).isInstanceOf(Accepted.class);
            }
            Receiver r = c.receiver("r", queue("work"), 3, false);
            List<ProtonClient.Received> got = c.receiveAll(r, 500);
            assertThat(got).hasSize(3);
            for (ProtonClient.Received g : got) {
                String body = (String) ((AmqpValue) g.message().getBody()).getValue();
                switch (body) {
                    case "bad" -> {
                        Rejected rej = new Rejected();
                        rej.setError(new ErrorCondition(Symbol.valueOf("app:unparseable"), "no"));
                        g.delivery().disposition(rej);
                    }
                    case "flaky" -> {
                        Modified mod = new Modified();
                        mod.setDeliveryFailed(true);
                        g.delivery().disposition(mod);
                    }
                    default -> g.delivery().disposition(Released.getInstance());
                }
                g.delivery().settle();
            }
            r.flow(5);
            List<ProtonClient.Received> again = c.receiveAll(r, 1_000);
            assertThat(again).extracting(g -> ((AmqpValue) g.message().getBody()).getValue())
                    .containsExactlyInAnyOrder("flaky", "later");
            for (ProtonClient.Received g : again) {
                long count = g.message().getHeader() == null || g.message().getHeader().getDeliveryCount() == null ? 0
                        : g.message().getHeader().getDeliveryCount().longValue();
                // [AMQP 3.2.1] delivery-count: failed attempts only; a release is not one
                assertThat(count).isEqualTo(g.message().getBody().toString().contains("flaky") ? 1 : 0);
                g.delivery().disposition(Accepted.getInstance());
                g.delivery().settle();
            }
            Receiver dlq = c.receiver("dlq", queue("$dlq/work"), 5, false);
            ProtonClient.Received dead = c.receive(dlq, 5_000);
            assertThat(((AmqpValue) dead.message().getBody()).getValue()).isEqualTo("bad");
            assertThat(dead.message().getApplicationProperties().getValue().get("omnibus.dead-letter.reason").toString())
                    .contains("app:unparseable");
        }
    }

    @Test
    void undeliverableHereKeepsAMessageFromThatReceiverWhichWaitsForAnother() throws Exception {
        int port = start(Map.of(), Map.of());
        try (ProtonClient c = ProtonClient.connect(port)) {
            Sender s = c.sender("p", target("picky"));
            c.send(s, text(null, "not for r1"), false);
            Receiver r1 = c.receiver("r1", queue("picky"), 1, false);
            ProtonClient.Received first = c.receive(r1, 5_000);
            assertThat(((AmqpValue) first.message().getBody()).getValue()).isEqualTo("not for r1");
            Modified notHere = new Modified();
            notHere.setUndeliverableHere(true);
            first.delivery().disposition(notHere);
            first.delivery().settle();
            r1.flow(1); // r1 has credit again, and the message is still not offered to it

            Receiver r2 = c.receiver("r2", queue("picky"), 1, false);
            ProtonClient.Received taken = c.receive(r2, 5_000);
            assertThat(((AmqpValue) taken.message().getBody()).getValue()).isEqualTo("not for r1");
            taken.delivery().disposition(Accepted.getInstance());
            taken.delivery().settle();

            c.send(s, text(null, "for anyone"), false); // r2's credit is used: r1 gets it, its first since
            ProtonClient.Received next = c.receive(r1, 5_000);
            assertThat(((AmqpValue) next.message().getBody()).getValue()).isEqualTo("for anyone");

            // delivery-failed with undeliverable-here (Qpid JMS past its redelivery limit): an attempt counted, and
            // the message goes to another link
            next.delivery().disposition(Accepted.getInstance());
            next.delivery().settle();
            r1.flow(1); // r1 alone has credit: the poison is r1's
            c.send(s, text(null, "poison for r1"), false);
            ProtonClient.Received poison = c.receive(r1, 5_000);
            assertThat(((AmqpValue) poison.message().getBody()).getValue()).isEqualTo("poison for r1");
            Modified failedHere = new Modified();
            failedHere.setDeliveryFailed(true);
            failedHere.setUndeliverableHere(true);
            poison.delivery().disposition(failedHere);
            poison.delivery().settle();
            r1.flow(1); // r1 has credit again, alone: the poison, redelivered after its backoff, is not offered to it
            r2.flow(1);
            ProtonClient.Received elsewhere = c.receive(r2, 5_000);
            assertThat(((AmqpValue) elsewhere.message().getBody()).getValue()).isEqualTo("poison for r1");
            assertThat(elsewhere.message().getHeader().getDeliveryCount().longValue()).isEqualTo(1);
            elsewhere.delivery().disposition(Accepted.getInstance());
            elsewhere.delivery().settle();
            c.send(s, text(null, "after the poison"), false); // r2's credit is used: r1's first since is this one
            ProtonClient.Received afterPoison = c.receive(r1, 5_000);
            assertThat(((AmqpValue) afterPoison.message().getBody()).getValue()).isEqualTo("after the poison");
        }
    }

    @Test
    void drainDeliversWhatIsThereThenReturnsTheRestOfTheCredit() throws Exception {
        int port = start(Map.of(), Map.of());
        try (ProtonClient c = ProtonClient.connect(port)) {
            Sender s = c.sender("p", target("drained"));
            c.send(s, text(null, "one"), false);
            c.send(s, text(null, "two"), false);
            Receiver r = c.receiver("r", queue("drained"), 0, false);
            r.flow(10);
            r.drain(0);
            assertThat(c.await(() -> !r.draining(), 5_000)).as("the drain is answered").isTrue();
            assertThat(c.receiveAll(r, 200)).hasSize(2);
            assertThat(r.getCredit()).isZero(); // [AMQP 2.6.7] the unused credit was consumed by the drain
        }
    }

    @Test
    void preSettledMessagesGoBothWays() throws Exception {
        int port = start(Map.of(), Map.of());
        try (ProtonClient c = ProtonClient.connect(port)) {
            Receiver r = c.receiver("r", queue("fire"), 10, true);
            Sender s = c.sender("p", target("fire"));
            c.send(s, text(null, "and forget"), true);
            ProtonClient.Received got = c.receive(r, 5_000);
            assertThat(got.delivery().remotelySettled()).isTrue();
            assertThat(((AmqpValue) got.message().getBody()).getValue()).isEqualTo("and forget");
        }
    }

    @Test
    void refusedLinksCarryTheRightConditionAndTheConnectionGoesOn() throws Exception {
        int port = start(Map.of(), Map.of());
        try (ProtonClient c = ProtonClient.connect(port); ProtonClient other = ProtonClient.connect(port)) {
            Receiver bad = c.receiver("bad", queue("a/#/b"), 1, false);
            c.await(() -> bad.getRemoteState() == EndpointState.CLOSED, 5_000);
            assertThat(bad.getRemoteSource()).isNull(); // [AMQP 2.6.3] refused: null terminus, then detach
            assertThat(bad.getRemoteCondition().getCondition().toString()).isEqualTo("amqp:invalid-field");

            Sender dollar = c.sender("dollar", target("$SYS/x"));
            c.await(() -> dollar.getRemoteState() == EndpointState.CLOSED, 5_000);
            assertThat(dollar.getRemoteCondition().getCondition().toString()).isEqualTo("amqp:unauthorized-access");

            Sender txn = c.session.sender("txn"); // local transactions only
            Coordinator distributed = new Coordinator();
            distributed.setCapabilities(org.apache.qpid.proton.amqp.transaction.TxnCapability.DISTRIBUTED_TXN);
            txn.setTarget(distributed);
            txn.setSource(new Source());
            txn.open();
            c.await(() -> txn.getRemoteState() == EndpointState.CLOSED, 5_000);
            assertThat(txn.getRemoteCondition().getCondition().toString()).isEqualTo("amqp:not-implemented");

            Receiver unknown = c.receiver("no-such-subscription", null, 1, false);
            c.await(() -> unknown.getRemoteState() == EndpointState.CLOSED, 5_000);
            assertThat(unknown.getRemoteCondition().getCondition().toString()).isEqualTo("amqp:not-found");

            // another connection's temporary queue is not ours to read
            Source dynamic = new Source();
            dynamic.setDynamic(true);
            Receiver replies = other.receiver("replies", dynamic, 1, false);
            String node = ((Source) replies.getRemoteSource()).getAddress();
            assertThat(node).startsWith("$tmp/amqp/");
            Receiver spy = c.receiver("spy", queue(node), 1, false);
            c.await(() -> spy.getRemoteState() == EndpointState.CLOSED, 5_000);
            assertThat(spy.getRemoteCondition().getCondition().toString()).isEqualTo("amqp:unauthorized-access");

            for (String gatewayOwned : List.of("$tmp/#", "$tmp/amqp/+/1", "$SYS/broker")) {
                Receiver wildcard = c.receiver("w-" + gatewayOwned, queue(gatewayOwned), 1, false);
                c.await(() -> wildcard.getRemoteState() == EndpointState.CLOSED, 5_000);
                assertThat(wildcard.getRemoteCondition().getCondition().toString()).as(gatewayOwned)
                        .isEqualTo("amqp:unauthorized-access");
            }
            Receiver deadLetters = c.receiver("dlq", queue("$dlq/#"), 1, false); // dead letters may be read
            c.await(() -> deadLetters.getRemoteState() != EndpointState.UNINITIALIZED, 5_000);
            assertThat(deadLetters.getRemoteState()).isEqualTo(EndpointState.ACTIVE);

            // and the connection still works
            Receiver ok = c.receiver("ok", queue("fine"), 5, false);
            c.send(c.sender("p", target("fine")), text(null, "still here"), false);
            assertThat(c.receive(ok, 5_000)).isNotNull();
        }
    }

    @Test
    void anAnonymousLinkRoutesByToAndRejectsABadOne() throws Exception {
        int port = start(Map.of(), Map.of());
        try (ProtonClient c = ProtonClient.connect(port)) {
            Sender anonymous = c.sender("relay", new Target());
            assertThat(c.send(anonymous, text("relayed/q", "hi"), false).getRemoteState()).isInstanceOf(Accepted.class);
            org.apache.qpid.proton.amqp.transport.DeliveryState bad = c.send(anonymous, text("x/+", "no"), false)
                    .getRemoteState();
            assertThat(bad).isInstanceOf(Rejected.class);
            assertThat(((Rejected) bad).getError().getCondition().toString()).isEqualTo("amqp:invalid-field");
            Receiver r = c.receiver("r", queue("relayed/q"), 5, false); // a queue: it waited for its receiver
            assertThat(((AmqpValue) c.receive(r, 5_000).message().getBody()).getValue()).isEqualTo("hi");
        }
    }

    @Test
    void aMessageOverTheSizeLimitIsRejectedWithMessageSizeExceeded() throws Exception {
        int port = start(Map.of(), Map.of("broker", Map.of("max-message-size", "1KiB")));
        try (ProtonClient c = ProtonClient.connect(port)) {
            Sender s = c.sender("p", target("big"));
            assertThat(s.getRemoteMaxMessageSize().longValue()).isEqualTo(1024); // announced in attach
            Message m = Message.Factory.create();
            m.setBody(new org.apache.qpid.proton.amqp.messaging.Data(new org.apache.qpid.proton.amqp.Binary(new byte[4096])));
            org.apache.qpid.proton.amqp.transport.DeliveryState st = c.send(s, m, false).getRemoteState();
            assertThat(((Rejected) st).getError().getCondition().toString()).isEqualTo("amqp:link:message-size-exceeded");
        }
    }

    @Test
    void saslPlainChecksTheUsersListAndAnonymousIsNotOfferedThen() throws Exception {
        gw = TestGateway.builder().users(List.of(Map.of("username", "svc", "password-hash", StaticUsers.hash("pw"))))
                .adapter(new AmqpAdapterFactory(), Map.of()).start();
        int port = gw.port("amqp");
        try (ProtonClient c = ProtonClient.connect(port, "svc", "pw", "backend")) {
            assertThat(c.connection.getRemoteState()).isEqualTo(EndpointState.ACTIVE);
            assertThat(gw.connections.all()).anySatisfy(i -> assertThat(i.user()).isEqualTo("svc"));
        }
        assertThatThrownBy(() -> ProtonClient.connect(port, "svc", "wrong", "intruder").close())
                .hasMessageContaining("PN_SASL_AUTH");
        // ANONYMOUS is not offered when users are configured: the client finds no mechanism, or gets no open
        assertThatThrownBy(() -> ProtonClient.connect(port).close()).isInstanceOf(Exception.class);
        org.awaitility.Awaitility.await().until(() -> gw.connections.all().isEmpty());
    }

    @Test
    void aClientThatNeverFinishesSaslIsClosedAtTheDeadline() throws Exception {
        gw = TestGateway.builder().users(List.of(Map.of("username", "svc", "password-hash", StaticUsers.hash("pw", 1000))))
                .adapter(new AmqpAdapterFactory(), Map.of("authentication-timeout", "500ms")).start();
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", gw.port("amqp"))) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(new byte[]{'A', 'M', 'Q', 'P', 3, 1, 0, 0}); // SASL header, then silence
            java.io.InputStream in = s.getInputStream();
            byte[] buf = new byte[256];
            while (in.read(buf) >= 0) {
                // the header and mechanisms come back; then the gateway closes
            }
        }
    }

    @Test
    void bytesThatAreNotAnAmqpHeaderGetOurHeaderAndAClose() throws Exception {
        int port = start(Map.of(), Map.of());
        byte[] answer = exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        // [AMQP 2.2] the server answers with the protocol header it supports, then closes
        assertThat(answer).containsExactly('A', 'M', 'Q', 'P', 3, 1, 0, 0);
    }

    @Test
    void aFrameOverMaxFrameSizeEndsTheConnectionWithAFramingError() throws Exception {
        int port = start(Map.of("max-frame-size", 4096), Map.of());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[]{'A', 'M', 'Q', 'P', 0, 1, 0, 0}); // no SASL: anonymous access is on
        // a frame header announcing 100000 bytes [AMQP 2.3.1]
        out.writeBytes(new byte[]{0, 1, (byte) 0x86, (byte) 0xa0, 2, 0, 0, 0});
        String answer = new String(exchange(port, out.toByteArray()), StandardCharsets.ISO_8859_1);
        assertThat(answer).contains("amqp:connection:framing-error");
    }

    @Test
    void anUnknownPerformativeEndsTheConnectionWithAnErrorAndOthersAreNotDisturbed() throws Exception {
        int port = start(Map.of(), Map.of());
        try (ProtonClient bystander = ProtonClient.connect(port)) {
            Receiver r = bystander.receiver("r", queue("calm"), 5, false);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(new byte[]{'A', 'M', 'Q', 'P', 0, 1, 0, 0});
            // one frame whose body is a described list with descriptor 0x99, which is no performative
            out.writeBytes(new byte[]{0, 0, 0, 12, 2, 0, 0, 0, 0x00, 0x53, (byte) 0x99, 0x45});
            String answer = new String(exchange(port, out.toByteArray()), StandardCharsets.ISO_8859_1);
            assertThat(answer).contains("amqp:");
            bystander.send(bystander.sender("p", target("calm")), text(null, "unbothered"), false);
            assertThat(bystander.receive(r, 5_000)).isNotNull();
        }
    }

    @Test
    void anAmqp091HeaderGetsTheAmqp10HeaderBack() throws Exception {
        int port = start(Map.of(), Map.of());
        assertThat(exchange(port, new byte[]{'A', 'M', 'Q', 'P', 0, 0, 9, 1})).containsExactly('A', 'M', 'Q', 'P', 3, 1, 0, 0);
    }

    @Test
    void aSilentClientIsClosedAfterTheIdleTimeoutWhileAnActiveOneIsNot() throws Exception {
        int port = start(Map.of("idle-timeout", "1s"), Map.of());
        try (ProtonClient quiet = ProtonClient.connect(port); ProtonClient lively = ProtonClient.connect(port)) {
            // the lively one ticks its engine, which sends the heartbeats the server's idle-timeout asks for
            long end = System.currentTimeMillis() + 3_000;
            while (System.currentTimeMillis() < end) {
                lively.transport.tick(System.currentTimeMillis());
                lively.process();
            }
            assertThat(lively.connection.getRemoteState()).isEqualTo(EndpointState.ACTIVE);
            assertThat(quiet.await(() -> quiet.connection.getRemoteState() == EndpointState.CLOSED
                    || quiet.transport.isClosed(), 100)).isTrue();
            assertThat(String.valueOf(quiet.connection.getRemoteCondition())).contains("amqp:resource-limit-exceeded");
        }
    }

    /** Sends raw bytes and returns everything the server says until it closes the socket. */
    private static byte[] exchange(int port, byte[] request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write(request);
            InputStream in = s.getInputStream();
            return in.readAllBytes();
        }
    }
}
