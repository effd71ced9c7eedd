package io.omnibus.amqp;

import io.omnibus.core.harness.TestGateway;
import io.omnibus.core.internal.SubscriptionView;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.junit.jupiter.api.AfterEach;

import java.util.ArrayList;
import java.util.List;

/** A gateway with the AMQP adapter and the Qpid JMS connections of a test, closed after it. */
abstract class QpidJmsTestBase {
    protected TestGateway gw;
    private final List<Connection> connections = new ArrayList<>();

    /** A started connection, with a client id unless null, and URI options ({@code ?jms.prefetchPolicy.all=1}). */
    protected Connection connect(String clientId, String options) throws JMSException {
        Connection c = new JmsConnectionFactory("amqp://127.0.0.1:" + gw.port("amqp") + options).createConnection();
        if (clientId != null) {
            c.setClientID(clientId);
        }
        c.start();
        connections.add(c);
        return c;
    }

    protected Connection connect(String clientId) throws JMSException {
        return connect(clientId, "");
    }

    protected SubscriptionView view(String name) {
        return gw.broker.subscriptionViews().stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
    }

    @AfterEach
    void closeConnectionsAndGateway() {
        for (Connection c : connections) {
            try {
                c.close();
            } catch (JMSException ignored) {
                // closed by the test, or dropped by the gateway
            }
        }
        if (gw != null) {
            gw.close();
        }
    }
}
