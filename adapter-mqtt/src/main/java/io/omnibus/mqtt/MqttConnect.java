package io.omnibus.mqtt;

import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttReasonCodeAndPropertiesVariableHeader;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.InvalidAddressException;
import io.vertx.core.Future;

import java.util.List;
import java.util.UUID;

import static io.omnibus.mqtt.ReasonCodes.CONTINUE_AUTHENTICATION;
import static io.omnibus.mqtt.ReasonCodes.PROTOCOL_ERROR;

/**
 * A connection's way in, from its CONNECT to its CONNACK: the client id (assigned when empty), the password checked
 * off the event loop, or MQTT 5 enhanced authentication (SCRAM, RFC 5802, in CONNECT, AUTH and CONNACK), the
 * access rules on the client id and the will, the session's limits from the CONNECT's properties, the takeover of
 * a session connected elsewhere [MQTT-3.1.4-3], the session restored or ended, and the CONNACK. Made at CONNECT and
 * let go at CONNACK: an established connection keeps only what the exchange set on it. On the connection's context.
 */
final class MqttConnect {
    private final MqttConnection c;
    /** MQTT 5 enhanced authentication under way (CONNECT, AUTH ..., CONNACK): the exchange and the CONNECT it answers. */
    private io.omnibus.core.spi.Scram.Server scram;
    private MqttConnectMessage pendingConnect;
    private boolean pendingCleanStart;
    private boolean pendingAssigned;
    /** The method and the server's last data, for the CONNACK of an enhanced authentication. */
    private String authMethod;
    private byte[] authData;
    /** When the server's first AUTH went: the exchange has until then and the authentication timeout. */
    long authStartedAt;
    /** Packets that came after CONNECT, before CONNACK (allowed): handled once the client is in. */
    java.util.List<Object> early = java.util.List.of();

    MqttConnect(MqttConnection connection) {
        this.c = connection;
    }

    /** Whether an enhanced authentication waits for the client's AUTH. */
    boolean authenticating() {
        return scram != null;
    }

    void onConnect(MqttConnectMessage m) {
        int version = m.variableHeader().version();
        c.v5 = version == MqttVersion.MQTT_5.protocolLevel();
        c.socket.version5(c.v5);
        String id = m.payload().clientIdentifier();
        boolean cleanStart = m.variableHeader().isCleanSession();
        boolean assigned = false;
        if (id == null || id.isEmpty()) {
            if (!c.v5 && !cleanStart) {
                // [MQTT-3.1.3-8] a zero-byte client id needs CleanSession=1 in 3.1.1
                c.connAckAndClose(MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED,
                        "empty client id without clean session");
                return;
            }
            id = "omnibus-" + UUID.randomUUID();
            assigned = true;
        }
        if (c.server.connections.get() > c.server.config.maxConnections()) {
            c.connAckAndClose(c.v5 ? MqttConnectReturnCode.CONNECTION_REFUSED_QUOTA_EXCEEDED
                    : MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, "max-connections reached");
            return;
        }
        c.clientId = id; // connected() from here on
        String username = m.payload().userName();
        byte[] password = m.payload().passwordInBytes();
        boolean finalAssigned = assigned;
        MqttProperties.MqttProperty<?> method = c.v5 ? m.variableHeader().properties().getProperty(
                MqttProperties.AUTHENTICATION_METHOD) : null;
        if (method != null) {
            startEnhancedAuth(m, String.valueOf(method.value()), cleanStart, finalAssigned);
            return;
        }
        String certified = username == null ? c.socket.peerIdentity() : null;
        if (certified != null || username == null && c.server.authenticator.allowsAnonymous()) {
            c.user = certified; // a verified client certificate names the user when the client gives no username
            authenticated(m, cleanStart, finalAssigned);
            return;
        }
        // hashing takes milliseconds: off the event loop
        c.server.ctx.vertx().executeBlocking(() -> c.server.authenticator.authenticate(username, password), false)
                .onComplete(ar -> {
                    if (c.closed) {
                        return;
                    }
                    if (ar.succeeded() && ar.result()) {
                        c.server.authenticator.loginSucceeded(remoteInetAddress());
                        // with no users to check against anybody is let in, as anonymous whatever name it gave
                        c.user = c.server.authenticator.knowsUsers() ? username : null;
                        authenticated(m, cleanStart, finalAssigned);
                    } else {
                        if (username == null) { // no username, no certificate, no anonymous access
                            c.connAckAndClose(c.v5 ? MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5
                                    : MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED,
                                    "anonymous clients are not allowed");
                            return;
                        }
                        refuseLogin(c.v5 ? MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USERNAME_OR_PASSWORD
                                : MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
                                "bad username or password for " + username);
                    }
                });
    }

    private java.net.InetAddress remoteInetAddress() {
        io.vertx.core.net.SocketAddress a = c.socket.remoteAddress();
        try {
            return a == null || a.hostAddress() == null ? null : java.net.InetAddress.getByName(a.hostAddress());
        } catch (java.net.UnknownHostException e) {
            return null; // an address literal never needs a lookup
        }
    }

    private void authenticated(MqttConnectMessage m, boolean cleanStart, boolean assignedId) {
        MqttProperties props = m.variableHeader().properties();
        long maxExpiry = c.server.config.maxSessionExpiry().toSeconds();
        int clientReceiveMaximum = 65_535;
        if (c.v5) {
            long requested = Integer.toUnsignedLong(Translation.intProperty(props, MqttProperties.SESSION_EXPIRY_INTERVAL, 0));
            c.sessionExpiry = Math.min(requested, maxExpiry);
            clientReceiveMaximum = Translation.intProperty(props, MqttProperties.RECEIVE_MAXIMUM, 65_535);
            if (clientReceiveMaximum == 0) {
                c.disconnect(PROTOCOL_ERROR, "Receive Maximum 0 (a protocol error in MQTT 5 §3.1.2.11.3)");
                return;
            }
            int maxPacket = Translation.intProperty(props, MqttProperties.MAXIMUM_PACKET_SIZE, 0);
            c.clientMaxPacketSize = maxPacket == 0 || maxPacket < 0 ? Integer.MAX_VALUE : maxPacket; // < 0: above 2 GiB
            c.clientTopicAliasMax = Translation.intProperty(props, MqttProperties.TOPIC_ALIAS_MAXIMUM, 0);
        } else {
            c.sessionExpiry = cleanStart ? 0 : maxExpiry;
        }
        c.persistent = c.sessionExpiry > 0;
        c.window = Math.min(clientReceiveMaximum, c.server.config.maxInflight());
        int requestedKeepAlive = m.variableHeader().keepAliveTimeSeconds();
        long maxKeepAlive = c.server.config.maxKeepAlive().toSeconds();
        if (c.v5) {
            c.keepAliveSeconds = requestedKeepAlive == 0 || requestedKeepAlive > maxKeepAlive ? (int) maxKeepAlive
                    : requestedKeepAlive;
        } else {
            c.keepAliveSeconds = requestedKeepAlive; // 3.1.1 has no Server Keep Alive to tell the client otherwise
        }
        if (c.server.ctx.authorizer().enforced()) {
            String refusal = refusal(m, assignedId);
            if (refusal != null) {
                MqttServer.LOG.info("mqtt {}: CONNECT of client {} as {} refused: {}", c.connectionId(), c.clientId, c.user, refusal);
                c.connAckAndClose(c.v5 ? MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5
                        : MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, refusal);
                return;
            }
        }
        if (m.variableHeader().isWillFlag()) {
            c.will = willOf(m);
        }

        // session takeover [MQTT-3.1.4-3]: the old connection is told and closed first
        MqttConnection previous = c.server.connected.put(c.clientId, c);
        if (previous != null && c.server.ctx.authorizer().enforced()
                && !java.util.Objects.equals(previous.user, c.user)) {
            // another user's connection got in between the check above and here: it keeps its session
            c.server.connected.replace(c.clientId, c, previous);
            c.connAckAndClose(c.v5 ? MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5
                    : MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED,
                    "client id " + c.clientId + " belongs to another user's session");
            return;
        }
        Future<Void> takenOver = previous == null ? Future.succeededFuture() : previous.takeOver();
        String id = c.clientId;
        takenOver.onComplete(x -> MqttConnection.Contexts.on(c.context, () -> {
            if (c.closed) {
                return;
            }
            c.server.cancelExpiry(id);
            c.server.cancelWill(id);
            Future<Void> ready;
            boolean sessionPresent;
            if (cleanStart) {
                sessionPresent = false;
                ready = MqttSessionState.exists(c.broker(), id) ? MqttSessionState.end(c.broker(), id) : Future.succeededFuture();
            } else {
                List<MqttSessionState.Sub> saved = MqttSessionState.load(c.broker(), id);
                sessionPresent = MqttSessionState.exists(c.broker(), id);
                saved.forEach(s -> c.subs().put(s.key(), s));
                ready = Future.succeededFuture();
                MqttServer.Qos2State q2 = c.server.qos2.remove(id);
                if (q2 == null) {
                    q2 = MqttSessionState.qos2(c.broker(), id); // kept in the record over a gateway restart
                }
                if (q2 != null) {
                    if (!q2.awaitingRelease().isEmpty()) {
                        c.inbound().resumeAwaitingRelease(q2.awaitingRelease());
                    }
                    if (!q2.pendingRelease().isEmpty()) {
                        c.outbound().resumePendingRelease(q2.pendingRelease());
                    }
                }
            }
            if (cleanStart) {
                c.server.qos2.remove(id);
            }
            c.restored = true;
            ready.compose(v -> c.persistent ? MqttSessionState.save(c.broker(), c.user, id, c.sessionExpiry, 0, c.subs)
                            : Future.<Void>succeededFuture())
                    .compose(v -> MqttSubscribing.resubscribeAll(c))
                    .onComplete(ar -> {
                        if (c.closed) {
                            return;
                        }
                        if (ar.failed()) {
                            c.connAckAndClose(c.v5 ? MqttConnectReturnCode.CONNECTION_REFUSED_UNSPECIFIED_ERROR
                                    : MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
                                    "session could not be restored: " + ar.cause().getMessage());
                            return;
                        }
                        sendConnAck(sessionPresent && c.persistent, assignedId, requestedKeepAlive);
                        c.established = true;
                        c.handshake = null; // done: what is left of it is the connection's
                        if (c.outbound != null) {
                            c.outbound.resendReleases(); // [MQTT-4.4.0-1]
                        }
                        List<Object> queued = early;
                        early = List.of();
                        queued.forEach(c::onMessage); // onMessage releases each
                        c.handledRead();
                        MqttServer.LOG.info("mqtt {} connected: client {}, MQTT {}, {} session{}, from {}",
                                c.connectionId(), c.clientId, c.v5 ? "5.0" : "3.1.1", c.persistent ? "persistent" : "clean",
                                sessionPresent ? " (resumed)" : "", c.socket.remoteAddress());
                    });
        }));
    }

    // ---- MQTT 5 enhanced authentication: SCRAM (RFC 5802) in CONNECT, AUTH and CONNACK -------------------------

    private void startEnhancedAuth(MqttConnectMessage m, String method, boolean cleanStart, boolean assigned) {
        if (!c.server.authenticator.scramMechanisms().contains(method)) {
            c.connAckAndClose(MqttConnectReturnCode.CONNECTION_REFUSED_BAD_AUTHENTICATION_METHOD,
                    "authentication method " + method + " is not offered (offered: "
                            + c.server.authenticator.scramMechanisms() + ")");
            return;
        }
        authMethod = method;
        c.enhancedAuth = true;
        scram = new io.omnibus.core.spi.Scram.Server(method, c.server.authenticator::scramCredential);
        pendingConnect = m;
        pendingCleanStart = cleanStart;
        pendingAssigned = assigned;
        try {
            byte[] serverFirst = scram.clientFirst(authDataOf(m.variableHeader().properties()));
            c.write(MqttMessageBuilders.auth().reasonCode(CONTINUE_AUTHENTICATION).properties(authProperties(serverFirst))
                    .build());
            authStartedAt = System.currentTimeMillis(); // the exchange has the CONNECT's deadline again (the sweep's)
        } catch (io.omnibus.core.spi.Scram.Failure e) {
            enhancedAuthFailed(e.getMessage());
        }
    }

    void onAuth(MqttMessage m) {
        MqttReasonCodeAndPropertiesVariableHeader h = (MqttReasonCodeAndPropertiesVariableHeader) m.variableHeader();
        MqttProperties props = h.properties();
        MqttProperties.MqttProperty<?> method = props.getProperty(MqttProperties.AUTHENTICATION_METHOD);
        if (h.reasonCode() != CONTINUE_AUTHENTICATION || method == null || !authMethod.equals(method.value())) {
            c.connAckAndClose(MqttConnectReturnCode.CONNECTION_REFUSED_PROTOCOL_ERROR,
                    "AUTH must continue the method CONNECT named [MQTT-4.12.0-5]");
            return;
        }
        try {
            authData = scram.clientFinal(authDataOf(props));
        } catch (io.omnibus.core.spi.Scram.Failure e) {
            enhancedAuthFailed(e.getMessage());
            return;
        }
        c.server.authenticator.loginSucceeded(remoteInetAddress());
        c.user = scram.user();
        scram = null; // done: an AUTH from here on is a re-authentication, refused once the client is in
        MqttConnectMessage c = pendingConnect;
        pendingConnect = null;
        authenticated(c, pendingCleanStart, pendingAssigned);
    }

    private void enhancedAuthFailed(String why) {
        scram = null; // one proof per exchange: a further AUTH waits with the other early packets, unanswered
        refuseLogin(MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USERNAME_OR_PASSWORD, authMethod + ": " + why);
    }

    /** A failed login's CONNACK: at once, or later and later after repeated failures from the client's address. */
    private void refuseLogin(MqttConnectReturnCode code, String why) {
        long delay = c.server.authenticator.loginFailed(remoteInetAddress(), "mqtt");
        Runnable refuse = () -> {
            if (!c.closed) {
                c.connAckAndClose(code, why);
            }
        };
        if (delay > 0) {
            c.server.ctx.vertx().setTimer(delay, t -> MqttConnection.Contexts.on(c.context, refuse));
        } else {
            refuse.run();
        }
    }

    private static byte[] authDataOf(MqttProperties props) {
        MqttProperties.MqttProperty<?> data = props == null ? null : props.getProperty(MqttProperties.AUTHENTICATION_DATA);
        return data == null ? new byte[0] : (byte[]) data.value();
    }

    private MqttProperties authProperties(byte[] data) {
        MqttProperties props = new MqttProperties();
        props.add(new MqttProperties.StringProperty(MqttProperties.AUTHENTICATION_METHOD, authMethod));
        props.add(new MqttProperties.BinaryProperty(MqttProperties.AUTHENTICATION_DATA, data));
        return props;
    }

    /**
     * Why the access rules refuse this CONNECT, or null: a session belongs to the user who made it, so another
     * user cannot take it over (nor its queued messages), and a will needs publish rights on its topic.
     */
    private String refusal(MqttConnectMessage m, boolean assignedId) {
        // an id the server assigned is new and unguessable: no rule needs to cover it
        if (!assignedId && !c.server.ctx.authorizer().allows(c.user, c.clientId, io.omnibus.core.spi.Authorizer.Action.CLIENT_ID,
                c.clientId)) {
            return "client id " + c.clientId + " is not one of the client-ids the rules give " + c.user;
        }
        MqttConnection live = c.server.connected.get(c.clientId);
        String owner = live != null ? (live.user == null ? "" : live.user) : MqttSessionState.owner(c.broker(), c.clientId);
        if (owner != null && !owner.equals(c.user == null ? "" : c.user)) {
            return "client id " + c.clientId + " belongs to another user's session";
        }
        if (m.variableHeader().isWillFlag() && !c.inbound().mayPublish(m.payload().willTopic())) {
            return "not authorized to publish the will to " + m.payload().willTopic();
        }
        return null;
    }

    private MqttConnection.Will willOf(MqttConnectMessage m) {
        MqttProperties wp = m.payload().willProperties();
        long delay = c.v5 ? Integer.toUnsignedLong(Translation.intProperty(wp, MqttProperties.WILL_DELAY_INTERVAL, 0)) : 0;
        try {
            return new MqttConnection.Will(Translation.toEnvelope(Address.of(m.payload().willTopic()),
                    m.payload().willMessageInBytes(), m.variableHeader().willQos(), m.variableHeader().isWillRetain(), wp,
                    c.origin(), System.currentTimeMillis()), delay);
        } catch (InvalidAddressException e) {
            MqttServer.LOG.info("mqtt {}: will topic refused: {}", c.connectionId(), e.getMessage());
            return null;
        }
    }

    private void sendConnAck(boolean sessionPresent, boolean assignedId, int requestedKeepAlive) {
        MqttProperties props = new MqttProperties();
        if (c.v5) {
            props.add(new MqttProperties.IntegerProperty(MqttProperties.RECEIVE_MAXIMUM, c.server.config.receiveMaximum()));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.MAXIMUM_PACKET_SIZE, c.server.config.maxPacketSize()));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.TOPIC_ALIAS_MAXIMUM, c.server.config.topicAliasMaximum()));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.SESSION_EXPIRY_INTERVAL, (int) c.sessionExpiry));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.RETAIN_AVAILABLE, 1));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.WILDCARD_SUBSCRIPTION_AVAILABLE, 1));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.SUBSCRIPTION_IDENTIFIER_AVAILABLE, 1));
            props.add(new MqttProperties.IntegerProperty(MqttProperties.SHARED_SUBSCRIPTION_AVAILABLE, 1));
            if (c.keepAliveSeconds != requestedKeepAlive) {
                props.add(new MqttProperties.IntegerProperty(MqttProperties.SERVER_KEEP_ALIVE, c.keepAliveSeconds));
            }
            if (assignedId) {
                props.add(new MqttProperties.StringProperty(MqttProperties.ASSIGNED_CLIENT_IDENTIFIER, c.clientId));
            }
            if (authMethod != null) { // the server-final message: the client checks the server knew its verifier
                authProperties(authData).listAll().forEach(props::add);
            }
        }
        MqttConnAckMessage ack = MqttMessageBuilders.connAck().returnCode(MqttConnectReturnCode.CONNECTION_ACCEPTED)
                .sessionPresent(sessionPresent).properties(props).build();
        c.write(ack);
    }
}
