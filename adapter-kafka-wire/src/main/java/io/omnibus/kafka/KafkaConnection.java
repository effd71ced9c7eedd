package io.omnibus.kafka;

import io.omnibus.core.transport.ProxyProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.omnibus.core.spi.Authorizer;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.transport.ContextConnection;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One Kafka client connection, confined to its event loop's context. Requests are handled as they arrive (a
 * producer's pipelined batches are stored in order) and answered strictly in request order; with
 * {@code max-inflight-requests} unanswered, or the socket backed up, the connection is not read.
 * A request that cannot be parsed, or that the table does not offer, closes the connection (logged); an
 * ApiVersions request of an unknown version is answered in version 0 with UNSUPPORTED_VERSION, as Kafka does.
 */
final class KafkaConnection extends ContextConnection {
    private final KafkaServer server;
    final String id;
    /** Requests in arrival order; the head is answered first. */
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    private boolean counted;
    private boolean closed;
    private boolean announced;
    private volatile String clientId = ""; // volatile: info() shows it on the admin API's thread
    private volatile String user;
    private boolean authenticated;
    private final KafkaSasl sasl = new KafkaSasl(this);
    /** What this client may do: produce, fetch, see, commit, use a group (the rules, for its user). */
    final KafkaAccess access = new KafkaAccess(this);
    /** An answer after which the connection closes (a refused authentication). */
    private ApiMessage lastWord;
    Origin origin;
    /** What the store read ahead for this connection's next fetch; null when nothing (see {@link FetchHandler}). */
    FetchHandler.ReadAhead readAhead;

    /** One request: its header, and its answer once known (null: none is sent, as for acks=0). */
    private static final class Slot {
        final RequestHeader header;
        boolean done;
        ApiMessage response;
        boolean closeAfter;

        Slot(RequestHeader header) {
            this.header = header;
        }
    }

    KafkaConnection(KafkaServer server, Channel channel, ContextInternal context, String id) {
        super(channel, context);
        this.server = server;
        this.id = id;
        this.origin = new Origin("kafka", "", id);
    }

    // ---- Netty -> the connection's context ----------------------------------------------------------------

    @Override
    protected void frameTooLong() {
        if (!authenticated) {
            KafkaServer.LOG.info("kafka {} ({}): request before authentication larger than "
                    + "kafka.max-request-size-unauthenticated ({} bytes); closing", id, clientId,
                    server.config.maxUnauthenticatedRequestSize());
        } else {
            KafkaServer.LOG.info("kafka {} ({}): request larger than kafka.max-request-size ({} bytes); closing", id,
                    clientId, server.config.maxRequestSize());
        }
        server.refused("too-large");
    }

    @Override
    protected void pipelineError(Throwable cause) {
        KafkaServer.LOG.debug("kafka {}: {}", id, cause.toString());
    }

    // ---- life cycle ----------------------------------------------------------------------------------------

    @Override
    protected void start() {
        counted = true;
        if (server.connectionCount.incrementAndGet() > server.config.maxConnections()) {
            KafkaServer.LOG.info("kafka {} from {}: kafka.max-connections ({}) reached; closing", id,
                    ProxyProtocol.clientAddress(channel), server.config.maxConnections());
            channel.close();
            return;
        }
        server.connections.add(this);
        register(server.ctx.connections());
        authenticated = !server.requiresSasl();
        if (!authenticated) {
            long deadline = server.config.authenticationTimeout().toMillis();
            server.ctx.vertx().setTimer(Math.max(1, deadline), t -> {
                if (!authenticated && !closed) {
                    KafkaServer.LOG.info("kafka {} from {}: not authenticated after {} (kafka.authentication-timeout); closing",
                            id, ProxyProtocol.clientAddress(channel), server.config.authenticationTimeout());
                    closed = true;
                    channel.close();
                }
            });
        }
    }

    @Override
    public String protocol() {
        return "kafka";
    }

    @Override
    public ConnectionInfo info() {
        String client = clientId;
        return new ConnectionInfo("kafka", id, client == null || client.isEmpty() ? null : client, String.valueOf(ProxyProtocol.clientAddress(channel)),
                user, connectedAt);
    }

    @Override
    protected int inFlightCount() {
        return slots.size();
    }

    /** The client is known: requests up to kafka.max-request-size from now on. */
    private void becameAuthenticated() {
        authenticated = true;
        io.omnibus.core.transport.LengthPrefixedFrames frames = channel.pipeline().get(
                io.omnibus.core.transport.LengthPrefixedFrames.class);
        if (frames != null) {
            frames.limit(server.config.maxRequestSize());
        }
    }

    @Override
    protected void onClosed() {
        if (counted) {
            server.connectionCount.decrementAndGet();
        }
        closed = true;
        slots.clear();
        if (!registered()) {
            return; // never started
        }
        server.connections.remove(this);
        server.ctx.connections().closed(this);
        if (announced) {
            KafkaServer.LOG.info("kafka {} closed: client {} from {}", id, clientId, ProxyProtocol.clientAddress(channel));
        }
    }

    /** Gateway shutdown: answers already on their way are written, then the connection closes. */
    void shutdown() {
        context.runOnContext(v -> {
            if (!closed) {
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        });
    }

    /** An acks=0 produce failed: its producer would never know, so the connection goes (Kafka does the same). */
    void closeAfterUnansweredError(String topic, Errors error) {
        close("acks=0 produce to " + topic + " failed with " + error.name());
    }

    private void refuse(String reason, String why) {
        server.refused(reason);
        close(why);
    }

    private void close(String why) {
        if (!closed) {
            KafkaServer.LOG.info("kafka {} ({} from {}): {}; closing", id, clientId, ProxyProtocol.clientAddress(channel), why);
            closed = true;
            channel.close();
        }
    }

    // ---- requests ------------------------------------------------------------------------------------------

    @Override
    protected void onFrame(ByteBuf frame) {
        try {
            if (!closed) {
                // read in place: the request is decoded now, and what outlives this call is copied out of it (strings,
                // byte fields, and Produce's record batches, one array per partition); then the frame goes back
                onRequest(frame.nioBuffer());
            }
        } finally {
            frame.release();
        }
    }

    private void onRequest(ByteBuffer buf) {
        if (buf.remaining() < 8) {
            refuse("malformed", "truncated request header (" + buf.remaining() + " bytes)");
            return;
        }
        short key = buf.getShort(buf.position());
        short version = buf.getShort(buf.position() + 2);
        ApiKeys api = ApiKeys.hasId(key) ? ApiKeys.forId(key) : null;
        if (api == ApiKeys.API_VERSIONS && !ApiTable.supports(api, version)) {
            // KIP-511: answer in version 0 with our versions, the client retries with one we support
            Slot slot = new Slot(new RequestHeader(ApiKeys.API_VERSIONS, (short) 0, "", buf.getInt(buf.position() + 4)));
            slots.add(slot);
            finish(slot, ApiTable.apiVersions(Errors.UNSUPPORTED_VERSION), false);
            return;
        }
        if (api == null || !ApiTable.supports(api, version)) {
            refuse(api == null ? "unknown-api" : "unsupported-version",
                    api == null ? "unknown API key " + key : api.name + " version " + version + " is not supported");
            return;
        }
        RequestHeader header;
        ApiMessage request;
        try {
            header = RequestHeader.parse(buf);
            request = ApiMessageType.fromApiKey(key).newRequest();
            request.read(new ByteBufferAccessor(buf), version);
        } catch (RuntimeException e) {
            refuse("malformed", "malformed " + api.name + " v" + version + " request: " + e.getMessage());
            return;
        }
        if (!announced) {
            announced = true;
            clientId = header.clientId();
            String certified = io.omnibus.core.transport.Tls.peerIdentity(channel); // the handshake is done by now
            if (certified != null) {
                user = certified; // a verified client certificate names the user, as on Kafka's SSL listeners
                becameAuthenticated();
            }
            origin = new Origin("kafka", clientId, id);
            KafkaServer.LOG.info("kafka {} opened: client {} from {}", id, clientId, ProxyProtocol.clientAddress(channel));
        }
        if (!authenticated && api != ApiKeys.API_VERSIONS && api != ApiKeys.SASL_HANDSHAKE
                && api != ApiKeys.SASL_AUTHENTICATE) {
            refuse("unauthenticated", api.name + " before SASL authentication");
            return;
        }
        server.counted(api);
        Slot slot = new Slot(header);
        slots.add(slot);
        Future<? extends ApiMessage> answer;
        try {
            ApiMessage refusal = access.groupRefusal(api, version, request);
            answer = refusal != null ? Future.succeededFuture(refusal) : handle(api, version, request);
        } catch (RuntimeException e) {
            KafkaServer.LOG.warn("kafka {}: {} v{} failed", id, api.name, version, e);
            close(api.name + " failed: " + e);
            return;
        }
        updateAutoRead();
        answer.onComplete(ar -> {
            if (ar.failed()) {
                KafkaServer.LOG.warn("kafka {}: {} v{} failed", id, api.name, version, ar.cause());
                close(api.name + " failed: " + ar.cause());
                return;
            }
            finish(slot, ar.result(), ar.result() != null && ar.result() == lastWord);
        });
    }

    private Future<? extends ApiMessage> handle(ApiKeys api, short version, ApiMessage request) {
        return switch (api) {
            case API_VERSIONS -> Future.succeededFuture(ApiTable.apiVersions(Errors.NONE));
            case METADATA -> server.topics.metadata(this, (org.apache.kafka.common.message.MetadataRequestData) request, version);
            case PRODUCE -> server.produces.produce(this, (org.apache.kafka.common.message.ProduceRequestData) request,
                    version);
            case FETCH -> server.fetches.fetch(this, (org.apache.kafka.common.message.FetchRequestData) request, version);
            case LIST_OFFSETS -> server.topics.listOffsets(this, (org.apache.kafka.common.message.ListOffsetsRequestData) request);
            case CREATE_TOPICS -> server.topics.createTopics(this, (org.apache.kafka.common.message.CreateTopicsRequestData) request);
            case DELETE_TOPICS -> server.topics.deleteTopics(this, (org.apache.kafka.common.message.DeleteTopicsRequestData) request,
                    version);
            case DESCRIBE_CONFIGS -> server.topics.describeConfigs(this,
                    (org.apache.kafka.common.message.DescribeConfigsRequestData) request);
            case DESCRIBE_CLUSTER -> Future.succeededFuture(server.topics.describeCluster(this));
            case FIND_COORDINATOR -> Future.succeededFuture(server.topics.findCoordinator(this,
                    (org.apache.kafka.common.message.FindCoordinatorRequestData) request, version));
            case INIT_PRODUCER_ID -> server.onCoordinator(c -> c.initProducerId(
                    (org.apache.kafka.common.message.InitProducerIdRequestData) request));
            case JOIN_GROUP -> server.onCoordinator(c -> c.join((org.apache.kafka.common.message.JoinGroupRequestData) request,
                    version, clientId, String.valueOf(ProxyProtocol.clientAddress(channel))));
            case SYNC_GROUP -> server.onCoordinator(c -> c.sync((org.apache.kafka.common.message.SyncGroupRequestData) request));
            case HEARTBEAT -> server.onCoordinator(c -> c.heartbeat(
                    (org.apache.kafka.common.message.HeartbeatRequestData) request));
            case LEAVE_GROUP -> server.onCoordinator(c -> c.leave((org.apache.kafka.common.message.LeaveGroupRequestData) request,
                    version));
            case OFFSET_COMMIT -> access.commit((org.apache.kafka.common.message.OffsetCommitRequestData) request);
            case OFFSET_FETCH -> server.onCoordinator(c -> c.fetchOffsets(
                    (org.apache.kafka.common.message.OffsetFetchRequestData) request, version));
            case DESCRIBE_GROUPS -> server.onCoordinator(c -> c.describe(
                    (org.apache.kafka.common.message.DescribeGroupsRequestData) request));
            case LIST_GROUPS -> server.onCoordinator(c -> c.list(
                    (org.apache.kafka.common.message.ListGroupsRequestData) request)).map(r -> {
                        // only the groups this client may use are listed
                        r.groups().removeIf(g -> !access.allowed(Authorizer.Action.CONSUMER_GROUP, g.groupId()));
                        return r;
                    });
            case SASL_HANDSHAKE -> Future.succeededFuture(sasl.handshake((SaslHandshakeRequestData) request));
            case SASL_AUTHENTICATE -> sasl.authenticate((SaslAuthenticateRequestData) request);
            default -> throw new IllegalStateException("no handler for " + api);
        };
    }

    /** Writes every answered request at the head of the queue, in order. */
    private void finish(Slot slot, ApiMessage response, boolean closeAfter) {
        slot.done = true;
        slot.response = response;
        slot.closeAfter = closeAfter;
        if (closed) {
            return;
        }
        boolean wrote = false;
        while (!slots.isEmpty() && slots.peek().done) {
            Slot s = slots.poll();
            if (s.response != null) {
                List<ByteBuf> held = new ArrayList<>(0);
                List<Object> encoded;
                try {
                    encoded = ResponseWriter.encode(channel.alloc(), s.header, s.response, held);
                } catch (RuntimeException e) { // a field this version cannot carry: our bug, not the client's
                    ResponseWriter.release(held);
                    KafkaServer.LOG.error("kafka {}: cannot encode the {} v{} response", id, s.header.apiKey().name,
                            s.header.apiVersion(), e);
                    close("internal error encoding a response");
                    return;
                }
                for (int i = 0; i < encoded.size(); i++) {
                    Object part = encoded.get(i);
                    io.netty.channel.ChannelFuture written = channel.write(part);
                    if (part instanceof io.netty.channel.FileRegion) { // a stored batch its file could not give: the
                        written.addListener(ChannelFutureListener.CLOSE_ON_FAILURE); // frame is cut, the client retries
                    }
                    if (i == encoded.size() - 1 && !held.isEmpty()) {
                        // a fetch's records, referenced by the frame: theirs to free once the socket took them
                        written.addListener(f -> ResponseWriter.release(held));
                    }
                }
                wrote = true;
            }
            if (s.closeAfter) {
                closed = true;
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                return;
            }
        }
        if (wrote) {
            channel.flush();
        }
        updateAutoRead();
    }

    /**
     * Whether a fetch's stored batches may go from the store's files to the socket as they are ({@code sendfile}):
     * not through TLS, which must encrypt them.
     */
    boolean sendsFiles() {
        return channel.pipeline().get(io.netty.handler.ssl.SslHandler.class) == null;
    }

    @Override
    protected void updateAutoRead() {
        if (!closed) {
            channel.config().setAutoRead(channel.isWritable() && slots.size() < server.config.maxInflightRequests());
        }
    }

    /** The security protocol of this client's listener, as Kafka names it. */
    String listenerName() {
        boolean tls = io.omnibus.core.transport.Tls.secure(channel);
        return server.requiresSasl() ? tls ? "SASL_SSL" : "SASL_PLAINTEXT" : tls ? "SSL" : "PLAINTEXT";
    }

    /** The port this client is told to use: that of the listener it came in on. */
    int advertisedPort() {
        return server.advertisedPort(channel);
    }

    // ---- what the SASL exchange (KafkaSasl) needs of the connection ------------------------------------------

    KafkaServer server() {
        return server;
    }

    Channel channel() {
        return channel;
    }

    ContextInternal context() {
        return context;
    }

    String id() {
        return id;
    }

    String clientId() {
        return clientId;
    }

    /** The user the client authenticated as; null: anonymous. */
    String user() {
        return user;
    }

    /** The SASL exchange succeeded: {@code name} is the user from now on. */
    void authenticatedAs(String name) {
        server.ctx.authenticator().loginSucceeded(io.omnibus.core.spi.Authenticator.addressOf(ProxyProtocol.clientAddress(channel)));
        user = server.ctx.authenticator().knowsUsers() ? name : null; // no users: anybody, as anonymous
        becameAuthenticated();
    }

    /** {@code response} is the last one: the connection closes once it is written. */
    void lastWord(ApiMessage response) {
        lastWord = response;
    }
}
