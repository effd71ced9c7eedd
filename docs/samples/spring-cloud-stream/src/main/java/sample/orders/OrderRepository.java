package sample.orders;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The order service's own database, here in memory: the local transaction of a transactional send saves into it. */
public final class OrderRepository {
    private final Set<String> saved = ConcurrentHashMap.newKeySet();

    public void save(Order order) {
        saved.add(order.id());
    }

    public boolean contains(String orderId) {
        return saved.contains(orderId);
    }
}
