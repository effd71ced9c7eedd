package io.omnibus.amqp;

import io.omnibus.core.harness.TestGateway;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * AMQP 1.0 local transactions with Qpid JMS transacted sessions: what a consumer of the gateway observes at commit,
 * at rollback, and when the transacted connection dies.
 */
@Timeout(60)
class QpidJmsTransactionsIT extends QpidJmsTestBase {
    private void start() {
        gw = TestGateway.builder().brokerConfig(Map.of("subscriptions",
                List.of(Map.of("name", "*", "redelivery-delay", "10ms"))))
                .adapter(new AmqpAdapterFactory(), Map.of()).start();
    }

    private Connection connect() throws JMSException {
        // prefetch 1: what a transacted consumer holds beyond the message it is working on stays small
        return connect(null, "?jms.prefetchPolicy.all=1");
    }

    private static String text(Message m) throws JMSException {
        return m == null ? null : ((TextMessage) m).getText();
    }

    @Test
    void messagesSentInATransactionArriveTogetherAtCommitAndNeverAfterARollback() throws Exception {
        start();
        Session tx = connect().createSession(true, Session.SESSION_TRANSACTED);
        Session plain = connect().createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue orders = plain.createQueue("orders");
        MessageConsumer consumer = plain.createConsumer(orders);
        MessageProducer txProducer = tx.createProducer(tx.createQueue("orders"));
        for (int i = 0; i < 3; i++) {
            txProducer.send(tx.createTextMessage("tx-" + i));
        }
        plain.createProducer(orders).send(plain.createTextMessage("outside")); // sent after them: first to arrive
        assertThat(text(consumer.receive(5000))).isEqualTo("outside");
        tx.commit();
        assertThat(List.of(text(consumer.receive(5000)), text(consumer.receive(5000)), text(consumer.receive(5000))))
                .containsExactly("tx-0", "tx-1", "tx-2");

        txProducer.send(tx.createTextMessage("rolled-back"));
        tx.rollback();
        txProducer.send(tx.createTextMessage("second try"));
        tx.commit();
        assertThat(text(consumer.receive(5000))).isEqualTo("second try");
        plain.createProducer(orders).send(plain.createTextMessage("last"));
        assertThat(text(consumer.receive(5000))).isEqualTo("last");
    }

    @Test
    void aTransactedConsumerGetsARolledBackMessageAgainWithItsDeliveryCountRaisedAndACommitConsumesIt()
            throws Exception {
        start();
        Session plain = connect().createSession(false, Session.AUTO_ACKNOWLEDGE);
        plain.createProducer(plain.createQueue("jobs")).send(plain.createTextMessage("job-1"));
        Session tx = connect().createSession(true, Session.SESSION_TRANSACTED);
        MessageConsumer consumer = tx.createConsumer(tx.createQueue("jobs"));

        Message first = consumer.receive(5000);
        assertThat(text(first)).isEqualTo("job-1");
        assertThat(first.getJMSRedelivered()).isFalse();
        assertThat(first.getIntProperty("JMSXDeliveryCount")).isEqualTo(1);
        tx.rollback();

        Message again = consumer.receive(5000);
        assertThat(text(again)).isEqualTo("job-1");
        assertThat(again.getJMSRedelivered()).isTrue();
        assertThat(again.getIntProperty("JMSXDeliveryCount")).isEqualTo(2);
        assertThat(view("jobs").acknowledged()).isZero();
        tx.commit();
        await().until(() -> view("jobs").acknowledged() == 1 && view("jobs").backlog() == 0);
    }

    @Test
    void aBackEndReceivesARequestAndSendsItsReplyInOneTransaction() throws Exception {
        start();
        Session client = connect().createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer replies = client.createConsumer(client.createQueue("replies"));
        client.createProducer(client.createQueue("requests")).send(client.createTextMessage("req-1"));

        Session backEnd = connect().createSession(true, Session.SESSION_TRANSACTED);
        MessageConsumer requests = backEnd.createConsumer(backEnd.createQueue("requests"));
        MessageProducer replier = backEnd.createProducer(backEnd.createQueue("replies"));

        assertThat(text(requests.receive(5000))).isEqualTo("req-1");
        replier.send(backEnd.createTextMessage("reply to req-1, first attempt"));
        backEnd.rollback(); // the reply is never seen, the request comes back

        Message request = requests.receive(5000);
        assertThat(text(request)).isEqualTo("req-1");
        assertThat(request.getJMSRedelivered()).isTrue();
        replier.send(backEnd.createTextMessage("reply to req-1"));
        backEnd.commit();

        assertThat(text(replies.receive(5000))).isEqualTo("reply to req-1");
        await().until(() -> view("requests").acknowledged() == 1 && view("requests").backlog() == 0);
        client.createProducer(client.createQueue("replies")).send(client.createTextMessage("marker"));
        assertThat(text(replies.receive(5000))).isEqualTo("marker"); // the rolled-back reply never came
    }

    @Test
    void aTransactedConnectionThatDiesMidTransactionLeavesNoTraceAndItsMessagesComeBack() throws Exception {
        start();
        Session client = connect().createSession(false, Session.AUTO_ACKNOWLEDGE);
        client.createProducer(client.createQueue("work")).send(client.createTextMessage("w-1"));

        Session dying = connect().createSession(true, Session.SESSION_TRANSACTED);
        MessageConsumer worker = dying.createConsumer(dying.createQueue("work"));
        assertThat(text(worker.receive(5000))).isEqualTo("w-1");
        dying.createProducer(dying.createQueue("results")).send(dying.createTextMessage("half-done"));
        AmqpServer server = (AmqpServer) gw.adapter("amqp");
        await().until(() -> server.connections.size() == 2);
        server.connections.stream().filter(c -> c.transactions.count() > 0).forEach(AmqpConnection::disconnect);

        MessageConsumer again = client.createConsumer(client.createQueue("work"));
        Message back = again.receive(5000);
        assertThat(text(back)).isEqualTo("w-1");
        assertThat(back.getIntProperty("JMSXDeliveryCount")).isEqualTo(2);
        MessageConsumer results = client.createConsumer(client.createQueue("results"));
        client.createProducer(client.createQueue("results")).send(client.createTextMessage("marker"));
        assertThat(text(results.receive(5000))).isEqualTo("marker");
    }
}
