package io.omnibus.server;

import io.omnibus.core.store.ServingNode;
import io.omnibus.core.transport.PeerTrust;
import io.omnibus.core.transport.Tls;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.RoutingContext;

import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A standby's admin API: each {@code /api} request is passed on to the admin API of the node serving the shared
 * store (at the ports it advertises with its listeners), as it came: method, path and query, body, and the caller's
 * headers, credentials included (the serving node checks them again; the standby checked them first). Its answer
 * comes back as the serving node gave it, with {@link #SERVED_BY} naming that node. So the API answers for the whole
 * cluster on every node: the active node holds every subscription, connection and topic.
 *
 * <p>Which port: the serving node's plain HTTP port where credentials may go over it (a request without them; a
 * serving node on this machine; {@code allow-plain-without-tls}); else its HTTPS port, when both nodes have admin
 * TLS. Over HTTPS the standby checks the serving node's certificate and host name ({@link PeerTrust}: a chain to a
 * certificate the standby's own admin TLS material holds, nothing else) and shows its own admin certificate to a
 * serving node that asks for client certificates.
 *
 * <p>Not passed on (the standby answers 503 and names the serving node, as before): while no node serves or has said
 * where it listens, and a request with credentials the standby could only send across the network in clear text.
 * Under the safe default (no users), the serving node answers only its own machine: a standby on another machine then
 * gets its connection closed and answers 502.
 */
final class AdminForwarding {
    /** The response header naming the node whose admin API answered a request passed on. */
    static final String SERVED_BY = "X-Omnibus-Served-By";
    /** The serving node's admin port, among the ports it advertises ({@link ServingNode#ports()}). */
    static final String ADMIN_PORT = "admin.port";
    /** The serving node's admin HTTPS port, among the ports it advertises. */
    static final String ADMIN_TLS_PORT = "admin.tls-port";
    /** Headers of one hop (RFC 9110 §7.6.1), not passed on either way; the length is set again by the sender. */
    private static final Set<String> HOP = Set.of("connection", "keep-alive", "proxy-connection", "proxy-authenticate",
            "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length");

    private final Vertx vertx;
    private final Supplier<ServingNode> serving;
    private final boolean plainCredentials;
    /** This node's admin TLS material (null: none), for its trust in the serving node and its client certificate. */
    private final Supplier<Tls> ownTls;
    /** Made at the first request passed on (on the admin server's event loop): a node never a standby has none. */
    private volatile HttpClient client;
    private volatile HttpClient secureClient;

    AdminForwarding(Vertx vertx, Supplier<ServingNode> serving, boolean plainCredentials, Supplier<Tls> ownTls) {
        this.vertx = vertx;
        this.serving = serving;
        this.plainCredentials = plainCredentials;
        this.ownTls = ownTls;
    }

    /**
     * Passes the request on and answers it; false (nothing done) when there is no serving node's admin port to pass
     * it to.
     */
    boolean forward(RoutingContext ctx) {
        ServingNode to = serving.get();
        if (to == null) {
            return false;
        }
        int plainPort = to.ports().getOrDefault(ADMIN_PORT, -1);
        int securePort = to.ports().getOrDefault(ADMIN_TLS_PORT, -1);
        Tls own = ownTls.get();
        boolean plainAllowed = plainPort > 0 && (ctx.request().getHeader("Authorization") == null || plainCredentials
                || loopback(to.host())); // credentials never cross the network in clear text
        boolean secure = !plainAllowed && securePort > 0 && own != null;
        if (!plainAllowed && !secure) {
            return false;
        }
        int port = secure ? securePort : plainPort;
        HttpClient via;
        try {
            via = secure ? secureClient(own) : plainClient();
        } catch (java.security.GeneralSecurityException | RuntimeException e) {
            AdminApi.error(ctx, 502, "this node is a standby; it cannot make a client to pass the request on to the "
                    + "serving node " + to.nodeId() + ": " + e.getMessage());
            return true;
        }
        HttpServerRequest in = ctx.request();
        RequestOptions out = new RequestOptions().setMethod(in.method()).setHost(to.host()).setPort(port)
                .setURI(in.uri()).setIdleTimeout(30_000);
        io.vertx.core.buffer.Buffer body = ctx.body().buffer(); // read whole before the caller was checked
        via.request(out).compose(request -> {
            copy(in.headers(), request.headers());
            return request.send(body == null ? io.vertx.core.buffer.Buffer.buffer() : body);
        }).compose(response -> response.body().map(answer -> {
            ctx.response().setStatusCode(response.statusCode());
            copy(response.headers(), ctx.response().headers());
            ctx.response().putHeader(SERVED_BY, to.nodeId()).end(answer);
            return answer;
        })).onFailure(e -> {
            if (!ctx.response().ended()) {
                AdminApi.error(ctx, 502, "this node is a standby; passing the request on to the serving node "
                        + to.nodeId() + " (" + (secure ? "https://" : "http://") + to.host() + ":" + port + ") failed: "
                        + e.getMessage());
            }
        });
        return true;
    }

    private HttpClient plainClient() {
        if (client == null) {
            client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5_000));
        }
        return client;
    }

    /** HTTPS to the serving node: its certificate and host checked ({@link PeerTrust}), this node's own shown. */
    private HttpClient secureClient(Tls own) throws java.security.GeneralSecurityException {
        if (secureClient == null) {
            secureClient = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5_000).setSsl(true)
                    .setVerifyHost(true).setTrustOptions(io.vertx.core.net.TrustOptions.wrap(PeerTrust.of(own)))
                    .setKeyCertOptions(own.keyCertOptions()));
        }
        return secureClient;
    }

    private static boolean loopback(String host) {
        return host != null && (host.startsWith("127.") || host.equals("::1") || host.equals("[::1]")
                || host.equalsIgnoreCase("localhost"));
    }

    /** The headers of {@code from} but one hop's, each replacing what {@code to} had of that name. */
    private static void copy(MultiMap from, MultiMap to) {
        for (String name : from.names()) {
            if (!HOP.contains(name.toLowerCase(Locale.ROOT))) {
                to.set(name, from.getAll(name));
            }
        }
    }

    void close() {
        if (client != null) {
            client.close();
        }
        if (secureClient != null) {
            secureClient.close();
        }
    }
}
