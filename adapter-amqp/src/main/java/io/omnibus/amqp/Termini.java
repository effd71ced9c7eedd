package io.omnibus.amqp;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.TopicFilter;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;

import java.util.Map;

/** Terminus rules: capabilities, which addresses a client may use, and copies of termini for our side of an attach. */
final class Termini {
    static final Symbol TOPIC = Symbol.valueOf("topic");
    static final Symbol TEMPORARY_TOPIC = Symbol.valueOf("temporary-topic");
    static final Symbol SHARED = Symbol.valueOf("shared");
    static final Symbol GLOBAL = Symbol.valueOf("global");
    /** Qpid JMS: the kind of destination a message is sent to (0 queue, 1 topic, 2 temporary queue, 3 temporary topic). */
    static final Symbol JMS_DEST = Symbol.valueOf("x-opt-jms-dest");

    private Termini() {
    }

    static boolean has(Symbol[] capabilities, Symbol wanted) {
        if (capabilities != null) {
            for (Symbol s : capabilities) {
                if (wanted.equals(s)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Topic semantics only when asked for; no capability, {@code queue} or {@code temporary-queue} mean a queue. */
    static boolean isTopic(Symbol[] capabilities) {
        return has(capabilities, TOPIC) || has(capabilities, TEMPORARY_TOPIC);
    }

    /** Whether Qpid JMS marked a message on the anonymous link as sent to a topic. */
    static boolean jmsTopic(Map<Symbol, Object> annotations) {
        Object kind = annotations == null ? null : annotations.get(JMS_DEST);
        return kind instanceof Number n && (n.intValue() == 1 || n.intValue() == 3);
    }

    /** Why a client may not send to an address: the AMQP error condition and its description. */
    record Refusal(String condition, String description) {
    }

    /**
     * Null when a client may send to {@code name}; else {@code amqp:invalid-field} (not a canonical address) or
     * {@code amqp:unauthorized-access} (a {@code $} address of the gateway's own, other than a temporary node).
     */
    static Refusal refusedForSending(String name) {
        try {
            Address.of(name);
        } catch (InvalidAddressException e) {
            return new Refusal("amqp:invalid-field", e.getMessage());
        }
        if (name.startsWith("$") && !name.startsWith(AmqpNodes.TEMP_PREFIX)) {
            return new Refusal("amqp:unauthorized-access", "address '" + name
                    + "' belongs to the gateway: clients may not send to '$' addresses");
        }
        return null;
    }

    /** The filter of a source address, or the reason it is not one. */
    static String invalidFilter(String name) {
        try {
            TopicFilter.of(name);
            return null;
        } catch (InvalidAddressException e) {
            return e.getMessage();
        }
    }

    /** Qpid JMS (and Apache brokers'): the JMS selector and no-local filters of a source [AMQP 3.5.8, filter registry]. */
    static final Symbol SELECTOR_FILTER = Symbol.valueOf("apache.org:selector-filter:string");
    static final org.apache.qpid.proton.amqp.UnsignedLong SELECTOR_FILTER_CODE =
            org.apache.qpid.proton.amqp.UnsignedLong.valueOf(0x0000468C00000004L);
    static final Symbol NO_LOCAL_FILTER = Symbol.valueOf("apache.org:no-local-filter:list");
    static final org.apache.qpid.proton.amqp.UnsignedLong NO_LOCAL_FILTER_CODE =
            org.apache.qpid.proton.amqp.UnsignedLong.valueOf(0x0000468C00000003L);

    /**
     * The filters of a source the gateway applies: a JMS selector and no-local; {@code accepted} holds those entries
     * as the client sent them, to be echoed in our attach (a filter left out was not applied [AMQP 3.5.3]).
     */
    record Selection(String selector, boolean noLocal, Map<Symbol, Object> accepted) {
        boolean any() {
            return selector != null || noLocal;
        }
    }

    static Selection selection(Map<Symbol, Object> filters) {
        String selector = null;
        boolean noLocal = false;
        Map<Symbol, Object> accepted = new java.util.LinkedHashMap<>();
        if (filters != null) {
            for (Map.Entry<Symbol, Object> f : filters.entrySet()) {
                if (!(f.getValue() instanceof org.apache.qpid.proton.amqp.DescribedType d)) {
                    continue;
                }
                Object descriptor = d.getDescriptor();
                if ((SELECTOR_FILTER.equals(descriptor) || SELECTOR_FILTER_CODE.equals(descriptor))
                        && d.getDescribed() instanceof String text) {
                    selector = text;
                    accepted.put(f.getKey(), f.getValue());
                } else if (NO_LOCAL_FILTER.equals(descriptor) || NO_LOCAL_FILTER_CODE.equals(descriptor)) {
                    noLocal = true;
                    accepted.put(f.getKey(), f.getValue());
                }
            }
        }
        return new Selection(selector, noLocal, accepted);
    }

    /** The filter entries of a selection kept for a durable subscription (looked up later by link name). */
    static Map<Symbol, Object> filters(String selector, boolean noLocal) {
        Map<Symbol, Object> out = new java.util.LinkedHashMap<>();
        if (selector != null) {
            out.put(Symbol.valueOf("jms-selector"), new org.apache.qpid.proton.amqp.UnknownDescribedType(
                    SELECTOR_FILTER, selector));
        }
        if (noLocal) {
            out.put(Symbol.valueOf("no-local"), new org.apache.qpid.proton.amqp.UnknownDescribedType(
                    NO_LOCAL_FILTER, "NoLocalFilter{}"));
        }
        return out.isEmpty() ? null : out;
    }

    static Target copy(Target t) {
        Target c = new Target();
        c.setAddress(t.getAddress());
        c.setDurable(t.getDurable());
        c.setExpiryPolicy(t.getExpiryPolicy());
        c.setTimeout(t.getTimeout());
        c.setDynamic(t.getDynamic());
        c.setDynamicNodeProperties(t.getDynamicNodeProperties());
        c.setCapabilities(t.getCapabilities());
        return c;
    }

    static Source copy(Source s) {
        Source c = new Source();
        c.setAddress(s.getAddress());
        c.setDurable(s.getDurable());
        c.setExpiryPolicy(s.getExpiryPolicy());
        c.setTimeout(s.getTimeout());
        c.setDynamic(s.getDynamic());
        c.setDynamicNodeProperties(s.getDynamicNodeProperties());
        c.setDistributionMode(s.getDistributionMode());
        c.setDefaultOutcome(s.getDefaultOutcome());
        c.setOutcomes(s.getOutcomes());
        c.setCapabilities(s.getCapabilities());
        // filters: only those the gateway applies are echoed, by the caller [AMQP 3.5.3]
        return c;
    }
}
