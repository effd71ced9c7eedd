package io.omnibus.core.config;

import io.omnibus.core.spi.ConfigException;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.DispatchPolicy;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The delivery keys one configuration entry sets; keys it leaves out (null) fall through to the
 * next layer (subscription rule, then address rule, then {@code broker.defaults}).
 */
public record PolicyRule(DispatchPolicy dispatch, Integer maxDeliveries, Duration redeliveryDelay,
                         Double redeliveryMultiplier, Duration maxRedeliveryDelay, Duration ackTimeout,
                         String deadLetterAddress, Integer maxPending, Overflow overflow, Integer readAhead) {

    public static final Set<String> KEYS = Set.of("dispatch", "max-deliveries", "redelivery-delay",
            "redelivery-multiplier", "max-redelivery-delay", "ack-timeout", "dead-letter-address", "max-pending",
            "overflow", "read-ahead");

    public static final PolicyRule NONE = new PolicyRule(null, null, null, null, null, null, null, null, null, null);

    /** Reads the delivery keys of one section; other keys are the caller's to check. */
    public static PolicyRule read(ConfigSection s) {
        DispatchPolicy dispatch = null;
        if (s.has("dispatch")) {
            dispatch = DispatchPolicy.fromConfigName(
                    s.getChoice("dispatch", null, Arrays.stream(DispatchPolicy.values()).map(DispatchPolicy::configName).toList()));
        }
        Overflow overflow = null;
        if (s.has("overflow")) {
            String o = s.getChoice("overflow", null, Arrays.stream(Overflow.values()).map(Overflow::configName).toList());
            overflow = Arrays.stream(Overflow.values()).filter(v -> v.configName().equals(o)).findFirst().orElseThrow();
        }
        Double multiplier = null;
        if (s.has("redelivery-multiplier")) {
            try {
                multiplier = Double.parseDouble(s.getString("redelivery-multiplier", "1"));
            } catch (NumberFormatException e) {
                throw new ConfigException(s.keyOf("redelivery-multiplier"), "expected a number such as 2 or 1.5");
            }
            if (multiplier < 1.0 || multiplier > 100) {
                throw new ConfigException(s.keyOf("redelivery-multiplier"), "must be between 1 and 100, got " + multiplier);
            }
        }
        String dla = s.getString("dead-letter-address", null);
        if (dla != null && !dla.isEmpty()) {
            try {
                io.omnibus.core.spi.Address.of(dla.replace("{address}", "a").replace("{subscription}", "s"));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.keyOf("dead-letter-address"), e.getMessage());
            }
        }
        return new PolicyRule(dispatch,
                s.has("max-deliveries") ? s.getInt("max-deliveries", 0, 0, 1_000_000) : null,
                s.has("redelivery-delay") ? s.getDuration("redelivery-delay", null) : null,
                multiplier,
                s.has("max-redelivery-delay") ? s.getDuration("max-redelivery-delay", null) : null,
                s.has("ack-timeout") ? s.getDuration("ack-timeout", null) : null,
                dla,
                s.has("max-pending") ? s.getInt("max-pending", 0, 1, Integer.MAX_VALUE) : null,
                overflow,
                s.has("read-ahead") ? s.getInt("read-ahead", 0, 1, 1_000_000) : null);
    }

    /** This rule's keys over {@code base}. */
    public DeliveryPolicy over(DeliveryPolicy base) {
        return new DeliveryPolicy(
                dispatch != null ? dispatch : base.dispatch(),
                maxDeliveries != null ? maxDeliveries : base.maxDeliveries(),
                redeliveryDelay != null ? redeliveryDelay : base.redeliveryDelay(),
                redeliveryMultiplier != null ? redeliveryMultiplier : base.redeliveryMultiplier(),
                maxRedeliveryDelay != null ? maxRedeliveryDelay : base.maxRedeliveryDelay(),
                ackTimeout != null ? ackTimeout : base.ackTimeout(),
                deadLetterAddress != null ? deadLetterAddress : base.deadLetterAddress(),
                maxPending != null ? maxPending : base.maxPending(),
                overflow != null ? overflow : base.overflow(),
                readAhead != null ? readAhead : base.readAhead());
    }

    static Set<String> with(Set<String> keys, String... more) {
        Set<String> all = new HashSet<>(keys);
        all.addAll(Arrays.asList(more));
        return all;
    }
}
