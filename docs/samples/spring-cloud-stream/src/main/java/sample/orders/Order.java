package sample.orders;

/**
 * An order as the order service sends it: {@code {"id":"1","orderTime":"2021-06-01T10:30:00Z"}}. The time is ISO-8601
 * text rather than an {@code Instant}: Spring Cloud Alibaba's RocketMQ binder puts its own message converter (Jackson
 * without java.time support, then fastjson) ahead of Spring Cloud Stream's for every binding, Kafka's included, and
 * fastjson writes an {@code Instant} as epoch millis.
 */
public record Order(String id, String orderTime) {
}
