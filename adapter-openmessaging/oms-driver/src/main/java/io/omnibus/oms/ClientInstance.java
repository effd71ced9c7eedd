package io.omnibus.oms;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.openmessaging.api.OMSBuiltinKeys;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the producers and consumers of one access point share: the connections (to the endpoint, which is the
 * gateway's name server, and to the broker address its routes name), the routes, the heartbeats that announce the
 * groups, the requests the gateway sends (check-backs, membership notices), the timer and callback threads, and
 * the namespace, which prefixes topics and groups as an address level ({@code shop} + {@code orders} is the
 * address {@code shop/orders}).
 */
final class ClientInstance {
    static final ObjectMapper JSON = new ObjectMapper();
    /** How long a route is used before it is asked again (queues may be added). */
    private static final long ROUTE_TTL_MILLIS = 30_000;

    final String endpoint;
    final String namespace;
    final String clientId;
    final long timeoutMillis;
    /** Timeouts and periodic ticks only: never blocks (blocking work goes to {@link #work}). */
    final ScheduledExecutorService timer;
    /** Rebalances, heartbeats, offset commits: work that waits for the gateway. */
    final ExecutorService work;
    final ExecutorService callbacks;
    private final Map<String, RemotingClient> connections = new ConcurrentHashMap<>();
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    final Map<String, ProducerImpl> producers = new ConcurrentHashMap<>();
    final Map<String, PushConsumerImpl> consumers = new ConcurrentHashMap<>();
    final Map<String, PullConsumerImpl> pullConsumers = new ConcurrentHashMap<>();
    private final AtomicInteger users = new AtomicInteger();
    private volatile java.util.concurrent.ScheduledFuture<?> heartbeats;

    /** A topic's route: the broker to talk to and its queue count. */
    record Route(String brokerAddress, String brokerName, int queues, long fetchedAt) {
    }

    ClientInstance(Properties attributes) {
        String ep = attributes.getProperty(OMSBuiltinKeys.ENDPOINT);
        if (ep == null || ep.isBlank()) {
            throw Errors.badParameter("the endpoint (host:port of the gateway's RocketMQ port) is missing");
        }
        this.endpoint = ep.startsWith("oms:") ? OmsUrl.endpointOf(ep) : ep.trim();
        String ns = attributes.getProperty(OmsUrl.NAMESPACE);
        this.namespace = ns == null || ns.isBlank() ? null : ns.trim();
        this.timeoutMillis = Long.parseLong(attributes.getProperty("omnibus.requestTimeoutMillis", "10000"));
        this.clientId = host() + "@" + ManagementFactory.getRuntimeMXBean().getPid() + "@" + Messages.newId().substring(0, 8);
        java.util.concurrent.ScheduledThreadPoolExecutor t = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
                daemon("omnibus-oms-timer"));
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        this.work = Executors.newCachedThreadPool(daemon("omnibus-oms-work"));
        this.callbacks = Executors.newCachedThreadPool(daemon("omnibus-oms-callback"));
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostAddress();
        } catch (IOException e) {
            return "127.0.0.1";
        }
    }

    static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** A producer or consumer started: heartbeats run while any is. */
    synchronized void started() {
        if (users.getAndIncrement() == 0) {
            heartbeats = every(10_000, this::heartbeat);
        }
    }

    /** One shut down: with the last, heartbeats stop and the connections close. */
    synchronized void stopped() {
        if (users.decrementAndGet() == 0) {
            heartbeats.cancel(false);
            connections.values().forEach(RemotingClient::close);
            connections.clear();
        }
    }

    /** Runs {@code task} on the work threads every {@code millis}, the first time at once; never two at a time. */
    java.util.concurrent.ScheduledFuture<?> every(long millis, Runnable task) {
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean();
        return timer.scheduleWithFixedDelay(() -> {
            if (running.compareAndSet(false, true)) {
                work.execute(() -> {
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        // the next tick tries again
                    } finally {
                        running.set(false);
                    }
                });
            }
        }, 0, millis, TimeUnit.MILLISECONDS);
    }

    String wireTopic(String topic) {
        return namespace == null ? topic : namespace + "|" + topic;
    }

    String omsTopic(String wireTopic) {
        return namespace != null && wireTopic.startsWith(namespace + "|") ? wireTopic.substring(namespace.length() + 1)
                : wireTopic;
    }

    String wireGroup(String group) {
        return namespace == null ? group : namespace + "|" + group;
    }

    RemotingClient connection(String address) {
        return connections.computeIfAbsent(address, a -> new RemotingClient(a, cmd -> onRequest(a, cmd), timer));
    }

    /** A request to {@code address}; fails with the OpenMessaging exception for {@code what} on an error answer. */
    CompletableFuture<RemotingCommand> call(String address, RemotingCommand request, String what, int... okCodes) {
        return call(address, request, timeoutMillis, what, okCodes);
    }

    CompletableFuture<RemotingCommand> call(String address, RemotingCommand request, long timeout, String what,
                                            int... okCodes) {
        return connection(address).call(request, timeout).handle((answer, err) -> {
            if (err != null) {
                throw Errors.of(what, err);
            }
            if (answer.code() == ResponseCode.SUCCESS) {
                return answer;
            }
            for (int ok : okCodes) {
                if (answer.code() == ok) {
                    return answer;
                }
            }
            throw Errors.of(what, answer);
        });
    }

    /** The route of a wire topic, from the cache while it is fresh. */
    Route route(String wireTopic) {
        Route r = routes.get(wireTopic);
        if (r != null && System.currentTimeMillis() - r.fetchedAt() < ROUTE_TTL_MILLIS) {
            return r;
        }
        RemotingCommand answer = join(call(endpoint, RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, 0)
                .field("topic", wireTopic), "route of " + wireTopic), "route of " + wireTopic);
        try {
            JsonNode route = JSON.readTree(bytes(answer));
            JsonNode broker = route.path("brokerDatas").path(0);
            String address = broker.path("brokerAddrs").path("0").asText(endpoint);
            int queues = route.path("queueDatas").path(0).path("writeQueueNums").asInt(1);
            r = new Route(address, broker.path("brokerName").asText(""), Math.max(1, queues), System.currentTimeMillis());
        } catch (IOException e) {
            throw Errors.of("route of " + wireTopic, e);
        }
        routes.put(wireTopic, r);
        return r;
    }

    /** A number field of an answer; a missing or malformed one is the gateway's error, as an OpenMessaging exception. */
    static long number(RemotingCommand answer, String field) {
        try {
            return Long.parseLong(answer.field(field));
        } catch (NumberFormatException | NullPointerException e) {
            throw Errors.of("reading the answer", new IllegalStateException("the gateway's answer " + answer.code()
                    + " has no number '" + field + "'"));
        }
    }

    static byte[] bytes(RemotingCommand c) {
        if (c.body() == null) {
            return new byte[0];
        }
        byte[] b = new byte[c.body().remaining()];
        c.body().duplicate().get(b);
        return b;
    }

    /** Waits for a call, turning its failure into the OpenMessaging exception for {@code what}. */
    static <T> T join(CompletableFuture<T> f, String what) {
        try {
            return f.join();
        } catch (RuntimeException e) {
            throw Errors.of(what, e);
        }
    }

    /** Tells every broker in use which groups this client is in (and so keeps its membership alive). */
    void heartbeat() {
        ObjectNode hb = JSON.createObjectNode();
        hb.put("clientID", clientId);
        ArrayNode producerData = hb.putArray("producerDataSet");
        producers.keySet().forEach(g -> producerData.addObject().put("groupName", g));
        ArrayNode consumerData = hb.putArray("consumerDataSet");
        consumers.values().forEach(c -> c.describe(consumerData.addObject()));
        pullConsumers.values().forEach(c -> c.describe(consumerData.addObject()));
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(hb);
        } catch (IOException e) {
            return;
        }
        // to the brokers the routes name (one connection per broker, as the gateway tracks members by connection);
        // to the endpoint only before any route is known
        Set<String> brokers = new java.util.HashSet<>();
        routes.values().forEach(r -> brokers.add(r.brokerAddress()));
        if (brokers.isEmpty()) {
            brokers.add(endpoint);
        }
        for (String b : brokers) {
            RemotingClient c = connection(b);
            c.call(RemotingCommand.request(RequestCode.HEART_BEAT, 0).body(body), timeoutMillis).whenComplete((a, err) -> {
                if (err != null) {
                    c.reset(); // no answer: the connection may be half open
                }
            });
        }
    }

    /** The broker address of the group's members: the endpoint's route for the group's first topic, else the endpoint. */
    String brokerFor(String wireTopic) {
        return wireTopic == null ? endpoint : route(wireTopic).brokerAddress();
    }

    private void onRequest(String address, RemotingCommand cmd) {
        switch (cmd.code()) {
            case RequestCode.CHECK_TRANSACTION_STATE -> callbacks.execute(() -> {
                for (ProducerImpl p : producers.values()) {
                    if (p.checkBack(address, cmd)) {
                        return;
                    }
                }
            });
            case RequestCode.NOTIFY_CONSUMER_IDS_CHANGED -> { // (on the reader thread: rebalanceSoon only queues work)
                PushConsumerImpl c = consumers.get(cmd.field("consumerGroup"));
                if (c != null) {
                    c.rebalanceSoon();
                }
            }
            default -> {
                // nothing else is sent to clients by the gateway
            }
        }
    }
}
