package io.omnibus.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Section;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.messaging.TerminusDurability;
import org.apache.qpid.proton.amqp.messaging.TerminusExpiryPolicy;
import org.apache.qpid.proton.message.Message;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * AMQP 1.0 load made with vertx-proton (on proton-j): receivers that compete for one source, each on a connection
 * of its own with {@code prefetch} credit, every delivery accepted once its handler has returned and the dispositions
 * of one read written together; and producers of durable messages with up to {@code window} unsettled each. Neither
 * hands a message between threads, so they keep a server busy where one Qpid JMS session does not
 * (bench/README.md).
 *
 * <p>{@code java -cp bench/target/benchmarks.jar io.omnibus.bench.ProtonLoad amqp://127.0.0.1:5672 4 50000 64
 * [bench.amqp]} (producers, messages each, payload bytes, queue): AMQP → AMQP through one queue, {@code CONSUMERS}
 * receivers (4 by default), {@code PREFETCH} (1,000) and {@code WINDOW} (1,000); counts as {@link AmqpToAmqp} does,
 * after an unreported warm-up round ({@code WARMUP} messages per producer, default the same count; 0 for none), and
 * prints its summary line.
 */
public final class ProtonLoad {
    private ProtonLoad() {
    }

    public static void main(String[] args) {
        Rounds.exitAfter(() -> run(args));
    }

    private static void run(String[] args) throws Exception {
        URI amqp = URI.create(args[0]);
        int producers = Integer.parseInt(args[1]);
        int each = Integer.parseInt(args[2]);
        int size = Math.max(16, Integer.parseInt(args[3]));
        String queue = args.length > 4 ? args[4] : "bench.amqp";
        int warmup = Integer.parseInt(System.getenv().getOrDefault("WARMUP", Integer.toString(each)));
        int consumers = Integer.parseInt(System.getenv().getOrDefault("CONSUMERS", "4"));
        int prefetch = Integer.parseInt(System.getenv().getOrDefault("PREFETCH", "1000"));
        int window = Integer.parseInt(System.getenv().getOrDefault("WINDOW", "1000"));

        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        AtomicReference<AmqpToAmqp.Arrivals> current = receivers(vertx, amqp, "queue:" + queue, consumers, prefetch);
        Rounds.warmThenMeasure(warmup, each, String.format("%d proton senders, window %d; %d proton receivers, "
                + "prefetch %d", producers, window, consumers, prefetch),
                (count, number) -> round(vertx, amqp, queue, producers, count, size, window, number, current));
    }

    /** One round: each producer sends {@code each} on a connection of its own; waits for every message. */
    private static String round(Vertx vertx, URI amqp, String queue, int producers, int each, int size, int window,
            int number, AtomicReference<AmqpToAmqp.Arrivals> current) throws InterruptedException {
        AmqpToAmqp.Arrivals arrivals = new AmqpToAmqp.Arrivals(producers * each, number);
        current.set(arrivals);
        AtomicLong refused = new AtomicLong();
        CountDownLatch sent = new CountDownLatch(producers);
        long began = System.nanoTime();
        for (int p = 0; p < producers; p++) {
            int first = p * each;
            send(vertx, amqp, queue, each, window, "bench-producer-" + p + "-" + System.nanoTime(), seq -> {
                byte[] payload = new byte[size];
                arrivals.stamp(payload, first + seq, System.nanoTime());
                return payload;
            }, refused, sent);
        }
        if (!sent.await(300, TimeUnit.SECONDS)) {
            throw new IllegalStateException(sent.getCount() + " of " + producers + " producers not done");
        }
        double sending = (System.nanoTime() - began) / 1e9;
        boolean complete = arrivals.await("");
        return String.format("AMQP -> AMQP queue: %d producers, %d messages of %d B, sent in %.2f s (%d refused): %s",
                producers, arrivals.total, size, sending, refused.get(), arrivals.summary(began, complete));
    }

    /** The payload of a producer's message by its sequence number (0 to each - 1). */
    interface Payloads {
        byte[] make(int seq);
    }

    /**
     * A producer on a connection of its own: {@code each} durable messages to {@code queue} (capability
     * {@code queue}), up to {@code window} unsettled; {@code done} is counted down once every one was settled (those
     * not accepted counted in {@code refused}), and the connection closed.
     */
    static void send(Vertx vertx, URI amqp, String queue, int each, int window, String container, Payloads payloads,
            AtomicLong refused, CountDownLatch done) {
        connect(vertx, amqp, container, connection -> {
            ProtonSender sender = connection.createSender(queue);
            ((Target) sender.getTarget()).setCapabilities(Symbol.valueOf("queue"));
            int[] counts = new int[2]; // sent, settled
            Runnable more = new Runnable() {
                @Override
                public void run() {
                    while (counts[0] < each && counts[0] - counts[1] < window && !sender.sendQueueFull()) {
                        Message m = Message.Factory.create();
                        m.setDurable(true);
                        m.setBody(new Data(new Binary(payloads.make(counts[0]++))));
                        sender.send(m, delivery -> {
                            if (!delivery.remotelySettled()) {
                                return;
                            }
                            if (!(delivery.getRemoteState() instanceof Accepted)) {
                                refused.incrementAndGet();
                            }
                            if (++counts[1] == each) {
                                connection.close();
                                done.countDown();
                            } else {
                                run();
                            }
                        });
                    }
                }
            };
            sender.sendQueueDrainHandler(s -> more.run());
            sender.openHandler(opened -> {
                if (opened.succeeded()) {
                    more.run();
                } else {
                    System.err.println(container + ": attach refused: " + opened.cause());
                }
            }).open();
        });
    }

    /**
     * {@code consumers} receivers of {@link #receive}, once all are attached; what they get goes to the round the
     * reference returned holds.
     */
    static AtomicReference<AmqpToAmqp.Arrivals> receivers(Vertx vertx, URI amqp, String source, int consumers,
            int prefetch) throws InterruptedException {
        AtomicReference<AmqpToAmqp.Arrivals> current = new AtomicReference<>();
        CountDownLatch attached = new CountDownLatch(consumers);
        for (int i = 0; i < consumers; i++) {
            receive(vertx, amqp, source, prefetch, "bench-consumer-" + i + "-" + System.nanoTime(), attached, current);
        }
        if (!attached.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(attached.getCount() + " of " + consumers + " receivers not attached");
        }
        return current;
    }

    /**
     * A receiver on a connection of its own, counted down once attached; what it gets goes to the current round.
     * {@code source} is {@code queue:ADDRESS} (a queue: capability {@code queue}) or {@code fqqn:ADDRESS::QUEUE} (a
     * queue on a topic's address, by its name: Artemis's fully qualified queue name).
     */
    private static void receive(Vertx vertx, URI amqp, String source, int prefetch, String container,
            CountDownLatch attached, AtomicReference<AmqpToAmqp.Arrivals> current) {
        connect(vertx, amqp, container, connection -> {
            ProtonReceiver receiver;
            if (source.startsWith("fqqn:")) {
                // a queue on a topic's address by its name, which the receivers compete for: ActiveMQ Artemis makes
                // it when the first one attaches (a multicast queue with the address's settings, durable), and then
                // reads no more of the source; the durability and expiry are for a broker that takes them as a
                // JMS shared durable subscription's
                receiver = connection.createReceiver(source.substring(5));
                Source s = (Source) receiver.getSource();
                s.setCapabilities(Symbol.valueOf("topic"));
                s.setDurable(TerminusDurability.UNSETTLED_STATE);
                s.setExpiryPolicy(TerminusExpiryPolicy.NEVER);
            } else {
                receiver = connection.createReceiver(source.replaceFirst("^queue:", ""));
                ((Source) receiver.getSource()).setCapabilities(Symbol.valueOf("queue"));
            }
            receiver.setPrefetch(prefetch).setAutoAccept(true)
                    .handler((delivery, message) -> arrived(message, current.get()))
                    .openHandler(opened -> {
                        if (opened.succeeded()) {
                            attached.countDown();
                        } else {
                            System.err.println(container + ": attach refused: " + opened.cause());
                        }
                    })
                    .open();
        });
    }

    /** Opens a connection with that container id and hands it over on its event loop. */
    private static void connect(Vertx vertx, URI amqp, String container,
            java.util.function.Consumer<ProtonConnection> opened) {
        ProtonClient.create(vertx).connect(amqp.getHost(), amqp.getPort(), ar -> {
            if (ar.failed()) {
                System.err.println(container + ": " + ar.cause());
                return;
            }
            ProtonConnection connection = ar.result();
            connection.setContainer(container).open();
            opened.accept(connection);
        });
    }

    /** On a receiver's event loop. */
    private static void arrived(Message message, AmqpToAmqp.Arrivals round) {
        Section body = message.getBody();
        Binary b = body instanceof Data d ? d.getValue()
                : body instanceof AmqpValue v && v.getValue() instanceof Binary bin ? bin : null;
        if (b == null || b.getLength() < 16) {
            throw new IllegalStateException("not a bench message: " + body);
        }
        ByteBuffer bb = ByteBuffer.wrap(b.getArray());
        round.arrived(bb.getLong(b.getArrayOffset()), bb.getLong(b.getArrayOffset() + 8));
    }
}
