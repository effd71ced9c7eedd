package io.omnibus.amqp;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.message.Message;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** For the translation benchmark: the AMQP adapter's own translation, on a reference AMQP 1.0 message. */
public final class BenchAccess {
    private static final Origin ORIGIN = new Origin("amqp", "bench", "b-1");
    private static final byte[] PAYLOAD = "{\"temp\":21.5,\"unit\":\"C\"}".getBytes(StandardCharsets.UTF_8);

    private BenchAccess() {
    }

    /** A Data-section message with a content type, a correlation id, reply-to, a group id and two properties. */
    public static Envelope in(Address address) {
        Message m = Proton.message();
        Properties p = new Properties();
        p.setContentType(Symbol.valueOf("application/json"));
        p.setCorrelationId(new Binary(new byte[] {1, 2, 3, 4}));
        p.setReplyTo("replies/dev-1");
        p.setGroupId("dev-1");
        p.setTo(address.name());
        m.setProperties(p);
        m.setApplicationProperties(new ApplicationProperties(Map.of("site", "plant-4", "firmware", "2.1.7")));
        m.setBody(new Data(new Binary(PAYLOAD)));
        m.setDurable(true);
        return AmqpTranslation.toEnvelope(m, address, false, ORIGIN, System.currentTimeMillis());
    }

    /** What an AMQP receiver gets. */
    public static Object out(Envelope e) {
        return AmqpTranslation.toMessage(e, 0, System.currentTimeMillis());
    }
}
