package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.Logs;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Fetch: reads each partition from its fetch offset within the partition's and the request's byte limits (the
 * first message always, however large, as KIP-74 says), as uncompressed batches starting exactly at the fetch
 * offset, written only when the answer is sent ({@link Answer}). When less than min-bytes is there, the answer waits for an append to any of the partitions, up to
 * max-wait. Every requested partition is in the answer. Fetch sessions (KIP-227) are declined: the answer's
 * session id is 0, so clients send full requests.
 */
final class FetchHandler {
    /** Messages read from the store per step while filling one partition's batch. */
    private static final int READ_STEP = 500;

    private final KafkaServer server;
    private final Logs logs;

    FetchHandler(KafkaServer server) {
        this.server = server;
        this.logs = server.ctx.broker().logs();
    }

    private record Wanted(String topic, Address address, int partition, long offset, int maxBytes, boolean allowed) {
    }

    /** One partition's part of an answer: its entries become its records when the answer is sent. */
    private record Part(PartitionData data, List<Logs.Entry> entries, int bytes) {
        Part(PartitionData data) {
            this(data, List.of(), 0);
        }
    }

    /**
     * A fetch's answer whose records are written only when it is sent, by {@link ResponseWriter}, straight into
     * pooled buffers that go to the socket as they are.
     */
    static final class Answer extends FetchResponseData {
        final List<PartitionData> partitions = new ArrayList<>();
        final List<List<Logs.Entry>> entries = new ArrayList<>();
    }

    Future<FetchResponseData> fetch(KafkaConnection connection, FetchRequestData request, short version) {
        if (request.sessionId() != 0) {
            return Future.succeededFuture(new FetchResponseData().setErrorCode(Errors.FETCH_SESSION_ID_NOT_FOUND.code())
                    .setSessionId(0).setThrottleTimeMs(0));
        }
        List<Wanted> wanted = new ArrayList<>();
        for (FetchRequestData.FetchTopic t : request.topics()) {
            Address address;
            try {
                address = KafkaNames.toAddress(t.topic());
            } catch (InvalidAddressException e) {
                address = null;
            }
            for (FetchRequestData.FetchPartition p : t.partitions()) {
                wanted.add(new Wanted(t.topic(), address, p.partition(), p.fetchOffset(), Math.max(0, p.partitionMaxBytes()),
                        address != null && connection.maySubscribe(address)));
            }
        }
        long deadline = System.currentTimeMillis() + Math.max(0, request.maxWaitMs());
        return round(wanted, request, deadline);
    }

    /** Reads everything once; answers if enough came, the time is up or an error is to be told, else waits. */
    private Future<FetchResponseData> round(List<Wanted> wanted, FetchRequestData request, long deadline) {
        List<Future<Part>> reads = new ArrayList<>(wanted.size());
        int asked = request.maxBytes() <= 0 ? Integer.MAX_VALUE : request.maxBytes();
        int full = Math.min(asked, server.config.fetchMaxBytes());
        int[] budget = {full};
        List<io.omnibus.core.spi.Envelope> delivered = new ArrayList<>(); // this round's: counted if it is the answer
        return readAll(wanted, 0, full, budget, reads, delivered).compose(v -> {
            List<Part> parts = new ArrayList<>(wanted.size());
            long bytes = 0;
            boolean errors = false;
            for (Future<Part> f : reads) {
                Part p = f.result();
                parts.add(p);
                bytes += p.bytes;
                errors |= p.data.errorCode() != Errors.NONE.code();
            }
            long left = deadline - System.currentTimeMillis();
            if (bytes >= Math.max(1, request.minBytes()) || errors || left <= 0 || wanted.isEmpty()) {
                return Future.succeededFuture(answered(wanted, parts, delivered));
            }
            return awaitAny(wanted, parts, left).compose(appended -> appended
                    ? round(wanted, request, deadline)
                    : Future.succeededFuture(answered(wanted, parts, delivered)));
        });
    }

    /** The answer, with what it hands out counted for the translation losses. */
    private FetchResponseData answered(List<Wanted> wanted, List<Part> parts,
                                       List<io.omnibus.core.spi.Envelope> delivered) {
        delivered.forEach(e -> server.losses.delivered(e, "kafka"));
        return answer(wanted, parts);
    }

    /** Partitions are read one after the other so the request's byte budget is shared in order. */
    private Future<Void> readAll(List<Wanted> wanted, int i, int full, int[] budget, List<Future<Part>> out,
                                 List<io.omnibus.core.spi.Envelope> delivered) {
        if (i == wanted.size()) {
            return Future.succeededFuture();
        }
        Future<Part> f = read(wanted.get(i), budget, budget[0] == full, delivered); // nothing taken yet: KIP-74
        out.add(f);
        return f.compose(d -> readAll(wanted, i + 1, full, budget, out, delivered));
    }

    private Future<Part> read(Wanted w, int[] budget, boolean first, List<io.omnibus.core.spi.Envelope> delivered) {
        PartitionData d = new PartitionData().setPartitionIndex(w.partition).setHighWatermark(-1).setLastStableOffset(-1)
                .setLogStartOffset(-1).setRecords(MemoryRecords.EMPTY).setPreferredReadReplica(-1)
                .setAbortedTransactions(null);
        if (w.address == null) {
            return Future.succeededFuture(new Part(d.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())));
        }
        if (!w.allowed) {
            return Future.succeededFuture(new Part(d.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())));
        }
        if (w.partition < 0 || w.partition >= logs.partitionCount(w.address)) {
            return Future.succeededFuture(new Part(d.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())));
        }
        long start = logs.startOffset(w.address, w.partition);
        long end = logs.endOffset(w.address, w.partition);
        d.setHighWatermark(end).setLastStableOffset(end).setLogStartOffset(start).setErrorCode(Errors.NONE.code());
        if (w.offset < start || w.offset > end) {
            return Future.succeededFuture(new Part(d.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code())));
        }
        if (w.offset == end || budget[0] <= 0) {
            return Future.succeededFuture(new Part(d));
        }
        int limit = Math.min(w.maxBytes, budget[0]);
        List<Logs.Entry> taken = new ArrayList<>();
        int[] size = new int[1];
        return collect(w, w.offset, end, limit, first, taken, size).map(v -> {
            taken.forEach(t -> delivered.add(t.envelope()));
            budget[0] -= size[0];
            return new Part(d, taken, size[0]);
        }).recover(e -> { // this partition cannot be read now; the others are answered
            KafkaServer.LOG.warn("kafka: reading {} partition {} failed: {}", w.topic, w.partition, e.toString());
            return Future.succeededFuture(new Part(d.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code())));
        });
    }

    /** Takes entries from {@code from} until {@code limit} bytes (at least one when {@code first}). */
    private Future<Void> collect(Wanted w, long from, long end, int limit, boolean first, List<Logs.Entry> taken,
                                 int[] size) {
        return logs.read(w.address, w.partition, from, READ_STEP).compose(batch -> {
            for (Logs.Entry e : batch) {
                if (e.offset() >= end) { // appended since the high watermark was taken: the next fetch gets it
                    return Future.succeededFuture();
                }
                int s = e.envelope().estimatedSize() + 16;
                if (size[0] + s > limit && !(first && taken.isEmpty())) {
                    return Future.succeededFuture();
                }
                size[0] += s;
                taken.add(e);
            }
            if (batch.size() < READ_STEP || batch.isEmpty()) {
                return Future.succeededFuture();
            }
            long next = batch.get(batch.size() - 1).offset() + 1;
            return next >= end ? Future.succeededFuture() : collect(w, next, end, limit, first, taken, size);
        });
    }

    /**
     * Completes with true at the first append to any wanted partition past what this round saw (its high
     * watermark), with false after {@code millis}.
     */
    private Future<Boolean> awaitAny(List<Wanted> wanted, List<Part> seen, long millis) {
        Promise<Boolean> any = Promise.promise();
        Vertx vertx = server.ctx.vertx();
        long timer = vertx.setTimer(Math.max(1, millis), t -> any.tryComplete(false));
        for (int i = 0; i < wanted.size(); i++) {
            Wanted w = wanted.get(i);
            if (w.address != null && w.allowed && w.partition >= 0
                    && w.partition < logs.partitionCount(w.address)) {
                long past = Math.max(w.offset, seen.get(i).data.highWatermark());
                logs.awaitAppend(w.address, w.partition, past, Duration.ofMillis(millis)).onSuccess(appended -> {
                    if (appended && any.tryComplete(true)) {
                        vertx.cancelTimer(timer);
                    }
                });
            }
        }
        return any.future();
    }

    private static FetchResponseData answer(List<Wanted> wanted, List<Part> parts) {
        Answer response = new Answer();
        response.setThrottleTimeMs(0).setErrorCode(Errors.NONE.code()).setSessionId(0);
        FetchableTopicResponse current = null;
        for (int i = 0; i < wanted.size(); i++) {
            Wanted w = wanted.get(i);
            if (current == null || !current.topic().equals(w.topic)) {
                current = new FetchableTopicResponse().setTopic(w.topic);
                response.responses().add(current);
            }
            Part p = parts.get(i);
            current.partitions().add(p.data);
            if (!p.entries.isEmpty()) {
                response.partitions.add(p.data);
                response.entries.add(p.entries);
            }
        }
        return response;
    }
}
