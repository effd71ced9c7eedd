package io.omnibus.core.config;

import io.omnibus.core.spi.ConfigSection;

/**
 * One entry of {@code subscriptions:}: delivery keys for the subscriptions whose name is
 * {@code name}, or starts with it when it ends in {@code *}.
 */
public record SubscriptionRule(String name, PolicyRule delivery) {

    public static SubscriptionRule read(ConfigSection s) {
        s.requireOnly(PolicyRule.with(PolicyRule.KEYS, "name"));
        return new SubscriptionRule(s.requireString("name"), PolicyRule.read(s));
    }

    public boolean matches(String subscription) {
        if (name.endsWith("*")) {
            return subscription.startsWith(name.substring(0, name.length() - 1));
        }
        return name.equals(subscription);
    }
}
