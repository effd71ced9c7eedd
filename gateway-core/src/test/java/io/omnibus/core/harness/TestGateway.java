package io.omnibus.core.harness;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.omnibus.core.config.BrokerConfig;
import io.omnibus.core.config.StaticUsers;
import io.omnibus.core.internal.BrokerMetrics;
import io.omnibus.core.internal.ConnectionRegistry;
import io.omnibus.core.internal.DefaultBroker;
import io.omnibus.core.spi.AdapterContext;
import io.omnibus.core.spi.Authenticator;
import io.omnibus.core.spi.ConfigSection;
import io.omnibus.core.spi.ProtocolAdapter;
import io.omnibus.core.spi.ProtocolAdapterFactory;
import io.omnibus.core.store.MemoryMessageStore;
import io.omnibus.core.store.MessageStore;
import io.omnibus.core.store.file.FileMessageStore;
import io.omnibus.core.store.file.FileStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The broker and protocol adapters in this JVM, on 127.0.0.1 and ephemeral ports, for adapter tests with real
 * clients. Memory store unless a data directory is given.
 */
public final class TestGateway implements AutoCloseable {
    public final Vertx vertx;
    public final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    public final ConnectionRegistry connections = new ConnectionRegistry(meters);
    public final DefaultBroker broker;
    private final Map<String, ProtocolAdapter> adapters = new LinkedHashMap<>();

    private TestGateway(Builder b) {
        vertx = b.nativeTransport ? Vertx.vertx(new io.vertx.core.VertxOptions().setPreferNativeTransport(true))
                : Vertx.vertx();
        MessageStore store = b.dataDir == null ? new MemoryMessageStore(100_000, 64L << 20)
                : new FileMessageStore(FileStoreOptions.defaults(b.dataDir));
        broker = await(DefaultBroker.start(vertx, store, BrokerConfig.read(new ConfigSection("", b.brokerConfig)),
                new BrokerMetrics(meters)));
        StaticUsers users = b.users == null ? null
                : StaticUsers.read(new ConfigSection("", Map.of("users", b.users)).sections("users"), b.allowAnonymous);
        Authenticator auth = users == null ? Authenticator.ALLOW_ALL : users;
        io.omnibus.core.spi.Authorizer rules = b.acl == null ? io.omnibus.core.spi.Authorizer.ALLOW_ALL
                : io.omnibus.core.config.AccessRules.read(new ConfigSection("", Map.of("acl", b.acl)),
                users == null ? StaticUsers.read(List.of(), true) : users);
        AdapterContext context = AdapterContext.of(vertx, broker, connections, meters, auth, rules);
        for (Map.Entry<ProtocolAdapterFactory<?>, Map<String, Object>> e : b.adapters.entrySet()) {
            ProtocolAdapter adapter = create(e.getKey(), context, e.getValue());
            await(adapter.start());
            adapters.put(e.getKey().protocol(), adapter);
        }
    }

    private static <C> ProtocolAdapter create(ProtocolAdapterFactory<C> f, AdapterContext context, Map<String, Object> cfg) {
        Map<String, Object> values = new HashMap<>(cfg);
        values.putIfAbsent("port", 0);
        values.putIfAbsent("host", "127.0.0.1");
        return f.create(context, f.configure(new ConfigSection(f.protocol(), values)));
    }

    public static Builder builder() {
        return new Builder();
    }

    public ProtocolAdapter adapter(String protocol) {
        return adapters.get(protocol);
    }

    /** The port the protocol's adapter listens on. */
    public int port(String protocol) {
        return (Integer) adapters.get(protocol).status().get("port");
    }

    /** The TLS port the protocol's adapter listens on. */
    public int tlsPort(String protocol) {
        return (Integer) adapters.get(protocol).status().get("tls-port");
    }

    public static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("future failed: " + e, e);
        }
    }

    /**
     * What {@code kill -9} leaves: the file store stops at once (no flush, no checkpoint, nothing written after), then
     * the sockets close. A new gateway on the same directory recovers from it.
     */
    public void crash() throws Exception {
        if (broker.store() instanceof FileMessageStore file) {
            file.crashForTests();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        List<ProtocolAdapter> running = new ArrayList<>(adapters.values());
        java.util.Collections.reverse(running);
        running.forEach(a -> await(a.stop()));
        await(broker.close());
        await(vertx.close());
    }

    public static final class Builder {
        private Path dataDir;
        private Map<String, Object> brokerConfig = Map.of();
        private List<Object> users;
        private boolean allowAnonymous;
        private List<Object> acl;
        private boolean nativeTransport;
        private final Map<ProtocolAdapterFactory<?>, Map<String, Object>> adapters = new LinkedHashMap<>();

        /** A file store in {@code dir} (null: the memory store). */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** The whole configuration minus adapters: {@code broker}, {@code addresses}, {@code subscriptions}. */
        public Builder brokerConfig(Map<String, Object> config) {
            this.brokerConfig = config;
            return this;
        }

        /** The {@code users} list: maps with {@code username} and {@code password-hash}. */
        public Builder users(List<Object> users) {
            this.users = users;
            return this;
        }

        /** With users: whether clients without a username are let in too ({@code allow-anonymous}). */
        public Builder allowAnonymous(boolean allow) {
            this.allowAnonymous = allow;
            return this;
        }

        /** The {@code acl} list of access rules. */
        public Builder acl(List<Object> acl) {
            this.acl = acl;
            return this;
        }

        /**
         * Vert.x on its native transport (epoll on Linux, where the test has the native library), as the gateway runs:
         * for what only epoll channels do (parked idle sockets).
         */
        public Builder nativeTransport() {
            this.nativeTransport = true;
            return this;
        }

        public Builder adapter(ProtocolAdapterFactory<?> factory, Map<String, Object> config) {
            adapters.put(factory, config);
            return this;
        }

        public TestGateway start() {
            return new TestGateway(this);
        }
    }
}
