package sample;

import io.omnibus.oms.OmsUrl;
import io.openmessaging.api.Message;
import io.openmessaging.api.MessagingAccessPoint;
import io.openmessaging.api.Producer;
import io.openmessaging.api.SendResult;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.qpid.jms.JmsConnectionFactory;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An order-processing flow across three protocols, through one gateway:
 * <ol>
 *   <li>the <b>shop</b> produces orders with the vendor-neutral OpenMessaging API (the omnibus driver), topic
 *       {@code orders} in the namespace {@code shop}: the gateway's address {@code shop/orders};</li>
 *   <li>the <b>fulfilment service</b> takes them from the AMQP 1.0 queue {@code shop/orders} (Qpid JMS): each order
 *       once, shared by however many instances run;</li>
 *   <li><b>analytics</b> reads the same orders from the Kafka topic {@code shop.orders} (kafka-clients), from the
 *       beginning, with the order id as the record key.</li>
 * </ol>
 * Run it with {@code docs/samples/order-processing/run.sh}, which starts a gateway of its own.
 */
public final class OrderProcessing {
    private OrderProcessing() {
    }

    public static void main(String[] args) throws Exception {
        String oms = "127.0.0.1:9876";
        String amqp = "127.0.0.1:5672";
        String kafka = "127.0.0.1:9092";
        int orders = 10;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--oms" -> oms = args[i + 1];
                case "--amqp" -> amqp = args[i + 1];
                case "--kafka" -> kafka = args[i + 1];
                case "--orders" -> orders = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        System.exit(run(oms, amqp, kafka, orders, System.out) ? 0 : 1);
    }

    /** The whole flow; true when both services got every order. */
    public static boolean run(String oms, String amqp, String kafka, int orders, PrintStream out) throws Exception {
        // the fulfilment service is listening before the shop opens
        List<String> fulfilled = new CopyOnWriteArrayList<>();
        Connection jms = new JmsConnectionFactory("amqp://" + amqp).createConnection();
        try {
            jms.start();
            Session session = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer fulfilment = session.createConsumer(session.createQueue("shop/orders"));
            fulfilment.setMessageListener(m -> {
                try {
                    String order = new String(m.getBody(byte[].class), StandardCharsets.UTF_8);
                    fulfilled.add(order);
                    out.println("fulfilment: packing " + order + " (order " + m.getStringProperty("JMSXGroupID") + ")");
                } catch (jakarta.jms.JMSException e) {
                    throw new IllegalStateException(e);
                }
            });

            // the shop
            MessagingAccessPoint accessPoint = OmsUrl.accessPoint("oms:omnibus://" + oms + "/shop");
            Producer shop = accessPoint.createProducer(new Properties());
            shop.start();
            try {
                for (int i = 1; i <= orders; i++) {
                    String body = "{\"order\":" + i + ",\"item\":\"book-" + (i % 3) + "\",\"total\":" + (10 * i) + "}";
                    Message order = new Message("orders", "created", "order-" + i, body.getBytes(StandardCharsets.UTF_8));
                    order.putUserProperties("channel", i % 2 == 0 ? "web" : "store");
                    SendResult sent = shop.send(order);
                    out.println("shop: order-" + i + " sent as " + sent.getMessageId());
                }
            } finally {
                shop.shutdown();
            }

            // analytics catches up from the beginning of the topic
            List<ConsumerRecord<String, String>> analysed = new ArrayList<>();
            Properties p = new Properties();
            p.put("bootstrap.servers", kafka);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "analytics");
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            try (KafkaConsumer<String, String> analytics = new KafkaConsumer<>(p)) {
                analytics.subscribe(List.of("shop.orders"));
                long deadline = System.currentTimeMillis() + 60_000;
                while ((analysed.size() < orders || fulfilled.size() < orders) && System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<String, String> r : analytics.poll(Duration.ofMillis(200))) {
                        analysed.add(r);
                        out.println("analytics: " + r.key() + " -> " + r.value());
                    }
                }
                analytics.commitSync();
            }
            long revenue = analysed.stream().mapToLong(r -> Long.parseLong(r.value().replaceAll(".*\"total\":(\\d+).*", "$1")))
                    .sum();
            out.println("summary: " + fulfilled.size() + " of " + orders + " orders fulfilled over AMQP, " + analysed.size()
                    + " analysed over Kafka, revenue " + revenue);
            return fulfilled.size() == orders && analysed.size() == orders;
        } finally {
            jms.close();
        }
    }
}
