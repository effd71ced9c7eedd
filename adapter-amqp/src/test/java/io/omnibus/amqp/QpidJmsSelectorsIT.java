package io.omnibus.amqp;

import io.omnibus.core.harness.TestGateway;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** JMS selectors and no-local with Qpid JMS: each subscriber gets exactly what it selected, nothing else. */
@Timeout(60)
class QpidJmsSelectorsIT extends QpidJmsTestBase {
    private static void send(Session s, MessageProducer p, String text, String type, Integer celsius, String site)
            throws JMSException {
        Message m = s.createTextMessage(text);
        if (type != null) {
            m.setJMSType(type);
        }
        if (celsius != null) {
            m.setIntProperty("celsius", celsius);
        }
        if (site != null) {
            m.setStringProperty("site", site);
        }
        p.send(m);
    }

    /** Receives {@code n} messages, then waits until the subscription has delivered exactly those and holds no more. */
    private List<String> receiveAll(MessageConsumer c, String subscription, int n) throws JMSException {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Message m = c.receive(5000);
            assertThat(m).as(subscription + " message " + (i + 1) + " of " + n).isNotNull();
            out.add(((TextMessage) m).getText());
        }
        await().until(() -> view(subscription).backlog() == 0 && view(subscription).acknowledged() == n);
        assertThat(view(subscription).delivered()).as(subscription + " delivered").isEqualTo(n);
        return out;
    }

    @Test
    void eachSubscriberGetsWhatItsSelectorSelects() throws Exception {
        gw = TestGateway.builder().adapter(new AmqpAdapterFactory(), Map.of()).start();
        Session s = connect("readers").createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic readings = s.createTopic("readings");
        Map<String, String> selectors = Map.of(
                "by-type", "JMSType = 'temperature'",
                "hot", "celsius > 30",
                "range", "celsius BETWEEN 0 AND 20 AND JMSType = 'temperature'",
                "north", "site LIKE 'north-%'",
                "listed", "site IN ('south-2', 'east-1')",
                "nowhere", "site IS NULL");
        Map<String, MessageConsumer> consumers = new java.util.HashMap<>();
        for (Map.Entry<String, String> e : selectors.entrySet()) {
            consumers.put(e.getKey(), s.createDurableConsumer(readings, e.getKey(), e.getValue(), false));
        }
        MessageProducer p = s.createProducer(readings);
        send(s, p, "t-north-35", "temperature", 35, "north-1");
        send(s, p, "t-south-12", "temperature", 12, "south-2");
        send(s, p, "h-east-40", "humidity", 40, "east-1");
        send(s, p, "t-none-5", "temperature", 5, null);
        send(s, p, "plain", null, null, null);

        assertThat(receiveAll(consumers.get("by-type"), "amqp/readers/by-type", 3))
                .containsExactly("t-north-35", "t-south-12", "t-none-5");
        assertThat(receiveAll(consumers.get("hot"), "amqp/readers/hot", 2)).containsExactly("t-north-35", "h-east-40");
        assertThat(receiveAll(consumers.get("range"), "amqp/readers/range", 2)).containsExactly("t-south-12", "t-none-5");
        assertThat(receiveAll(consumers.get("north"), "amqp/readers/north", 1)).containsExactly("t-north-35");
        assertThat(receiveAll(consumers.get("listed"), "amqp/readers/listed", 2)).containsExactly("t-south-12", "h-east-40");
        assertThat(receiveAll(consumers.get("nowhere"), "amqp/readers/nowhere", 2)).containsExactly("t-none-5", "plain");
    }

    @Test
    void aNoLocalSubscriberDoesNotGetItsOwnConnectionsMessages() throws Exception {
        gw = TestGateway.builder().adapter(new AmqpAdapterFactory(), Map.of()).start();
        Session mine = connect("me").createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic chat = mine.createTopic("chat");
        MessageConsumer noLocal = mine.createDurableSubscriber(chat, "others", null, true);
        mine.createProducer(chat).send(mine.createTextMessage("mine"));
        Session theirs = connect("them").createSession(false, Session.AUTO_ACKNOWLEDGE);
        theirs.createProducer(theirs.createTopic("chat")).send(theirs.createTextMessage("theirs"));
        assertThat(receiveAll(noLocal, "amqp/me/others", 1)).containsExactly("theirs");
    }

    @Test
    void aDurableSubscriberKeepsItsSelectorWhileAwayAndANewSelectorReplacesTheSubscription() throws Exception {
        gw = TestGateway.builder().adapter(new AmqpAdapterFactory(), Map.of()).start();
        Connection first = connect("alarms");
        Session s1 = first.createSession(false, Session.AUTO_ACKNOWLEDGE);
        s1.createDurableConsumer(s1.createTopic("events"), "severe", "level >= 3", false).close();
        first.close();

        Session ps = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = ps.createProducer(ps.createTopic("events"));
        for (int level = 1; level <= 4; level++) {
            Message m = ps.createTextMessage("level-" + level);
            m.setIntProperty("level", level);
            p.send(m);
        }
        Session s2 = connect("alarms").createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer back = s2.createDurableConsumer(s2.createTopic("events"), "severe", "level >= 3", false);
        assertThat(receiveAll(back, "amqp/alarms/severe", 2)).containsExactly("level-3", "level-4");
        back.close();

        Message m = ps.createTextMessage("level-5 before the change");
        m.setIntProperty("level", 5);
        p.send(m);
        await().until(() -> view("amqp/alarms/severe").backlog() == 1);
        MessageConsumer changed = s2.createDurableConsumer(s2.createTopic("events"), "severe", "level = 1", false);
        assertThat(view("amqp/alarms/severe").backlog()).as("a new selector starts a new subscription").isZero();
        Message one = ps.createTextMessage("level-1 after");
        one.setIntProperty("level", 1);
        p.send(one);
        assertThat(((TextMessage) changed.receive(5000)).getText()).isEqualTo("level-1 after");
    }

    @Test
    void queueReceiversWithSelectorsShareTheQueueEachTakingWhatItSelects() throws Exception {
        gw = TestGateway.builder().adapter(new AmqpAdapterFactory(), Map.of()).start();
        Session s = connect(null).createSession(false, Session.CLIENT_ACKNOWLEDGE);
        jakarta.jms.Queue orders = s.createQueue("orders");
        MessageProducer p = s.createProducer(orders);
        for (int i = 0; i < 6; i++) { // sent before any receiver: the queue keeps them
            Message m = s.createTextMessage((i % 2 == 0 ? "eu-" : "us-") + i);
            m.setStringProperty("region", i % 2 == 0 ? "eu" : "us");
            m.setIntProperty("amount", i * 100);
            p.send(m);
        }
        MessageConsumer eu = s.createConsumer(orders, "region = 'eu'");
        List<String> euGot = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            euGot.add(((TextMessage) eu.receive(5000)).getText());
        }
        assertThat(euGot).containsExactly("eu-0", "eu-2", "eu-4");
        MessageConsumer big = s.createConsumer(orders, "amount >= 300");
        List<String> bigGot = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            bigGot.add(((TextMessage) big.receive(5000)).getText());
        }
        assertThat(bigGot).containsExactly("us-3", "us-5");
        MessageConsumer rest = s.createConsumer(orders);
        Message last = rest.receive(5000);
        assertThat(((TextMessage) last).getText()).isEqualTo("us-1");
        last.acknowledge(); // CLIENT_ACKNOWLEDGE: every message of the session so far
        await().until(() -> view("orders").acknowledged() == 6 && view("orders").backlog() == 0);
    }

    @Test
    void aBadSelectorOrOneOnAKeyOrderedQueueIsRefusedAndTheConnectionGoesOn() throws Exception {
        gw = TestGateway.builder().brokerConfig(Map.of("addresses", List.of(Map.of("match", "ordered",
                "dispatch", "key-ordered")))).adapter(new AmqpAdapterFactory(), Map.of()).start();
        Session s = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        assertThatThrownBy(() -> s.createConsumer(s.createTopic("t"), "celsius >")).isInstanceOf(JMSException.class);
        assertThatThrownBy(() -> s.createConsumer(s.createQueue("q"), "celsius >")).isInstanceOf(JMSException.class);
        assertThatThrownBy(() -> s.createConsumer(s.createQueue("ordered"), "celsius > 1"))
                .isInstanceOf(JMSException.class).hasMessageContaining("key-ordered");
        MessageConsumer fine = s.createConsumer(s.createTopic("t"), "celsius > 1");
        Message m = s.createTextMessage("ok");
        m.setIntProperty("celsius", 2);
        s.createProducer(s.createTopic("t")).send(m);
        assertThat(((TextMessage) fine.receive(5000)).getText()).isEqualTo("ok");
    }
}
