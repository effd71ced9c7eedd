package io.omnibus.openmessaging;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.Logs;
import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RemotingException;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.vertx.core.Future;

/**
 * The name-server half: route answers that name the gateway as the one broker of every topic, topics made on
 * demand, and where a message lives. A message's RocketMQ "physical offset" (in its offset message id, and what
 * send-back, end-transaction and view-by-id requests name) is made of a 15-bit hash of its address, its queue
 * (8 bits: at most 256 queues are offered) and its queue offset (40 bits).
 */
final class Routing {
    static final int MAX_QUEUES = 256;
    private static final long OFFSET_MASK = (1L << 40) - 1;
    private static final int PERM_READ_WRITE = 6;

    private final OpenMessagingServer server;
    private final Logs logs;

    Routing(OpenMessagingServer server) {
        this.server = server;
        this.logs = server.ctx.broker().logs();
    }

    Future<RemotingCommand> route(RemotingCommand cmd, io.netty.channel.Channel channel) {
        String topic = cmd.required("topic");
        return queues(topic, false).map(n -> {
            ObjectNode route = OpenMessagingServer.Json.MAPPER.createObjectNode();
            ArrayNode brokers = route.putArray("brokerDatas");
            ObjectNode broker = brokers.addObject();
            broker.put("cluster", server.config.clusterName());
            broker.put("brokerName", server.config.brokerName());
            broker.putObject("brokerAddrs").put("0", server.advertisedAddress(channel)); // the client's own listener
            ObjectNode queue = route.putArray("queueDatas").addObject();
            queue.put("brokerName", server.config.brokerName());
            queue.put("readQueueNums", n);
            queue.put("writeQueueNums", n);
            queue.put("perm", PERM_READ_WRITE);
            queue.put("topicSysFlag", 0);
            route.putObject("filterServerTable");
            return cmd.reply(ResponseCode.SUCCESS, null).body(OpenMessagingServer.json(route));
        });
    }

    /**
     * The queue count of a RocketMQ topic, made when it does not exist and auto-creation is on (a send also makes
     * it; a route lookup only for topics clients may read). Fails with TOPIC_NOT_EXIST otherwise.
     */
    Future<Integer> queues(String topic, boolean forSend) {
        Address address;
        try {
            address = RocketNames.toAddress(topic);
        } catch (InvalidAddressException e) {
            return Future.failedFuture(new RemotingException(ResponseCode.TOPIC_NOT_EXIST, e.getMessage()));
        }
        return queues(address, topic, forSend);
    }

    Future<Integer> queues(Address address, String topic, boolean forSend) {
        if (forSend ? !RocketNames.writable(address) : !RocketNames.readable(address)) {
            return Future.failedFuture(new RemotingException(ResponseCode.NO_PERMISSION, "the topic " + topic
                    + " is the gateway's own (" + address + ")"));
        }
        int n = logs.partitionCount(address);
        if (n > 0) {
            return Future.succeededFuture(Math.min(n, MAX_QUEUES));
        }
        boolean creatable = RocketNames.writable(address); // retry topics too, not dead letters
        if (!server.config.autoCreateTopics() || !creatable) {
            return Future.failedFuture(new RemotingException(ResponseCode.TOPIC_NOT_EXIST,
                    "No topic route info in name server for the topic: " + topic));
        }
        int count = RocketNames.isRetry(address) ? 1 : server.config.queues();
        return logs.partitions(address, count, true).map(c -> Math.min(c, MAX_QUEUES));
    }

    static long physical(Address address, int queue, long offset) {
        return (long) hash(address) << 48 | (long) queue << 40 | offset & OFFSET_MASK;
    }

    static int queueOf(long physical) {
        return (int) (physical >>> 40 & 0xff);
    }

    static long offsetOf(long physical) {
        return physical & OFFSET_MASK;
    }

    /** A message found by its physical offset, and the address it is in. */
    record Located(Address address, Logs.Entry entry) {
    }

    /**
     * The message a physical offset points at: looked for in the likely addresses first, then in every topic whose
     * hash matches (15 bits: several may), each read until one holds that offset. Completes with null when none does.
     */
    Future<Located> find(long physical, Address... likely) {
        int h = (int) (physical >>> 48 & 0x7fff);
        java.util.LinkedHashSet<Address> candidates = new java.util.LinkedHashSet<>();
        for (Address a : likely) {
            if (a != null && hash(a) == h && logs.partitionCount(a) > 0) {
                candidates.add(a);
            }
        }
        for (Address a : logs.topics().keySet()) {
            if (hash(a) == h) {
                candidates.add(a);
            }
        }
        return find(new java.util.ArrayDeque<>(candidates), queueOf(physical), offsetOf(physical));
    }

    private Future<Located> find(java.util.Deque<Address> candidates, int queue, long offset) {
        Address a = candidates.poll();
        if (a == null) {
            return Future.succeededFuture(null);
        }
        if (queue >= logs.partitionCount(a)) {
            return find(candidates, queue, offset);
        }
        return logs.read(a, queue, offset, 1).compose(entries -> !entries.isEmpty() && entries.get(0).offset() == offset
                ? Future.succeededFuture(new Located(a, entries.get(0))) : find(candidates, queue, offset));
    }

    /** Whether a physical offset can point into {@code address} (its hash matches). */
    static boolean within(Address address, long physical) {
        return hash(address) == (int) (physical >>> 48 & 0x7fff);
    }

    private static int hash(Address a) {
        return a.name().hashCode() & 0x7fff;
    }
}
