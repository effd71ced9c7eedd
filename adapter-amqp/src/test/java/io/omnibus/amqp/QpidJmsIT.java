package io.omnibus.amqp;

import io.omnibus.core.harness.TestGateway;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Qpid JMS, a client we did not write, against the AMQP adapter: queues, topics, durable and shared subscriptions, request/reply. */
@Timeout(60)
class QpidJmsIT extends QpidJmsTestBase {
    private TestGateway start(Map<String, Object> amqp) {
        gw = TestGateway.builder().adapter(new AmqpAdapterFactory(), amqp).start();
        return gw;
    }

    @Test
    void aQueueKeepsMessagesSentBeforeTheFirstReceiverAndReceiversShareThem() throws Exception {
        start(Map.of());
        Session s = connect(null).createSession(false, Session.CLIENT_ACKNOWLEDGE);
        Queue q = s.createQueue("orders/new");
        MessageProducer p = s.createProducer(q);
        for (int i = 0; i < 4; i++) {
            p.send(s.createTextMessage("o" + i)); // persistent: returns once the gateway accepted it
        }
        MessageConsumer a = s.createConsumer(q);
        Session s2 = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer b = s2.createConsumer(s2.createQueue("orders/new"));
        List<String> got = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Message m = a.receive(200);
            if (m == null) {
                m = b.receive(2000);
            } else {
                m.acknowledge();
            }
            assertThat(m).as("message %d", i).isNotNull();
            got.add(((TextMessage) m).getText());
        }
        assertThat(got).containsExactlyInAnyOrder("o0", "o1", "o2", "o3");
        assertThat(a.receive(200)).isNull();
        assertThat(b.receive(200)).isNull();
    }

    @Test
    void propertiesAndBodiesSurviveTheTripThroughTheGateway() throws Exception {
        start(Map.of());
        Session s = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("types");
        MessageConsumer c = s.createConsumer(q);
        MessageProducer p = s.createProducer(q);
        TextMessage t = s.createTextMessage("héllo");
        t.setStringProperty("site", "north");
        t.setIntProperty("count", 7);
        t.setBooleanProperty("urgent", true);
        t.setJMSCorrelationID("req-42");
        t.setJMSType("reading");
        p.setPriority(7);
        p.send(t);
        TextMessage gotText = (TextMessage) c.receive(5000);
        assertThat(gotText.getText()).isEqualTo("héllo");
        assertThat(gotText.getStringProperty("site")).isEqualTo("north");
        assertThat(gotText.getObjectProperty("count")).isEqualTo(7); // the type is kept, not only the text
        assertThat(gotText.getObjectProperty("urgent")).isEqualTo(true);
        assertThat(gotText.getJMSCorrelationID()).isEqualTo("req-42");
        assertThat(gotText.getJMSType()).isEqualTo("reading"); // AMQP subject
        assertThat(gotText.getJMSPriority()).isEqualTo(7);
        assertThat(gotText.getJMSMessageID()).isEqualTo(t.getJMSMessageID());
        assertThat(gotText.getJMSDeliveryMode()).isEqualTo(DeliveryMode.PERSISTENT);

        BytesMessage bytes = s.createBytesMessage();
        bytes.writeBytes(new byte[]{0, 1, 2, (byte) 0xff});
        p.send(bytes);
        BytesMessage gotBytes = (BytesMessage) c.receive(5000);
        byte[] body = new byte[(int) gotBytes.getBodyLength()];
        gotBytes.readBytes(body);
        assertThat(body).containsExactly(0, 1, 2, 0xff);

        MapMessage map = s.createMapMessage();
        map.setString("unit", "C");
        map.setDouble("value", 21.5);
        p.send(map);
        MapMessage gotMap = (MapMessage) c.receive(5000); // the AMQP encoding of the map is kept for AMQP consumers
        assertThat(gotMap.getString("unit")).isEqualTo("C");
        assertThat(gotMap.getDouble("value")).isEqualTo(21.5);

        p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
        p.send(s.createTextMessage("light"));
        assertThat(c.receive(5000).getJMSDeliveryMode()).isEqualTo(DeliveryMode.NON_PERSISTENT);
    }

    @Test
    void everyTopicSubscriberGetsEveryMessageAndAQueueReceiverDoesNotStealThem() throws Exception {
        start(Map.of());
        Session s = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = s.createTopic("alerts/fire");
        MessageConsumer a = s.createConsumer(t);
        MessageConsumer b = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE)
                .createConsumer(s.createTopic("alerts/+")); // topic filters: MQTT wildcards
        s.createProducer(t).send(s.createTextMessage("evacuate"));
        assertThat(((TextMessage) a.receive(5000)).getText()).isEqualTo("evacuate");
        assertThat(((TextMessage) b.receive(5000)).getText()).isEqualTo("evacuate");
    }

    @Test
    void aDurableSubscriptionKeepsMessagesWhileItsSubscriberIsAwayAndUnsubscribeEndsIt() throws Exception {
        start(Map.of());
        Connection c1 = connect("billing");
        Session s1 = c1.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = s1.createTopic("invoices");
        MessageConsumer sub = s1.createDurableSubscriber(t, "all-invoices");
        sub.close();
        Session ps = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        ps.createProducer(ps.createTopic("invoices")).send(ps.createTextMessage("inv-1"));
        c1.close();

        Connection c2 = connect("billing");
        Session s2 = c2.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer again = s2.createDurableSubscriber(s2.createTopic("invoices"), "all-invoices");
        assertThat(((TextMessage) again.receive(5000)).getText()).isEqualTo("inv-1");
        again.close();
        s2.unsubscribe("all-invoices");
        assertThat(gw.broker.subscriptionViews()).extracting(v -> v.name()).doesNotContain("amqp/billing/all-invoices");
        assertThatThrownBy(() -> s2.unsubscribe("all-invoices")).isInstanceOf(InvalidDestinationException.class);
    }

    @Test
    void aDurableSubscriberWhoseConnectionDiesGetsWhatItHadNotAcknowledgedWhenItComesBack() throws Exception {
        start(Map.of());
        Connection c1 = connect("meter-reader");
        Session s1 = c1.createSession(false, Session.CLIENT_ACKNOWLEDGE);
        MessageConsumer sub = s1.createDurableSubscriber(s1.createTopic("meters"), "readings");
        Session ps = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = ps.createProducer(ps.createTopic("meters"));
        for (String m : List.of("m-1", "m-2", "m-3")) {
            p.send(ps.createTextMessage(m));
        }
        Message first = sub.receive(5000);
        assertThat(((TextMessage) first).getText()).isEqualTo("m-1");
        first.acknowledge(); // m-1 only: m-2 is received and not acknowledged when the connection dies
        assertThat(((TextMessage) sub.receive(5000)).getText()).isEqualTo("m-2");
        // the acknowledgement is a disposition on its way: the connection dies once the gateway has it (dying
        // before, m-1 would rightly come again)
        org.awaitility.Awaitility.await().until(() -> gw.broker.subscriptionViews().stream()
                .filter(v -> v.name().equals("amqp/meter-reader/readings")).anyMatch(v -> v.acknowledged() == 1));
        AmqpServer server = (AmqpServer) gw.adapter("amqp");
        server.connections.stream().filter(c -> c.containerId.equals("meter-reader")).forEach(AmqpConnection::disconnect);

        Connection c2 = connect("meter-reader");
        Session s2 = c2.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer back = s2.createDurableSubscriber(s2.createTopic("meters"), "readings");
        assertThat(((TextMessage) back.receive(5000)).getText()).isEqualTo("m-2");
        assertThat(((TextMessage) back.receive(5000)).getText()).isEqualTo("m-3");
        back.close();
        s2.unsubscribe("readings");
        assertThat(gw.broker.subscriptionViews()).extracting(v -> v.name()).doesNotContain("amqp/meter-reader/readings");
    }

    @Test
    void sharedSubscriptionConsumersSplitTheMessages() throws Exception {
        start(Map.of());
        Connection c = connect("workers");
        Session s1 = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Session s2 = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = s1.createTopic("jobs");
        MessageConsumer a = s1.createSharedConsumer(t, "pool");
        MessageConsumer b = s2.createSharedConsumer(t, "pool");
        Session ps = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = ps.createProducer(ps.createTopic("jobs"));
        for (int i = 0; i < 10; i++) {
            p.send(ps.createTextMessage("j" + i));
        }
        int fromA = 0;
        int fromB = 0;
        for (int i = 0; i < 10; i++) {
            Message m = a.receive(100);
            if (m != null) {
                fromA++;
            } else {
                assertThat(b.receive(5000)).isNotNull();
                fromB++;
            }
        }
        assertThat(fromA + fromB).isEqualTo(10);
        assertThat(fromA).isPositive();
        assertThat(fromB).isPositive();
    }

    @Test
    void requestReplyThroughATemporaryQueue() throws Exception {
        start(Map.of());
        Session service = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer requests = service.createConsumer(service.createQueue("rpc/time"));
        MessageProducer replies = service.createProducer(null); // anonymous: ANONYMOUS-RELAY

        Session client = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        TemporaryQueue replyTo = client.createTemporaryQueue();
        assertThat(replyTo.getQueueName()).startsWith("$tmp/amqp/");
        MessageConsumer answers = client.createConsumer(replyTo);
        TextMessage ask = client.createTextMessage("what time is it?");
        ask.setJMSReplyTo(replyTo);
        client.createProducer(client.createQueue("rpc/time")).send(ask);

        Message req = requests.receive(5000);
        Destination back = req.getJMSReplyTo();
        assertThat(back).isInstanceOf(Queue.class);
        TextMessage answer = service.createTextMessage("noon");
        answer.setJMSCorrelationID(req.getJMSMessageID());
        replies.send(back, answer);

        TextMessage got = (TextMessage) answers.receive(5000);
        assertThat(got.getText()).isEqualTo("noon");
        assertThat(got.getJMSCorrelationID()).isEqualTo(ask.getJMSMessageID());
        answers.close();
        String node = replyTo.getQueueName();
        replyTo.delete();
        org.awaitility.Awaitility.await().until(() -> gw.broker.subscriptionViews().stream()
                .noneMatch(v -> v.name().equals(node))); // the node went with the link that made it
    }

    @Test
    void anInvalidAddressIsRefusedAndTheConnectionStaysUsable() throws Exception {
        start(Map.of());
        Session s = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        assertThatThrownBy(() -> s.createProducer(s.createQueue("a/+/b")))
                .isInstanceOf(JMSException.class).hasMessageContaining("wildcard");
        assertThatThrownBy(() -> s.createProducer(s.createQueue("$dlq/x")))
                .isInstanceOf(JMSException.class).hasMessageContaining("belongs to the gateway");
        MessageConsumer c = s.createConsumer(s.createQueue("fine"));
        s.createProducer(s.createQueue("fine")).send(s.createTextMessage("still here"));
        assertThat(((TextMessage) c.receive(5000)).getText()).isEqualTo("still here");
    }

    @Test
    void pipelinedSendsAreStoredInRunsAndArriveInOrderWithEachOutcomeTheirOwn() throws Exception {
        gw = TestGateway.builder().brokerConfig(Map.of("broker", Map.of("max-message-size", "4KiB")))
                .adapter(new AmqpAdapterFactory(), Map.of()).start();
        // asynchronous sends: Qpid JMS pipelines the transfers, so one read of the gateway's holds many of them
        Session s = connect(null, "?jms.forceAsyncSend=true").createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue a = s.createQueue("runs/a");
        Queue b = s.createQueue("runs/b");
        Session rs = connect(null).createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer ca = rs.createConsumer(a);
        MessageConsumer cb = rs.createConsumer(b);
        MessageProducer toA = s.createProducer(a);
        MessageProducer anonymous = s.createProducer(null); // each message says where: runs break at a change
        int sent = 2000;
        List<String> failed = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger completed = new java.util.concurrent.atomic.AtomicInteger();
        jakarta.jms.CompletionListener outcome = new jakarta.jms.CompletionListener() {
            @Override
            public void onCompletion(Message m) {
                completed.incrementAndGet();
            }

            @Override
            public void onException(Message m, Exception e) {
                try {
                    failed.add(((TextMessage) m).getText().substring(0, 8) + ": " + e.getMessage());
                } catch (JMSException ex) {
                    failed.add(ex.toString());
                }
            }
        };
        List<String> toAExpected = new ArrayList<>();
        List<String> toBExpected = new ArrayList<>();
        for (int i = 0; i < sent; i++) {
            String body = String.format("m%07d", i);
            if (i == 1000) { // over the limit: refused alone, not with the messages around it
                anonymous.send(a, s.createTextMessage(body + "x".repeat(5000)), outcome);
            } else if (i % 97 == 0) {
                anonymous.send(b, s.createTextMessage(body), outcome);
                toBExpected.add(body);
            } else {
                toA.send(s.createTextMessage(body), outcome);
                toAExpected.add(body);
            }
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> completed.get() + failed.size() == sent);
        assertThat(failed).hasSize(1);
        assertThat(failed.get(0)).startsWith("m0001000").contains("exceeds");
        List<String> gotA = new ArrayList<>();
        while (gotA.size() < toAExpected.size()) {
            Message m = ca.receive(10_000);
            assertThat(m).as("message %d to runs/a", gotA.size()).isNotNull();
            gotA.add(((TextMessage) m).getText());
        }
        List<String> gotB = new ArrayList<>();
        while (gotB.size() < toBExpected.size()) {
            Message m = cb.receive(10_000);
            assertThat(m).as("message %d to runs/b", gotB.size()).isNotNull();
            gotB.add(((TextMessage) m).getText());
        }
        assertThat(gotA).containsExactlyElementsOf(toAExpected);
        assertThat(gotB).containsExactlyElementsOf(toBExpected);
        // the store took them in fewer appends than messages: transfers of one read went as runs
        double appends = gw.meters.find("omnibus.publish.latency").tag("protocol", "amqp").timer().count();
        assertThat(appends).isLessThan(sent - 1);
    }
}
