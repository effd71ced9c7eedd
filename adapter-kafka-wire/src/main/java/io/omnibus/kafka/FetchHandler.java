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
 * first message always, however large, as KIP-74 says), written only when the answer is sent ({@link Answer}):
 * what a Kafka producer sent as the batch it came as, compression included (from the batch's first record, as a
 * broker does; on a connection without TLS, sent from the store's file by {@code sendfile}), anything else as
 * uncompressed batches starting exactly at the fetch offset. When less than
 * min-bytes is there, the answer waits for an append to any of the partitions, up to
 * max-wait. Every requested partition is in the answer. Fetch sessions (KIP-227) are declined: the answer's
 * session id is 0, so clients send full requests.
 *
 * <p>A consumer behind the log's end asks again as soon as it has worked through an answer, for the offset that
 * answer ended at. So when a partition's part of an answer is cut by its byte limit, the store is read from there
 * while the answer is on its way ({@link ReadAhead}), and the next fetch finds those entries read. A broker serves
 * such fetches from the page cache with sendfile; without the read-ahead, each of ours waited for its store read.
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

    /** {@code inFiles}: stored batches may be sent from the store's files (no TLS on the connection). */
    private record Wanted(String topic, Address address, int partition, long offset, int maxBytes, boolean allowed,
                          boolean inFiles) {
    }

    /**
     * One partition's part of an answer: its entries become its records when the answer is sent. {@code cut}: the
     * partition had more than its byte limit let in.
     */
    private record Part(PartitionData data, List<Logs.Entry> entries, int bytes, boolean cut) {
        Part(PartitionData data) {
            this(data, List.of(), 0, false);
        }
    }

    /**
     * What a connection's last answer had the store read ahead: for each partition cut by its byte limit, about a
     * quarter more entries than the answer held from it, from where it ended. So a connection holds about one
     * answer's worth; the next fetch uses what matches its offsets, and the rest is dropped with it.
     */
    static final class ReadAhead {
        private record Ahead(Address address, int partition, long from, Future<List<Logs.Entry>> entries) {
        }

        private final List<Ahead> reads = new ArrayList<>(1);

        /** The entries read ahead from exactly {@code from}, or null. */
        Future<List<Logs.Entry>> take(Address address, int partition, long from) {
            for (Ahead a : reads) {
                if (a.partition == partition && a.from == from && a.address.equals(address)) {
                    return a.entries;
                }
            }
            return null;
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
        boolean inFiles = connection.sendsFiles();
        for (FetchRequestData.FetchTopic t : request.topics()) {
            Address address;
            try {
                address = KafkaNames.toAddress(t.topic());
            } catch (InvalidAddressException e) {
                address = null;
            }
            for (FetchRequestData.FetchPartition p : t.partitions()) {
                wanted.add(new Wanted(t.topic(), address, p.partition(), p.fetchOffset(), Math.max(0, p.partitionMaxBytes()),
                        address != null && connection.access.maySubscribe(address), inFiles));
            }
        }
        long deadline = System.currentTimeMillis() + Math.max(0, request.maxWaitMs());
        ReadAhead ahead = connection.readAhead;
        connection.readAhead = null; // this fetch takes what it asks for; the rest is dropped
        return round(connection, wanted, request, deadline, ahead);
    }

    /**
     * Reads everything once (the first round from what the last answer had read ahead); answers if enough came, the
     * time is up or an error is to be told, else waits.
     */
    private Future<FetchResponseData> round(KafkaConnection connection, List<Wanted> wanted, FetchRequestData request,
                                            long deadline, ReadAhead ahead) {
        List<Future<Part>> reads = new ArrayList<>(wanted.size());
        int asked = request.maxBytes() <= 0 ? Integer.MAX_VALUE : request.maxBytes();
        int full = Math.min(asked, server.config.fetchMaxBytes());
        int[] budget = {full};
        List<io.omnibus.core.spi.Envelope> delivered = new ArrayList<>(); // this round's: counted if it is the answer
        return readAll(wanted, 0, full, budget, reads, delivered, ahead).compose(v -> {
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
                return Future.succeededFuture(answered(connection, wanted, parts, delivered));
            }
            return awaitAny(wanted, parts, left).compose(appended -> appended
                    ? round(connection, wanted, request, deadline, null)
                    : Future.succeededFuture(answered(connection, wanted, parts, delivered)));
        });
    }

    /**
     * The answer, with what it hands out counted for the translation losses, and the store set reading ahead for
     * the partitions it cut.
     */
    private FetchResponseData answered(KafkaConnection connection, List<Wanted> wanted, List<Part> parts,
                                       List<io.omnibus.core.spi.Envelope> delivered) {
        delivered.forEach(e -> server.losses.delivered(e, "kafka"));
        ReadAhead ahead = null;
        for (int i = 0; i < parts.size(); i++) {
            Part p = parts.get(i);
            if (p.cut && !p.entries.isEmpty()) {
                Wanted w = wanted.get(i);
                long from = p.entries.get(p.entries.size() - 1).offset() + 1;
                if (ahead == null) {
                    ahead = new ReadAhead();
                }
                int n = p.entries.size(); // and some more: the next answer is cut only by an entry it does not take
                ahead.reads.add(new ReadAhead.Ahead(w.address, w.partition, from,
                        logs.readAsStored(w.address, w.partition, from, n + n / 4 + 1, w.inFiles)));
            }
        }
        connection.readAhead = ahead;
        return answer(wanted, parts);
    }

    /** Partitions are read one after the other so the request's byte budget is shared in order. */
    private Future<Void> readAll(List<Wanted> wanted, int i, int full, int[] budget, List<Future<Part>> out,
                                 List<io.omnibus.core.spi.Envelope> delivered, ReadAhead ahead) {
        if (i == wanted.size()) {
            return Future.succeededFuture();
        }
        Future<Part> f = read(wanted.get(i), budget, budget[0] == full, delivered, ahead); // nothing taken yet: KIP-74
        out.add(f);
        return f.compose(d -> readAll(wanted, i + 1, full, budget, out, delivered, ahead));
    }

    private Future<Part> read(Wanted w, int[] budget, boolean first, List<io.omnibus.core.spi.Envelope> delivered,
                              ReadAhead ahead) {
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
        Future<List<Logs.Entry>> read = ahead == null ? null : ahead.take(w.address, w.partition, w.offset);
        read = read == null ? logs.readAsStored(w.address, w.partition, w.offset, READ_STEP, w.inFiles)
                : read.recover(e -> logs.readAsStored(w.address, w.partition, w.offset, READ_STEP, w.inFiles)); // again
        return collect(w, read, end, limit, first, taken, size).map(cut -> {
            for (Logs.Entry t : taken) {
                if (!producerBatch(t)) { // a producer's own batch, sent as it came, loses nothing
                    delivered.add(t.envelope());
                }
            }
            budget[0] -= size[0];
            return new Part(d, taken, size[0], cut);
        }).recover(e -> { // this partition cannot be read now; the others are answered
            KafkaServer.LOG.warn("kafka: reading {} partition {} failed: {}", w.topic, w.partition, e.toString());
            return Future.succeededFuture(new Part(d.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code())));
        });
    }

    /**
     * Takes entries from {@code read} and the reads after it until {@code limit} bytes (at least one when
     * {@code first}); true if the limit cut the partition short.
     */
    private Future<Boolean> collect(Wanted w, Future<List<Logs.Entry>> read, long end, int limit, boolean first,
                                    List<Logs.Entry> taken, int[] size) {
        return read.compose(batch -> {
            for (Logs.Entry e : batch) {
                if (e.offset() >= end) { // appended since the high watermark was taken: the next fetch gets it
                    return Future.succeededFuture(false);
                }
                int s = size(e, taken);
                if (size[0] + s > limit && !(first && taken.isEmpty())) {
                    return Future.succeededFuture(true);
                }
                size[0] += s;
                taken.add(e);
            }
            if (batch.isEmpty()) {
                return Future.succeededFuture(false);
            }
            long next = batch.get(batch.size() - 1).offset() + 1;
            return next >= end ? Future.succeededFuture(false)
                    : collect(w, logs.readAsStored(w.address, w.partition, next, READ_STEP, w.inFiles), end, limit, first,
                    taken, size);
        });
    }

    /**
     * What {@code e} adds to the answer after {@code taken}: a message stored in a producer's batch brings the whole
     * batch with its first one taken and nothing after, so a byte limit cuts only between batches.
     */
    private static int size(Logs.Entry e, List<Logs.Entry> taken) {
        if (!producerBatch(e)) {
            return e.envelope().estimatedSize() + 16;
        }
        io.omnibus.core.spi.WireBatch before = taken.isEmpty() ? null : taken.get(taken.size() - 1).batch();
        return before != null && before.firstOffset() == e.batch().firstOffset() ? 0 : e.batch().byteSize();
    }

    /** Whether the entry was stored in a Kafka producer's batch, kept as it came. */
    static boolean producerBatch(Logs.Entry e) {
        return e.batch() != null && e.batch().format().equals(KafkaWireFormat.NAME);
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
