package io.omnibus.openmessaging;

import io.omnibus.core.transport.ProxyProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.ConnectionInfo;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.transport.ContextConnection;
import io.omnibus.openmessaging.remoting.RemotingCodec;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RemotingException;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;

import java.nio.ByteBuffer;

/**
 * One RocketMQ client connection, confined to its event loop's context. Requests are handled as they arrive and
 * answered as they finish (the opaque pairs answers with requests, so a held pull does not delay a send); oneway
 * requests are never answered. With {@code max-inflight-requests} unanswered, or the socket backed up, the
 * connection is not read. A frame that is not a remoting command closes the connection (logged); a request that
 * fails gets an error response with a code and a remark.
 */
final class RemotingConnection extends ContextConnection {
    private final OpenMessagingServer server;
    final String id;
    private boolean counted;
    private boolean closed;
    private int inflight;
    /** Pulls waiting for messages: not in-flight requests (a push consumer keeps one per queue), bounded apart. */
    private int heldPulls;
    private volatile String clientId; // volatile: info() shows it on the admin API's thread
    /** Who asks in the request being handled: the certificate's user, or the request's signer; null: anonymous. */
    private String user;
    /** The identity of a verified TLS client certificate, read at the first request; null: none. */
    private String certified;
    private boolean identified;
    private boolean signed;
    Origin origin;
    /** Its plain sends, gathered into runs per queue; made at its first send. */
    private SendRuns sends;

    RemotingConnection(OpenMessagingServer server, Channel channel, ContextInternal context, String id) {
        super(channel, context);
        this.server = server;
        this.id = id;
        this.origin = new Origin("openmessaging", "", id);
    }

    // ---- Netty -> the connection's context ----------------------------------------------------------------

    @Override
    protected void frameTooLong() {
        OpenMessagingServer.LOG.info("openmessaging {} ({}): frame larger than openmessaging.max-frame-size ({} bytes); "
                + "closing", id, clientId, server.config.maxFrameSize());
        server.refused("too-large");
    }

    @Override
    protected void pipelineError(Throwable cause) {
        OpenMessagingServer.LOG.debug("openmessaging {}: {}", id, cause.toString());
    }

    // ---- life cycle ----------------------------------------------------------------------------------------

    @Override
    protected void start() {
        counted = true;
        if (server.connectionCount.incrementAndGet() > server.config.maxConnections()) {
            OpenMessagingServer.LOG.info("openmessaging {} from {}: openmessaging.max-connections ({}) reached; closing",
                    id, ProxyProtocol.clientAddress(channel), server.config.maxConnections());
            channel.close();
            return;
        }
        server.connections.add(this);
        register(server.ctx.connections());
    }

    @Override
    public String protocol() {
        return "openmessaging";
    }

    @Override
    public ConnectionInfo info() {
        return new ConnectionInfo("openmessaging", id, clientId, String.valueOf(ProxyProtocol.clientAddress(channel)), null, connectedAt);
    }

    @Override
    protected int inFlightCount() {
        return inflight;
    }

    @Override
    protected void onClosed() {
        if (counted) {
            server.connectionCount.decrementAndGet();
        }
        closed = true;
        if (!registered()) {
            return;
        }
        server.connections.remove(this);
        server.clients.disconnected(this, clientId);
        server.ctx.connections().closed(this);
        if (clientId != null) {
            OpenMessagingServer.LOG.info("openmessaging {} closed: client {} from {}", id, clientId, ProxyProtocol.clientAddress(channel));
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

    /** From any thread. */
    boolean isOpen() {
        return channel.isActive();
    }

    /** The client id a heartbeat named (RocketMQ's {@code ip@instance}). */
    void identified(String clientId) {
        if (this.clientId == null || !this.clientId.equals(clientId)) {
            boolean first = this.clientId == null;
            this.clientId = clientId;
            origin = new Origin("openmessaging", clientId, id);
            if (first) {
                OpenMessagingServer.LOG.info("openmessaging {} opened: client {} from {}", id, clientId, ProxyProtocol.clientAddress(channel));
            }
        }
    }

    SendRuns sends() {
        if (sends == null) {
            sends = new SendRuns(server.ctx.broker().logs(), context);
        }
        return sends;
    }

    String remoteAddress() {
        return String.valueOf(ProxyProtocol.clientAddress(channel));
    }

    /** Sends a request of the gateway's own (a check-back, a membership notice), oneway; from any thread. */
    void sendOneway(RemotingCommand request) {
        request.oneway();
        channel.writeAndFlush(Unpooled.wrappedBuffer(RemotingCodec.encodeParts(request)), channel.voidPromise());
    }

    // ---- requests ------------------------------------------------------------------------------------------

    @Override
    protected void onFrame(ByteBuf frame) {
        RemotingCommand cmd;
        try {
            if (closed) {
                return;
            }
            // one copy out of the socket buffer: bodies (payloads) are views of it from here on, and the store
            // and other protocols' consumers share them without further copies
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            cmd = RemotingCodec.decode(ByteBuffer.wrap(bytes));
        } catch (RemotingCodec.MalformedFrameException e) {
            server.refused("malformed");
            close("malformed frame: " + e.getMessage());
            return;
        } finally {
            frame.release();
        }
        if (cmd.isResponse()) {
            return; // check-backs and notices are oneway: nothing is expected back
        }
        server.counted(cmd.code());
        if (sends != null && cmd.code() != RequestCode.SEND_MESSAGE && cmd.code() != RequestCode.SEND_MESSAGE_V2) {
            sends.flush(); // the sends before it are stored first
        }
        Future<RemotingCommand> answer;
        try {
            if (!identified) {
                identified = true;
                certified = io.omnibus.core.transport.Tls.peerIdentity(channel); // the TLS handshake is done by now
            }
            // a certificate names the connection's user; otherwise each request is signed, and its signer is who asks
            user = certified;
            String signer = cmd.field(ACCESS_KEY);
            String denied = null;
            long delay = 0;
            if (signer != null && certified == null) {
                denied = signatureProblem(cmd, signer);
                if (denied != null) { // a bad signature is a failed login: answered later and later from one address
                    delay = server.ctx.authenticator().loginFailed(
                            io.omnibus.core.spi.Authenticator.addressOf(ProxyProtocol.clientAddress(channel)), "openmessaging");
                }
                if (denied == null) {
                    user = signer;
                }
            } else if (user == null && server.requiresAuthentication()) {
                denied = "the gateway requires credentials: sign requests with an AccessKey and SecretKey (AclClientRPCHook) "
                        + "or connect with a TLS client certificate";
            }
            if (denied == null) {
                denied = denied(cmd);
            }
            if (denied == null) {
                answer = handle(cmd);
            } else if (delay == 0) {
                answer = Future.failedFuture(new RemotingException(ResponseCode.NO_PERMISSION, denied));
            } else {
                io.vertx.core.Promise<RemotingCommand> later = context.promise();
                String why = denied;
                server.ctx.vertx().setTimer(delay, t -> later.fail(new RemotingException(ResponseCode.NO_PERMISSION, why)));
                answer = later.future();
            }
        } catch (RuntimeException e) {
            answer = Future.failedFuture(e);
        }
        boolean counted = !isPull(cmd.code());
        if (counted) {
            inflight++;
            updateAutoRead();
        }
        answer.onComplete(ar -> {
            if (counted) {
                inflight--;
                updateAutoRead();
            }
            RemotingCommand response = ar.succeeded() ? ar.result() : error(cmd, ar.cause());
            if (!cmd.isOneway() && response != null && !closed) {
                write(response);
            }
        });
    }

    static final String ACCESS_KEY = "AccessKey";
    static final String SIGNATURE = "Signature";

    /**
     * Checks RocketMQ's ACL signature (what {@code AclClientRPCHook} adds): HMAC-SHA1 with the user's SecretKey over
     * the values of every extension field but the signature, in the order of their names, then the body. Null when
     * it matches.
     */
    private String signatureProblem(RemotingCommand cmd, String accessKey) {
        String secret = server.ctx.authenticator().accessSecret(accessKey);
        String signature = cmd.field(SIGNATURE);
        if (secret == null || signature == null) {
            return "AccessKey " + accessKey + " is unknown or has no access-secret";
        }
        java.util.TreeMap<String, String> sorted = new java.util.TreeMap<>(cmd.fields());
        sorted.remove(SIGNATURE);
        StringBuilder content = new StringBuilder();
        sorted.values().forEach(v -> content.append(v == null ? "" : v));
        byte[] expected;
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA1");
            mac.init(new javax.crypto.spec.SecretKeySpec(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8), "HmacSHA1"));
            mac.update(content.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            java.nio.ByteBuffer body = cmd.body();
            if (body != null) {
                mac.update(body.duplicate());
            }
            expected = java.util.Base64.getEncoder().encode(mac.doFinal());
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        if (!java.security.MessageDigest.isEqual(expected, signature.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            return "the signature of AccessKey " + accessKey + " does not match its SecretKey";
        }
        if (!signed) {
            signed = true;
            server.ctx.authenticator().loginSucceeded(io.omnibus.core.spi.Authenticator.addressOf(ProxyProtocol.clientAddress(channel)));
        }
        return null;
    }

    /** Why the access rules refuse {@code cmd} (answered NO_PERMISSION), or null. */
    private String denied(RemotingCommand cmd) {
        io.omnibus.core.spi.Authorizer rules = server.ctx.authorizer();
        if (!rules.enforced()) {
            return null;
        }
        return switch (cmd.code()) {
            case RequestCode.SEND_MESSAGE, RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_BATCH_MESSAGE ->
                    deniedTopic(rules, cmd.code() == RequestCode.SEND_MESSAGE ? cmd.field("topic") : cmd.field("b"),
                            io.omnibus.core.spi.Authorizer.Action.PUBLISH);
            case RequestCode.GET_MAX_OFFSET, RequestCode.GET_MIN_OFFSET, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
                 RequestCode.GET_EARLIEST_MSG_STORETIME -> deniedTopic(rules, cmd.field("topic"),
                    io.omnibus.core.spi.Authorizer.Action.SUBSCRIBE);
            case RequestCode.PULL_MESSAGE, RequestCode.LITE_PULL_MESSAGE, RequestCode.QUERY_CONSUMER_OFFSET,
                 RequestCode.UPDATE_CONSUMER_OFFSET -> {
                String group = deniedGroup(rules, cmd.field("consumerGroup"));
                yield group != null ? group : deniedTopic(rules, cmd.field("topic"),
                        io.omnibus.core.spi.Authorizer.Action.SUBSCRIBE);
            }
            case RequestCode.CONSUMER_SEND_MSG_BACK -> deniedGroup(rules, cmd.field("group"));
            default -> null;
        };
    }

    private String deniedTopic(io.omnibus.core.spi.Authorizer rules, String topic,
                               io.omnibus.core.spi.Authorizer.Action action) {
        io.omnibus.core.spi.Address address;
        try {
            address = topic == null ? null : RocketNames.toAddress(topic);
        } catch (InvalidAddressException e) {
            return null; // the handler answers it
        }
        if (address == null) {
            return null;
        }
        if (address.isSystem()) { // %RETRY%group and %DLQ%group belong to their consumer group
            int slash = address.name().lastIndexOf('/');
            return deniedGroup(rules, address.name().substring(slash + 1));
        }
        // %c is not offered: a RocketMQ client id is whatever the client says
        return rules.allows(user, null, action, address.name()) ? null
                : "not authorized to " + (action == io.omnibus.core.spi.Authorizer.Action.PUBLISH ? "send to" : "consume")
                + " topic " + topic;
    }

    private String deniedGroup(io.omnibus.core.spi.Authorizer rules, String group) {
        return group == null || rules.allows(user, null, io.omnibus.core.spi.Authorizer.Action.CONSUMER_GROUP, group)
                ? null : "not authorized to use consumer group " + group;
    }

    /**
     * Whether the asker of the request being handled may read a message found by its physical offset (a view by id,
     * a send-back): taken now, applied when the message is found. Retry and dead-letter topics go by their group.
     */
    java.util.function.Predicate<io.omnibus.core.spi.Address> mayRead() {
        io.omnibus.core.spi.Authorizer rules = server.ctx.authorizer();
        if (!rules.enforced()) {
            return a -> true;
        }
        String asker = user;
        return a -> {
            if (a.isSystem()) {
                String group = a.name().substring(a.name().lastIndexOf('/') + 1);
                return rules.allows(asker, null, io.omnibus.core.spi.Authorizer.Action.CONSUMER_GROUP, group);
            }
            return rules.allows(asker, null, io.omnibus.core.spi.Authorizer.Action.SUBSCRIBE, a.name());
        };
    }

    private Future<RemotingCommand> handle(RemotingCommand cmd) {
        return switch (cmd.code()) {
            case RequestCode.GET_ROUTEINFO_BY_TOPIC -> server.routing.route(cmd, channel);
            case RequestCode.SEND_MESSAGE, RequestCode.SEND_MESSAGE_V2 -> server.producing.send(this, cmd);
            case RequestCode.SEND_BATCH_MESSAGE -> server.producing.sendBatch(this, cmd);
            case RequestCode.END_TRANSACTION -> server.transactions.end(cmd);
            case RequestCode.CONSUMER_SEND_MSG_BACK -> server.producing.sendBack(this, cmd);
            case RequestCode.PULL_MESSAGE, RequestCode.LITE_PULL_MESSAGE -> server.consuming.pull(this, cmd);
            case RequestCode.QUERY_CONSUMER_OFFSET -> server.consuming.queryOffset(cmd);
            case RequestCode.UPDATE_CONSUMER_OFFSET -> server.consuming.updateOffset(cmd);
            case RequestCode.GET_MAX_OFFSET -> server.consuming.maxOffset(cmd);
            case RequestCode.GET_MIN_OFFSET -> server.consuming.minOffset(cmd);
            case RequestCode.SEARCH_OFFSET_BY_TIMESTAMP -> server.consuming.searchOffset(cmd);
            case RequestCode.GET_EARLIEST_MSG_STORETIME -> server.consuming.earliestTime(cmd);
            case RequestCode.VIEW_MESSAGE_BY_ID -> server.consuming.view(cmd, mayRead());
            case RequestCode.HEART_BEAT -> server.clients.heartbeat(this, cmd);
            case RequestCode.CHECK_CLIENT_CONFIG -> server.consuming.checkClientConfig(cmd);
            case RequestCode.UNREGISTER_CLIENT -> server.clients.unregister(this, cmd);
            case RequestCode.GET_CONSUMER_LIST_BY_GROUP -> server.clients.consumerList(cmd);
            case RequestCode.LOCK_BATCH_MQ -> server.clients.lock(cmd);
            case RequestCode.UNLOCK_BATCH_MQ -> server.clients.unlock(cmd);
            default -> Future.succeededFuture(cmd.reply(ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
                    " request type " + cmd.code() + " not supported"));
        };
    }

    private static boolean isPull(int code) {
        return code == RequestCode.PULL_MESSAGE || code == RequestCode.LITE_PULL_MESSAGE;
    }

    /** Takes a place for a held pull (on the connection's context); false when {@code max-held-pulls} are held. */
    boolean holdPull() {
        if (heldPulls >= server.config.maxHeldPulls()) {
            return false;
        }
        heldPulls++;
        return true;
    }

    void pullReleased() {
        heldPulls--;
    }

    private RemotingCommand error(RemotingCommand cmd, Throwable cause) {
        if (cause instanceof RemotingException r) {
            return cmd.reply(r.code(), r.getMessage());
        }
        if (cause instanceof InvalidAddressException) {
            return cmd.reply(ResponseCode.SYSTEM_ERROR, cause.getMessage());
        }
        if (cause instanceof BrokerException b) {
            int code = switch (b.reason()) {
                case UNKNOWN_ADDRESS -> ResponseCode.TOPIC_NOT_EXIST;
                case INVALID_SELECTOR -> ResponseCode.SUBSCRIPTION_PARSE_FAILED;
                case MESSAGE_TOO_LARGE -> ResponseCode.MESSAGE_ILLEGAL;
                case STORE_FAILURE, SHUTTING_DOWN -> ResponseCode.SERVICE_NOT_AVAILABLE;
                default -> ResponseCode.SYSTEM_ERROR;
            };
            return cmd.reply(code, b.getMessage());
        }
        OpenMessagingServer.LOG.warn("openmessaging {}: request {} failed", id, cmd.code(), cause);
        return cmd.reply(ResponseCode.SYSTEM_ERROR, String.valueOf(cause));
    }

    private void write(RemotingCommand response) {
        channel.writeAndFlush(Unpooled.wrappedBuffer(RemotingCodec.encodeParts(response)), channel.voidPromise());
    }

    private void close(String why) {
        if (!closed) {
            OpenMessagingServer.LOG.info("openmessaging {} ({} from {}): {}; closing", id, clientId, ProxyProtocol.clientAddress(channel), why);
            closed = true;
            channel.close();
        }
    }

    @Override
    protected void updateAutoRead() {
        boolean read = !closed && inflight < server.config.maxInflightRequests() && channel.isWritable();
        if (channel.config().isAutoRead() != read) {
            channel.config().setAutoRead(read);
        }
    }
}
