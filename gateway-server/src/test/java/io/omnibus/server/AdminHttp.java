package io.omnibus.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Calls to a running gateway's admin API, as a script would make them. */
final class AdminHttp {
    private final HttpClient http = HttpClient.newHttpClient();
    private final String base;

    AdminHttp(int port) {
        this("127.0.0.1", port);
    }

    AdminHttp(String host, int port) {
        this.base = "http://" + host + ":" + port;
    }

    /** A path segment: {@code /}, {@code $}, spaces and the rest percent-encoded. */
    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    HttpResponse<String> send(String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonArray array(String path) throws Exception {
        return new JsonArray(ok("GET", path));
    }

    JsonObject object(String method, String path) throws Exception {
        return new JsonObject(ok(method, path));
    }

    private String ok(String method, String path) throws Exception {
        HttpResponse<String> r = send(method, path);
        if (r.statusCode() != 200) {
            throw new AssertionError(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    /** The subscription whose filter is {@code filter} (null when there is none). */
    JsonObject subscriptionWithFilter(String filter) throws Exception {
        return find("/api/subscriptions", "filter", filter);
    }

    JsonObject topic(String name) throws Exception {
        return find("/api/topics", "name", name);
    }

    /** The connection of that client id (null when there is none). */
    JsonObject connection(String clientId) throws Exception {
        return find("/api/connections", "clientId", clientId);
    }

    /** The first element of the list at {@code path} whose {@code field} is {@code value}, or null. */
    private JsonObject find(String path, String field, String value) throws Exception {
        for (Object o : array(path)) {
            JsonObject element = (JsonObject) o;
            if (value.equals(element.getString(field))) {
                return element;
            }
        }
        return null;
    }
}
