package io.omnibus.server;

import io.omnibus.core.spi.ProtocolAdapterFactory;

import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The protocol adapters on the classpath, found with {@link ServiceLoader}. */
final class Adapters {
    private Adapters() {
    }

    static Map<String, ProtocolAdapterFactory<?>> discover(ClassLoader loader) {
        Map<String, ProtocolAdapterFactory<?>> out = new TreeMap<>();
        try {
            for (ProtocolAdapterFactory<?> f : ServiceLoader.load(ProtocolAdapterFactory.class, loader)) {
                ProtocolAdapterFactory<?> previous = out.putIfAbsent(f.protocol(), f);
                if (previous != null) {
                    throw new IllegalStateException("two adapters for protocol '" + f.protocol() + "': "
                            + previous.getClass().getName() + " and " + f.getClass().getName());
                }
            }
        } catch (ServiceConfigurationError e) {
            throw new IllegalStateException("an adapter on the classpath cannot be loaded: " + e.getMessage(), e);
        }
        return out;
    }
}
