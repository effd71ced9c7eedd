package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.TopicFilter;
import io.omnibus.core.store.EnvelopeCodec;
import io.omnibus.core.store.MessageStore;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last retained message of each address (MQTT's retain flag), kept in memory for new subscribers and in the
 * store's key-value state (namespace {@value #NAMESPACE}) across restarts.
 */
final class RetainedMessages {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultBroker.class);
    static final String NAMESPACE = "omnibus.retained";

    private final MessageStore store;
    private final ConcurrentHashMap<Address, Envelope> retained = new ConcurrentHashMap<>();

    RetainedMessages(MessageStore store) {
        this.store = store;
    }

    /** Keeps {@code envelope} as its address's retained message; an empty payload clears it. */
    Future<Void> retain(Envelope envelope) {
        Address address = envelope.address();
        if (envelope.payloadSize() == 0) {
            retained.remove(address);
            return store.putState(NAMESPACE, address.name(), null);
        }
        retained.put(address, envelope);
        return store.putState(NAMESPACE, address.name(), EnvelopeCodec.encode(envelope));
    }

    /** The retained messages of the addresses {@code filter} matches. */
    List<Envelope> matching(TopicFilter filter) {
        if (!filter.hasWildcard()) {
            Envelope e = retained.get(Address.of(filter.filter()));
            return e == null ? List.of() : List.of(e);
        }
        List<Envelope> out = new ArrayList<>();
        retained.forEach((a, e) -> {
            if (filter.matches(a)) {
                out.add(e);
            }
        });
        return out;
    }

    /** After a restart: what the store kept. */
    void recover() {
        store.states(NAMESPACE).forEach((address, bytes) -> {
            try {
                retained.put(Address.of(address), EnvelopeCodec.decode(bytes));
            } catch (RuntimeException e) {
                LOG.error("retained message of {} cannot be read back; dropped: {}", address, e.toString());
            }
        });
    }
}
