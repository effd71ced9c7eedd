package sample.backend;

import jakarta.jms.JMSException;
import jakarta.jms.Message;
import org.springframework.jms.annotation.JmsListener;
import org.springframework.stereotype.Component;

/**
 * Every reading of every device ({@code readings/#}, a queue: instances of the back end share them). The answer
 * goes to the message's reply-to (Spring sets its correlation id from the request's). A reading the back end cannot
 * take yet ({@code retry-me}, on its first delivery) throws: the container's transaction rolls back and the gateway
 * delivers it again, with its delivery count raised.
 */
@Component
public class ReadingListener {
    @JmsListener(destination = "readings/#")
    public String onReading(Message reading) throws JMSException {
        String value = reading.getBody(String.class);
        int attempt = reading.getIntProperty("JMSXDeliveryCount");
        if (value.equals("retry-me") && attempt == 1) {
            throw new IllegalStateException("not yet: rolled back, delivered again");
        }
        return "{\"reading\":\"" + value + "\",\"attempt\":" + attempt + ",\"status\":\"stored\"}";
    }
}
