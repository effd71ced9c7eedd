package io.omnibus.amqp;

import io.omnibus.core.spi.bridge.Remote;
import io.omnibus.core.spi.bridge.RemoteConnector;
import io.omnibus.core.spi.bridge.RemoteSpec;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.Set;

/** Bridges to AMQP 1.0 brokers ({@code amqp://}, {@code amqps://}) over vertx-proton (docs/bridges.md). */
public final class AmqpRemoteConnector implements RemoteConnector {
    @Override
    public List<String> schemes() {
        return List.of("amqp", "amqps");
    }

    @Override
    public Set<String> keys() {
        return Set.of("container-id", "capability", "settlement");
    }

    @Override
    public Remote create(Vertx vertx, RemoteSpec spec) {
        return new AmqpRemote(vertx, spec);
    }

    @Override
    public void check(RemoteSpec spec) {
        spec.section().getString("container-id", null);
        spec.section().getChoice("capability", null, List.of("queue", "topic"));
        spec.section().getChoice("settlement", "unsettled", List.of("unsettled", "settled"));
    }
}
