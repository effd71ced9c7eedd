package sample.orders;

import org.springframework.messaging.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** What this instance's order listener received, in order: the sample prints it, its tests read it. */
public final class OrderBook {
    /** One received order with the headers the listener saw. */
    public record Received(Order order, String customer, Object partition) {
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();

    void add(Message<Order> message) {
        Object partition = message.getHeaders().get("kafka_receivedPartitionId");
        if (partition == null) {
            partition = message.getHeaders().get("ROCKET_MQ_QUEUE_ID");
        }
        received.add(new Received(message.getPayload(), (String) message.getHeaders().get(OrderDesk.CUSTOMER),
                partition));
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    public List<String> ids() {
        List<String> ids = new ArrayList<>();
        for (Received r : received) {
            ids.add(r.order().id());
        }
        return ids;
    }
}
