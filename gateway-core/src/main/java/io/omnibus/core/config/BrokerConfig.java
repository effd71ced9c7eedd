package io.omnibus.core.config;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.spi.TopicFilter;

import java.util.List;

/**
 * The broker's part of the configuration: limits, the default delivery policy, and the rules per
 * address and per subscription. The first {@code addresses} rule whose {@code match} covers an
 * address applies to it; the first {@code subscriptions} rule whose name matches applies to a
 * subscription; each key a rule leaves out comes from the next layer down.
 *
 * @param shards number of broker contexts that own topics and subscriptions; 0 means one per event-loop thread
 * @param maxTransactionSize the payload bytes one transaction may stage before it commits ({@code max-transaction-size})
 * @param maxStagedBytes     the payload bytes all open transactions together may stage ({@code max-staged-bytes})
 */
public record BrokerConfig(boolean autoCreateTopics, long maxMessageSize, int shards, DeliveryPolicy defaults,
                           List<AddressRule> addresses, List<SubscriptionRule> subscriptions, long maxTransactionSize,
                           long maxStagedBytes) {

    public static final BrokerConfig DEFAULT = new BrokerConfig(true, 1024 * 1024, 0, DeliveryPolicy.DEFAULT,
            List.of(new AddressRule(TopicFilter.of("$dlq/#"), null, true, null, null, PolicyRule.NONE)), List.of(),
            64L * 1024 * 1024, 512L * 1024 * 1024);

    /**
     * Reads {@code broker}, {@code addresses} and {@code subscriptions} from the root section.
     */
    public static BrokerConfig read(ConfigSection root) {
        ConfigSection b = root.section("broker");
        b.requireOnly(java.util.Set.of("auto-create-topics", "max-message-size", "shards", "defaults",
                "max-transaction-size", "max-staged-bytes"));
        ConfigSection d = b.section("defaults");
        d.requireOnly(PolicyRule.KEYS);
        DeliveryPolicy defaults = PolicyRule.read(d).over(DeliveryPolicy.DEFAULT);
        // the built-in rules come last: a user's rule for the same addresses wins
        List<AddressRule> addresses = new java.util.ArrayList<>();
        root.sections("addresses").forEach(s -> addresses.add(AddressRule.read(s)));
        addresses.addAll(DEFAULT.addresses());
        return new BrokerConfig(
                b.getBoolean("auto-create-topics", true),
                b.getSize("max-message-size", 1024 * 1024, 1, 256L * 1024 * 1024),
                b.getInt("shards", 0, 0, 1024),
                defaults,
                List.copyOf(addresses),
                root.sections("subscriptions").stream().map(SubscriptionRule::read).toList(),
                b.getSize("max-transaction-size", DEFAULT.maxTransactionSize(), 1, 1L << 40),
                b.getSize("max-staged-bytes", DEFAULT.maxStagedBytes(), 1, 1L << 40));
    }

    public AddressRule addressRule(Address address) {
        for (AddressRule r : addresses) {
            if (r.match().matches(address)) {
                return r;
            }
        }
        return null;
    }

    public int partitionsFor(Address address) {
        AddressRule r = addressRule(address);
        return r == null || r.partitions() == null ? 1 : r.partitions();
    }

    public boolean isQueue(Address address) {
        AddressRule r = addressRule(address);
        return r != null && Boolean.TRUE.equals(r.queue());
    }

    /**
     * The policy for a subscription: its own rule over the rule of the address it reads (for a
     * wildcard filter, the rule whose {@code match} is that same filter) over the defaults; a
     * policy the protocol demands ({@code requested}) wins over configuration.
     */
    public DeliveryPolicy policyFor(String subscription, TopicFilter filter, DispatchPolicy requested) {
        DeliveryPolicy policy = defaults;
        AddressRule ar = null;
        if (!filter.hasWildcard()) {
            ar = addressRule(Address.of(filter.filter()));
        } else {
            for (AddressRule r : addresses) {
                if (r.match().equals(filter)) {
                    ar = r;
                    break;
                }
            }
        }
        if (ar != null) {
            policy = ar.delivery().over(policy);
        }
        for (SubscriptionRule r : subscriptions) {
            if (r.matches(subscription)) {
                policy = r.delivery().over(policy);
                break;
            }
        }
        return requested != null ? policy.withDispatch(requested) : policy;
    }
}
