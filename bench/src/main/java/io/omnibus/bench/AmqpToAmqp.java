package io.omnibus.bench;

import jakarta.jms.BytesMessage;
import jakarta.jms.CompletionListener;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import org.apache.qpid.jms.JmsConnectionFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A back end's queue under load: Qpid JMS producers (persistent messages, sent asynchronously with up to
 * {@code WINDOW} unacknowledged each, 1,000 by default, as a producer that does not wait for each send does),
 * {@code CONSUMERS} Qpid JMS consumers (1 by default, {@link #listen}), one queue. Counts what the consumers received,
 * and each message's latency from its send.
 * <pre>java -cp bench/target/benchmarks.jar io.omnibus.bench.AmqpToAmqp amqp://127.0.0.1:5672 4 50000 64 [bench.amqp]
 *     # producers, messages each, payload bytes, queue</pre>
 * An unreported warm-up round of the same load comes first ({@code WARMUP} messages per producer, default the same
 * count; 0 for none).
 */
public final class AmqpToAmqp {
    private AmqpToAmqp() {
    }

    public static void main(String[] args) throws Exception {
        String amqp = args[0];
        int producers = Integer.parseInt(args[1]);
        int each = Integer.parseInt(args[2]);
        int size = Math.max(16, Integer.parseInt(args[3]));
        String queue = args.length > 4 ? args[4] : "bench.amqp";
        int window = Integer.parseInt(System.getenv().getOrDefault("WINDOW", "1000"));
        int warmup = Integer.parseInt(System.getenv().getOrDefault("WARMUP", Integer.toString(each)));

        Connection consuming = new JmsConnectionFactory(amqp + "?jms.prefetchPolicy.all=1000").createConnection();
        java.util.concurrent.atomic.AtomicReference<Arrivals> current = new java.util.concurrent.atomic.AtomicReference<>();
        listen(consuming, cs -> cs.createConsumer(cs.createQueue(queue)), m -> Arrivals.arrived(m, current.get()));
        consuming.start();
        List<Connection> connections = new ArrayList<>();
        for (int p = 0; p < producers; p++) { // all connected before the clock starts
            Connection c = new JmsConnectionFactory(amqp + "?jms.forceAsyncSend=true").createConnection();
            c.start();
            connections.add(c);
        }
        if (warmup > 0) {
            Arrivals w = new Arrivals(producers * warmup, 0);
            current.set(w);
            String warm = run(w, connections, queue, warmup, size, window);
            if (!warm.contains("(lossless)")) { // a warm-up that lost messages is the finding: report it
                System.out.println(warm + " (in the warm-up round)");
                System.exit(0);
            }
        }
        Arrivals r = new Arrivals(producers * each, 1);
        current.set(r);
        String summary = run(r, connections, queue, each, size, window);
        System.out.println(summary + (warmup > 0 ? " (after a warm-up round of " + warmup + " each)" : " (cold)"));
        consuming.close();
        for (Connection c : connections) {
            c.close();
        }
        System.exit(0);
    }

    private static String run(Arrivals round, List<Connection> connections, String queue, int each, int size,
            int window) throws Exception {
        int producers = connections.size();
        AtomicLong refused = new AtomicLong();
        long began = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            Connection c = connections.get(p);
            int first = p * each;
            Thread t = new Thread(() -> {
                try {
                    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                    Queue q = s.createQueue(queue);
                    MessageProducer producer = s.createProducer(q);
                    producer.setDeliveryMode(DeliveryMode.PERSISTENT);
                    Semaphore inFlight = new Semaphore(window);
                    CompletionListener done = new CompletionListener() {
                        @Override
                        public void onCompletion(Message m) {
                            inFlight.release();
                        }

                        @Override
                        public void onException(Message m, Exception e) {
                            refused.incrementAndGet();
                            inFlight.release();
                        }
                    };
                    for (int i = 0; i < each; i++) {
                        inFlight.acquire();
                        byte[] payload = new byte[size];
                        round.stamp(payload, first + i, System.nanoTime());
                        BytesMessage m = s.createBytesMessage();
                        m.writeBytes(payload);
                        producer.send(m, done);
                    }
                    inFlight.acquire(window); // every send answered
                    s.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "producer-" + p);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        double sent = (System.nanoTime() - began) / 1e9;
        boolean complete = round.await("");
        return String.format("AMQP -> AMQP queue: %d producers, %d messages of %d B, sent in %.2f s (%d refused): %s",
                producers, round.total, size, sent, refused.get(), round.summary(began, complete));
    }

    /**
     * What the consumers received in one round, and each message's latency from its send. Each message carries the
     * round's number and its own number in the round at byte 0 (its sender's index times the messages each sends,
     * plus its own), so a duplicate (a redelivery between competing consumers) does not hide a loss, and a late copy
     * of a warm-up message does not count in the measured round.
     */
    static final class Arrivals {
        final int total;
        /** 0 for the warm-up round, 1 for the measured one. */
        private final int round;
        private final org.HdrHistogram.Histogram latencies = new org.HdrHistogram.Histogram(TimeUnit.SECONDS.toNanos(300), 3);
        /** The numbers received, and the counts below, under the lock of {@link #latencies}. */
        private final java.util.BitSet seen;
        private int distinct;
        private int duplicates;
        /** Messages of another round (a warm-up message redelivered late) or with a number outside this one's. */
        private int strays;
        private final AtomicLong secondMax = new AtomicLong();
        private final java.util.concurrent.CountDownLatch all = new java.util.concurrent.CountDownLatch(1);

        Arrivals(int total, int round) {
            this.total = total;
            this.round = round;
            this.seen = new java.util.BitSet(total);
        }

        /** The first bytes of a bench message of this round: its round and number, and its send time (nanoTime). */
        void stamp(byte[] payload, int number, long sentAt) {
            ByteBuffer.wrap(payload).putLong(0, (long) round << 32 | number).putLong(8, sentAt);
        }

        /** A message of the bench reached a consumer: on that consumer's JMS session thread. */
        static void arrived(Message m, Arrivals round) {
            try {
                byte[] b = new byte[16];
                ((BytesMessage) m).readBytes(b);
                ByteBuffer bb = ByteBuffer.wrap(b);
                round.arrived(bb.getLong(0), bb.getLong(8));
            } catch (jakarta.jms.JMSException e) {
                throw new IllegalStateException(e);
            }
        }

        /** On a JMS session's thread. */
        void arrived(long stamp, long sentAt) {
            long took = Math.max(0, Math.min(System.nanoTime() - sentAt, latencies.getHighestTrackableValue()));
            int number = (int) stamp;
            boolean last;
            synchronized (latencies) { // the consumers' session threads, and the readers
                if ((int) (stamp >>> 32) != round || number < 0 || number >= total) {
                    strays++;
                    return;
                }
                if (seen.get(number)) {
                    duplicates++;
                    return;
                }
                seen.set(number);
                latencies.recordValue(took);
                last = ++distinct == total;
            }
            secondMax.accumulateAndGet(took, Math::max);
            if (last) {
                all.countDown();
            }
        }

        private int distinct() {
            synchronized (latencies) {
                return distinct;
            }
        }

        /** Waits for every message, a line a second; false when 120 s passed without one more arriving. */
        boolean await(String label) throws InterruptedException {
            long progressed = System.nanoTime();
            int had = -1;
            while (!all.await(1, TimeUnit.SECONDS)) {
                int now = distinct();
                System.out.printf("  %s%d / %d received, worst latency this second %.1f ms%n", label, now, total,
                        secondMax.getAndSet(0) / 1e6);
                if (now != had) {
                    had = now;
                    progressed = System.nanoTime();
                } else if (System.nanoTime() - progressed > TimeUnit.SECONDS.toNanos(120)) {
                    return false;
                }
            }
            return true;
        }

        /** Received (distinct), lossless or not, duplicates and strays, the rate since {@code began}, the latencies. */
        String summary(long began, boolean complete) {
            double seconds = (System.nanoTime() - began) / 1e9;
            org.HdrHistogram.Histogram h;
            int n;
            int dup;
            int stray;
            synchronized (latencies) {
                h = latencies.copy();
                n = distinct;
                dup = duplicates;
                stray = strays;
            }
            return String.format("received %d (%s)%s%s, %.0f msg/s; latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f "
                    + "max %.2f", n, complete && n == total ? "lossless" : "LOST " + (total - n),
                    dup == 0 ? "" : ", " + dup + " duplicates", stray == 0 ? "" : ", " + stray + " of another round",
                    n / seconds, h.getValueAtPercentile(50) / 1e6,
                    h.getValueAtPercentile(90) / 1e6, h.getValueAtPercentile(99) / 1e6,
                    h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6);
        }
    }

    /**
     * {@code CONSUMERS} competing consumers of one source (1 by default), each on a JMS session of its own on one
     * connection, as a listener container with that concurrency has: a session delivers to its listener on a thread
     * of its own, and in AUTO_ACKNOWLEDGE Qpid JMS waits for its connection's thread to take each acknowledgement, so
     * one session alone cannot keep a fast server busy.
     */
    static void listen(Connection connection, ConsumerOf consumer, jakarta.jms.MessageListener listener)
            throws jakarta.jms.JMSException {
        int consumers = Integer.parseInt(System.getenv().getOrDefault("CONSUMERS", "1"));
        for (int i = 0; i < consumers; i++) {
            Session s = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            consumer.make(s).setMessageListener(listener);
        }
    }

    /** The consumer one session makes on the source. */
    interface ConsumerOf {
        MessageConsumer make(Session session) throws jakarta.jms.JMSException;
    }
}
