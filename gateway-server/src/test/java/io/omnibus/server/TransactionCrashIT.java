package io.omnibus.server;

import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * AMQP transactions across {@code kill -9}, checked where users look: what a queue consumer receives after the
 * restart. A Qpid JMS transacted producer commits transactions of {@value #SIZE} messages to two queues while the
 * gateway child process is killed at a random moment. Every transaction whose commit returned must be there whole;
 * any other (the one being committed or staged at the kill) whole or not at all; never a part of one. Meanwhile a
 * transacted back end takes requests from a queue and commits each with its reply: every request must end up
 * answered once or still waiting, never answered twice (its acknowledgement lost) nor consumed unanswered.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class TransactionCrashIT {
    private static final int ROUNDS = 5;
    private static final int SIZE = 6;
    private static final int REQUESTS = 200; // sent each round

    @TempDir
    Path dir;

    @Test
    void aCommittedTransactionIsCompleteAfterACrashAndAnUncommittedOneLeavesNoTrace() throws Exception {
        int amqpPort = GatewayProcess.freePort();
        // the shipped configuration, with only AMQP on: what a user runs
        Map<String, String> env = Map.of("OMNIBUS_ADMIN_HOST", "127.0.0.1", "OMNIBUS_ADMIN_PORT", "0",
                "OMNIBUS_AMQP_HOST", "127.0.0.1", "OMNIBUS_AMQP_PORT", Integer.toString(amqpPort),
                "OMNIBUS_MQTT_ENABLED", "false", "OMNIBUS_KAFKA_ENABLED", "false",
                "OMNIBUS_OPENMESSAGING_ENABLED", "false");
        Path cfg = GatewayProcess.ROOT.resolve("config/gateway.yaml");
        Random random = new Random();
        Set<Integer> committed = ConcurrentHashMap.newKeySet();
        Map<Integer, Integer> seen = new HashMap<>();
        Map<String, Integer> replies = new HashMap<>();
        List<String> waiting = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();
        int next = 0;
        for (int round = 0; round <= ROUNDS; round++) {
            try (GatewayProcess gw = GatewayProcess.run(env, "start", "--config", cfg.toString(),
                    "--data-dir", dir.resolve("data").toString())) {
                gw.awaitReady();
                JmsConnectionFactory f = new JmsConnectionFactory("amqp://127.0.0.1:" + amqpPort);
                readEverything(f, seen);
                drain(f, "tx/replies", m -> replies.merge(m, 1, Integer::sum));
                if (round == ROUNDS) {
                    drain(f, "tx/requests", waiting::add);
                    break;
                }
                sendRequests(f, round);
                int first = next;
                next += 10_000;
                Thread producer = new Thread(() -> commitUntilKilled(f, first, committed), "tx-producer");
                Thread backEnd = new Thread(() -> serveUntilKilled(f, served), "tx-back-end");
                producer.start();
                backEnd.start();
                int target = 1 + random.nextInt(40);
                int servedBefore = served.get();
                await().atMost(Duration.ofSeconds(60)).until(() -> committedFrom(committed, first) >= target
                        && served.get() > servedBefore);
                gw.process.destroyForcibly(); // kill -9, with transactions staged or being committed
                gw.process.waitFor(30, TimeUnit.SECONDS);
                producer.join(30_000);
                backEnd.join(30_000);
            }
        }
        assertThat(committed).hasSizeGreaterThanOrEqualTo(ROUNDS);
        for (int tx : committed) {
            assertThat(seen.getOrDefault(tx, 0)).as("messages of committed transaction " + tx).isEqualTo(SIZE);
        }
        seen.forEach((tx, n) -> assertThat(n).as("messages of transaction " + tx + " (all or none)").isEqualTo(SIZE));
        for (int round = 0; round < ROUNDS; round++) {
            for (int i = 0; i < REQUESTS; i++) {
                String request = "req-" + round + "-" + i;
                int answered = replies.getOrDefault("reply:" + request, 0);
                assertThat(answered + (waiting.contains(request) ? 1 : 0))
                        .as(request + ": answered " + answered + " times, still waiting: " + waiting.contains(request))
                        .isEqualTo(1);
            }
        }
        System.out.println("TransactionCrashIT: " + committed.size() + " transactions committed before kills, "
                + seen.size() + " found whole after restarts, none in part; " + replies.size() + " of "
                + ROUNDS * REQUESTS + " requests answered once in a transaction with their consumption, "
                + waiting.size() + " still waiting, none twice");
    }

    private static long committedFrom(Set<Integer> committed, int first) {
        return committed.stream().filter(t -> t >= first).count();
    }

    /** Commits transactions of SIZE messages spread over two queues until the gateway dies under it. */
    private static void commitUntilKilled(JmsConnectionFactory f, int first, Set<Integer> committed) {
        try (Connection c = f.createConnection()) {
            Session s = c.createSession(true, Session.SESSION_TRANSACTED);
            List<MessageProducer> producers = List.of(s.createProducer(s.createQueue("tx/a")),
                    s.createProducer(s.createQueue("tx/b")));
            for (int tx = first; ; tx++) {
                for (int i = 0; i < SIZE; i++) {
                    producers.get(i % 2).send(s.createTextMessage(tx + ":" + i));
                }
                s.commit();
                committed.add(tx);
            }
        } catch (JMSException | RuntimeException expected) {
            // the gateway was killed
        }
    }

    private static void sendRequests(JmsConnectionFactory f, int round) throws JMSException {
        try (Connection c = f.createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("tx/requests"));
            for (int i = 0; i < REQUESTS; i++) {
                p.send(s.createTextMessage("req-" + round + "-" + i));
            }
        }
    }

    /** A back end: each request taken and answered in one transaction, until the gateway dies under it. */
    private static void serveUntilKilled(JmsConnectionFactory f, java.util.concurrent.atomic.AtomicInteger served) {
        try (Connection c = f.createConnection()) {
            c.start();
            Session s = c.createSession(true, Session.SESSION_TRANSACTED);
            MessageConsumer requests = s.createConsumer(s.createQueue("tx/requests"));
            MessageProducer replies = s.createProducer(s.createQueue("tx/replies"));
            while (true) {
                TextMessage m = (TextMessage) requests.receive(1000);
                if (m != null) {
                    replies.send(s.createTextMessage("reply:" + m.getText()));
                    s.commit();
                    served.incrementAndGet();
                }
            }
        } catch (JMSException | RuntimeException expected) {
            // the gateway was killed
        }
    }

    /** Reads a queue to its end (a marker sent now), handing each message's text on. */
    private static void drain(JmsConnectionFactory f, String queue, java.util.function.Consumer<String> each)
            throws JMSException {
        try (Connection c = f.createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            s.createProducer(s.createQueue(queue)).send(s.createTextMessage("marker"));
            MessageConsumer consumer = s.createConsumer(s.createQueue(queue));
            while (true) {
                TextMessage m = (TextMessage) consumer.receive(30_000);
                assertThat(m).as("the marker of " + queue).isNotNull();
                if (m.getText().equals("marker")) {
                    return;
                }
                each.accept(m.getText());
            }
        }
    }

    /** Reads both queues to their end, counting the messages of each transaction. */
    private static void readEverything(JmsConnectionFactory f, Map<Integer, Integer> seen) throws JMSException {
        for (String queue : List.of("tx/a", "tx/b")) {
            drain(f, queue, text -> seen.merge(Integer.parseInt(text.split(":")[0]), 1, Integer::sum));
        }
    }
}
