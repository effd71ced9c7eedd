package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.bridge.Remote;
import io.omnibus.core.spi.bridge.RemoteRefusedException;
import io.omnibus.core.spi.bridge.RemoteSpec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One bridge's Kafka clients. Out: an idempotent producer ({@code acks=all} unless configured), each record
 * confirmed by its send callback; an error that retrying cannot cure (authorization, an invalid topic, a record too
 * large) refuses the message, a retriable one (timeouts, a leader away) is the connection's. {@code send} runs on a
 * thread of its own, since kafka-clients blocks there while it fetches a topic's metadata. In: a consumer in the
 * bridge's group on a thread of its own, offsets committed only up to the first record not yet stored; partitions
 * paused while {@code in-flight} records wait for the store. A record the gateway could not store ends the consumer,
 * and the next one starts again from the committed offsets.
 */
final class KafkaRemote implements Remote {
    private final RemoteSpec spec;
    private final KafkaRemoteConnector.Settings settings;
    private final Origin origin;
    private final ExecutorService sender;
    private volatile KafkaProducer<byte[], byte[]> producer;
    private volatile Thread poller;
    private volatile boolean closed;
    private volatile Consumer<Throwable> lost;

    KafkaRemote(Vertx vertx, RemoteSpec spec, KafkaRemoteConnector.Settings settings) {
        this.spec = spec;
        this.settings = settings;
        this.origin = new Origin("kafka", "bridge:" + spec.bridge(), spec.url().toString());
        this.sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "omnibus-bridge-" + spec.bridge() + "-kafka");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String protocol() {
        return "kafka";
    }

    @Override
    public String remoteName(Address address) {
        String name = KafkaNames.toKafka(address);
        if (name == null) {
            throw new RemoteRefusedException("the address is longer than a Kafka topic name may be");
        }
        return name;
    }

    @Override
    public Address localAddress(String remoteName) {
        return KafkaNames.toAddress(remoteName);
    }

    /** Connected once the cluster answered a metadata request. */
    @Override
    public Future<Void> connect(Consumer<Throwable> lost) {
        this.lost = lost;
        Promise<Void> done = Promise.promise();
        sender.execute(() -> {
            Map<String, Object> config = new HashMap<>(settings.client());
            config.put("client.id", "omnibus-bridge-" + spec.bridge() + "-admin");
            config.putIfAbsent("request.timeout.ms", 10_000);
            config.putIfAbsent("default.api.timeout.ms", 10_000);
            try (Admin admin = Admin.create(config)) {
                admin.describeCluster().clusterId().get(15, TimeUnit.SECONDS);
                done.complete();
            } catch (Exception e) {
                done.fail(e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e);
            }
        });
        return done.future();
    }

    private KafkaProducer<byte[], byte[]> producer() {
        if (producer == null) {
            Map<String, Object> config = new HashMap<>(settings.client());
            config.put("client.id", "omnibus-bridge-" + spec.bridge());
            config.put("acks", settings.acks());
            config.putIfAbsent("enable.idempotence", settings.acks().equals("all"));
            config.putIfAbsent("max.in.flight.requests.per.connection", 5);
            config.putIfAbsent("linger.ms", 2);
            config.putIfAbsent("max.block.ms", 10_000);
            config.putIfAbsent("delivery.timeout.ms", 30_000);
            config.putIfAbsent("request.timeout.ms", 10_000);
            producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    @Override
    public Future<Void> send(String remoteName, Envelope envelope) {
        Promise<Void> done = Promise.promise();
        try {
            sender.execute(() -> {
                if (closed) {
                    done.fail(new java.io.IOException("bridge connection closed"));
                    return;
                }
                try {
                    producer().send(RecordTranslation.toProducerRecord(remoteName, envelope), (meta, e) -> {
                        if (e == null) {
                            done.tryComplete();
                        } else {
                            done.tryFail(failure(e));
                        }
                    });
                } catch (RuntimeException e) {
                    done.tryFail(failure(e));
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.tryFail(new java.io.IOException("bridge connection closed"));
        }
        return done.future();
    }

    private static Throwable failure(Exception e) {
        Throwable cause = e instanceof org.apache.kafka.common.KafkaException && e.getCause() instanceof Exception c
                && !(e instanceof org.apache.kafka.common.errors.ApiException) ? c : e;
        if (cause instanceof RetriableException || cause instanceof org.apache.kafka.common.errors.InterruptException) {
            return cause;
        }
        if (cause instanceof org.apache.kafka.common.errors.ApiException) {
            return new RemoteRefusedException(cause.getClass().getSimpleName() + ": " + cause.getMessage());
        }
        return cause;
    }

    @Override
    public Future<Void> receive(String source, Function<Envelope, Future<Void>> store) {
        Promise<Void> started = Promise.promise();
        Map<String, Object> config = new HashMap<>(settings.client());
        config.put("client.id", "omnibus-bridge-" + spec.bridge());
        config.put("group.id", settings.group());
        config.put("enable.auto.commit", false);
        config.put("auto.offset.reset", settings.offsetReset());
        config.put("max.poll.records", spec.inFlight());
        Thread t = new Thread(() -> poll(config, List.of(source.split(",")), store, started),
                "omnibus-bridge-" + spec.bridge() + "-poll");
        t.setDaemon(true);
        poller = t;
        t.start();
        return started.future();
    }

    /** A record handed to the store, as its outcome names it. */
    private record Handed(TopicPartition partition, long offset) {
    }

    private void poll(Map<String, Object> config, List<String> topics, Function<Envelope, Future<Void>> store,
                      Promise<Void> started) {
        ConcurrentLinkedQueue<Map.Entry<Handed, Throwable>> outcomes = new ConcurrentLinkedQueue<>();
        // per partition: offsets handed over and whether stored; committed up to the first not stored
        Map<TopicPartition, TreeMap<Long, Boolean>> open = new HashMap<>();
        int inFlight = 0;
        // stored here and in a commit Kafka has not confirmed yet: after a crash they come again, so they count
        // against in-flight too (a crash repeats fewer than twice in-flight records); commit callbacks run on this
        // thread, inside poll
        int[] unconfirmed = {0};
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(topics, new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    Map<TopicPartition, OffsetAndMetadata> commit = committable(open, partitions);
                    if (!commit.isEmpty()) {
                        consumer.commitSync(commit);
                    }
                    partitions.forEach(open::remove); // what was in flight there is the new owner's to deliver again
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                }
            });
            started.tryComplete();
            while (!closed) {
                for (Map.Entry<Handed, Throwable> o; (o = outcomes.poll()) != null; ) {
                    inFlight--;
                    if (o.getValue() != null) {
                        throw new java.io.IOException("a record of " + o.getKey().partition() + " at offset "
                                + o.getKey().offset() + " could not be stored: " + o.getValue().getMessage(), o.getValue());
                    }
                    TreeMap<Long, Boolean> offsets = open.get(o.getKey().partition());
                    if (offsets != null) { // only an offset handed over since the partition was (re)assigned
                        offsets.computeIfPresent(o.getKey().offset(), (k, v) -> true);
                    }
                }
                int before = openCount(open);
                Map<TopicPartition, OffsetAndMetadata> commit = committable(open, open.keySet());
                if (!commit.isEmpty()) {
                    int covered = before - openCount(open);
                    unconfirmed[0] += covered;
                    // a failed commit is superseded by the next one of the partition (offsets are cumulative)
                    consumer.commitAsync(commit, (offsets, error) -> unconfirmed[0] -= covered);
                }
                if (inFlight + unconfirmed[0] >= spec.inFlight()) {
                    consumer.pause(consumer.assignment());
                } else if (!consumer.paused().isEmpty()) {
                    consumer.resume(consumer.paused());
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    Handed h = new Handed(tp, r.offset());
                    open.computeIfAbsent(tp, k -> new TreeMap<>()).put(r.offset(), false);
                    inFlight++;
                    Envelope e = spec.deadLettered(RecordTranslation.toEnvelope(spec.arrival(r.topic(), this::localAddress),
                            r, origin, System.currentTimeMillis()), r.topic());
                    store.apply(e).onComplete(ar -> outcomes.add(new java.util.AbstractMap.SimpleEntry<>(h,
                            ar.succeeded() ? null : ar.cause())));
                }
            }
            Map<TopicPartition, OffsetAndMetadata> commit = committable(open, open.keySet());
            if (!commit.isEmpty()) {
                consumer.commitSync(commit);
            }
        } catch (WakeupException | org.apache.kafka.common.errors.InterruptException e) {
            // closed
        } catch (Exception e) {
            started.tryFail(e);
            Consumer<Throwable> l = lost;
            lost = null;
            if (l != null && !closed) {
                l.accept(e);
            }
        }
    }

    /** Records handed over and not yet in a commit, over all partitions. */
    private static int openCount(Map<TopicPartition, TreeMap<Long, Boolean>> open) {
        int n = 0;
        for (TreeMap<Long, Boolean> offsets : open.values()) {
            n += offsets.size();
        }
        return n;
    }

    /** Per partition, the offset after the longest stored prefix of what was handed over; that prefix is forgotten. */
    private static Map<TopicPartition, OffsetAndMetadata> committable(Map<TopicPartition, TreeMap<Long, Boolean>> open,
                                                                      Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (TopicPartition tp : partitions) {
            TreeMap<Long, Boolean> offsets = open.get(tp);
            long next = -1;
            while (offsets != null && !offsets.isEmpty() && offsets.firstEntry().getValue()) {
                next = offsets.pollFirstEntry().getKey() + 1;
            }
            if (next >= 0) {
                out.put(tp, new OffsetAndMetadata(next));
            }
        }
        return out;
    }

    @Override
    public Future<Void> close() {
        closed = true;
        lost = null;
        Promise<Void> done = Promise.promise();
        Thread t = poller;
        try {
            sender.execute(() -> {
                if (producer != null) {
                    producer.close(Duration.ofSeconds(5));
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException ignored) {
            // closed before
        }
        sender.shutdown();
        Thread closer = new Thread(() -> {
            try {
                sender.awaitTermination(10, TimeUnit.SECONDS);
                if (t != null) {
                    t.join(10_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.complete();
        }, "omnibus-bridge-" + spec.bridge() + "-close");
        closer.setDaemon(true);
        closer.start();
        return done.future();
    }
}
