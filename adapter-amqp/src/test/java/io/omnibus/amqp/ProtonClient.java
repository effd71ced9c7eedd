package io.omnibus.amqp;

import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.ReceiverSettleMode;
import org.apache.qpid.proton.amqp.transport.SenderSettleMode;
import org.apache.qpid.proton.engine.Collector;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.apache.qpid.proton.engine.Transport;
import org.apache.qpid.proton.message.Message;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A blocking AMQP 1.0 client on the proton-j engine (the library Qpid's clients are built on) over a plain socket:
 * for what a JMS client does not expose (drain, pre-settled transfers, each outcome, termini with any capability).
 */
public final class ProtonClient implements AutoCloseable {
    public final Transport transport = Proton.transport();
    public final Connection connection = Proton.connection();
    public final Collector collector = Proton.collector();
    public final Session session;
    private final Socket socket;
    private int tags;

    private ProtonClient(int port, String user, String password, String containerId) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(20);
        Sasl sasl = transport.sasl();
        sasl.client();
        if (user == null) {
            sasl.setMechanisms("ANONYMOUS");
        } else {
            sasl.plain(user, password);
        }
        connection.collect(collector);
        connection.setContainer(containerId);
        transport.bind(connection);
        connection.open();
        session = connection.session();
        session.open();
    }

    /** Connects and waits for the server's open (fails when it does not come: SASL refused, say). */
    public static ProtonClient connect(int port, String user, String password, String containerId) throws IOException {
        ProtonClient c = new ProtonClient(port, user, password, containerId);
        if (!c.await(() -> c.connection.getRemoteState() == EndpointState.ACTIVE, 5_000)) {
            String outcome = String.valueOf(c.transport.sasl().getOutcome());
            c.close();
            throw new IOException("no open from the server; SASL outcome " + outcome);
        }
        return c;
    }

    public static ProtonClient connect(int port) throws IOException {
        return connect(port, null, null, "proton-test");
    }

    public Receiver receiver(String name, Source source, int credit, boolean presettled) {
        Receiver r = session.receiver(name);
        r.setSource(source);
        r.setTarget(new Target());
        if (presettled) {
            r.setSenderSettleMode(SenderSettleMode.SETTLED);
        }
        r.setReceiverSettleMode(ReceiverSettleMode.FIRST);
        r.open();
        if (credit > 0) {
            r.flow(credit);
        }
        await(() -> r.getRemoteState() != EndpointState.UNINITIALIZED, 5_000);
        return r;
    }

    public Sender sender(String name, Target target) {
        Sender s = session.sender(name);
        s.setTarget(target);
        s.setSource(new Source());
        s.open();
        await(() -> s.getRemoteState() != EndpointState.UNINITIALIZED, 5_000);
        return s;
    }

    /** Sends and, unless pre-settled, waits for the outcome; returns the delivery. */
    public Delivery send(Sender s, Message m, boolean presettled) {
        await(() -> s.getCredit() > 0, 5_000);
        byte[] bytes = new byte[64 * 1024 + (m.getBody() == null ? 0 : 2 * 1024 * 1024)];
        int n = m.encode(bytes, 0, bytes.length);
        Delivery d = s.delivery(("t" + (tags++)).getBytes());
        s.send(bytes, 0, n);
        s.advance();
        if (presettled) {
            d.settle();
            process();
        } else {
            await(() -> d.getRemoteState() != null, 5_000);
        }
        return d;
    }

    /** Waits for the next complete transfer on {@code r} and decodes it; null after {@code millis}. */
    public Received receive(Receiver r, long millis) {
        Delivery[] found = new Delivery[1];
        await(() -> {
            Delivery d = r.current();
            if (d != null && d.isReadable() && !d.isPartial()) {
                found[0] = d;
                return true;
            }
            return false;
        }, millis);
        Delivery d = found[0];
        if (d == null) {
            return null;
        }
        byte[] bytes = new byte[d.available()];
        r.recv(bytes, 0, bytes.length);
        r.advance();
        Message m = Message.Factory.create();
        m.decode(bytes, 0, bytes.length);
        return new Received(d, m);
    }

    public record Received(Delivery delivery, Message message) {
    }

    /** Everything received on {@code r} until nothing more comes for {@code quietMillis}. */
    public List<Received> receiveAll(Receiver r, long quietMillis) {
        List<Received> out = new ArrayList<>();
        Received got;
        while ((got = receive(r, quietMillis)) != null) {
            out.add(got);
        }
        return out;
    }

    /** Writes what the engine has, reads what arrives within the socket timeout. */
    public void process() {
        try {
            while (transport.pending() > 0) {
                ByteBuffer head = transport.head();
                byte[] out = new byte[head.remaining()];
                head.get(out);
                socket.getOutputStream().write(out);
                transport.pop(out.length);
            }
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            try {
                n = in.read(buf);
            } catch (SocketTimeoutException quiet) {
                n = 0;
            }
            if (n < 0) {
                transport.close_tail();
            } else if (n > 0) {
                int off = 0;
                while (off < n && transport.capacity() > 0) {
                    int chunk = Math.min(transport.capacity(), n - off);
                    transport.tail().put(buf, off, chunk);
                    transport.process();
                    off += chunk;
                }
            }
            while (collector.peek() != null) {
                collector.pop(); // state is read from the endpoints, events are not needed
            }
        } catch (IOException e) {
            transport.close_tail();
        }
    }

    /** Runs the engine until {@code condition} holds; false after {@code millis}. */
    public boolean await(BooleanSupplier condition, long millis) {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            process();
            if (condition.getAsBoolean()) {
                return true;
            }
        }
        return condition.getAsBoolean();
    }

    public boolean socketClosed() {
        try {
            socket.setSoTimeout(20);
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
            process();
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
