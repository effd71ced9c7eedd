package io.omnibus.oms;

import io.openmessaging.api.Admin;

import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Start and shutdown of a producer or consumer: started once, shut down once, the client instance told of both.
 * Credentials are kept but not used: the gateway refuses RocketMQ clients while it has users (docs/openmessaging.md).
 */
abstract class Lifecycle implements Admin {
    private static final int NEW = 0;
    private static final int STARTED = 1;
    private static final int CLOSED = 2;

    protected final ClientInstance instance;
    private final String name;
    private final AtomicInteger state = new AtomicInteger(NEW);
    protected volatile Properties credentials = new Properties();

    Lifecycle(ClientInstance instance, String name) {
        this.instance = instance;
        this.name = name;
    }

    protected abstract void onStart();

    protected abstract void onShutdown();

    @Override
    public final void start() {
        if (!state.compareAndSet(NEW, STARTED)) {
            if (state.get() == CLOSED) {
                throw Errors.notStarted(name);
            }
            return;
        }
        instance.started();
        try {
            onStart();
        } catch (RuntimeException e) {
            state.set(CLOSED);
            instance.stopped();
            throw e;
        }
    }

    @Override
    public final void shutdown() {
        if (state.compareAndSet(STARTED, CLOSED)) {
            try {
                onShutdown();
            } finally {
                instance.stopped();
            }
        } else {
            state.set(CLOSED);
        }
    }

    @Override
    public final boolean isStarted() {
        return state.get() == STARTED;
    }

    @Override
    public final boolean isClosed() {
        return state.get() == CLOSED;
    }

    @Override
    public void updateCredential(Properties credentialProperties) {
        Properties copy = new Properties();
        copy.putAll(credentialProperties);
        credentials = copy;
    }

    protected final void checkStarted() {
        if (!isStarted()) {
            throw Errors.notStarted(name);
        }
    }
}
