package io.omnibus.core.spi;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Offset-addressed access to the addresses' partition logs, for protocols whose clients keep their own position
 * (a Kafka fetch, a RocketMQ pull by queue offset) and choose partitions themselves. Everything published by any
 * protocol is in these logs; subscriptions are cursors on them. Futures complete on the caller's Vert.x context.
 */
public interface Logs {
    /**
     * The partition count of {@code address}. When the topic does not exist: with {@code create}, it is created
     * with {@code partitions} partitions (the configured count when 0) and the count kept durably; otherwise the
     * future fails with {@link BrokerException.Reason#UNKNOWN_ADDRESS}.
     */
    Future<Integer> partitions(Address address, int partitions, boolean create);

    /** The partition count of an existing topic, or 0 when there is no such topic; a lookup, for hot paths. */
    int partitionCount(Address address);

    /** The topics that exist, with their partition counts (a copy: for listings, not hot paths). */
    Map<Address, Integer> topics();

    /**
     * Stores and routes one message on the given partition, like {@link Broker#publish} otherwise. Fails with
     * {@link BrokerException.Reason#NOT_FOUND} for a partition the topic does not have.
     */
    Future<PublishResult> append(Envelope envelope, int partition);

    /**
     * Appends messages of one address to one partition at consecutive offsets (nothing else lands between
     * them); completes with the first one's result once all are stored, or fails if any could not be. A
     * {@link WireBatch} may be stored as the bytes it came as.
     */
    Future<PublishResult> append(List<Envelope> batch, int partition);

    /**
     * Deletes a topic and its messages; its subscriptions stay. Offsets go on from where they were if it is
     * made again. Completes with false when there was no such topic.
     */
    Future<Boolean> delete(Address address);

    /** Up to {@code max} messages from {@code fromOffset} on (fewer at the end of the log; none past it). */
    Future<List<Entry>> read(Address address, int partition, long fromOffset, int max);

    /** Whether the store keeps a {@link WireBatch} appended as it came (its protocol's consumers get it back so). */
    default boolean keepsBatches() {
        return false;
    }

    /**
     * As {@link #read}, for a reader that may want only the {@linkplain Entry#batch() batches} the messages were
     * kept in (a Kafka fetch sending a producer's batch on as it came): the messages of such a batch are decoded only
     * when {@link Entry#envelope()} is first called for one of them, on the caller's thread, and that call throws
     * {@link IllegalStateException} if they cannot be. With {@code inFiles}, a batch may come as the place of its
     * bytes in the store's file ({@link WireBatch#file()}), unread, for a reader that sends it from there
     * ({@code sendfile}); its bytes are then read only if asked for. As {@link #read} by default.
     */
    default Future<List<Entry>> readAsStored(Address address, int partition, long fromOffset, int max, boolean inFiles) {
        return read(address, partition, fromOffset, max);
    }

    /** The first offset still kept (retention moves it). */
    long startOffset(Address address, int partition);

    /** The offset the next message will get. */
    long endOffset(Address address, int partition);

    /**
     * The first offset whose message was created at or after {@code epochMillis}, or the end offset when none
     * was. A binary search over creation times, which are the producers' and need not be ordered: approximate
     * when they are not.
     */
    Future<Long> offsetAt(Address address, int partition, long epochMillis);

    /** Completes with true once the log holds an offset at or past {@code offset}, or with false after {@code wait}. */
    Future<Boolean> awaitAppend(Address address, int partition, long offset, Duration wait);

    /**
     * One message of a log and its offset; {@code batch} is the {@link WireBatch} it was stored in, as it came, when
     * the store kept one (null otherwise): a consumer of that batch's protocol may send the batch on as it is, and
     * the messages of such a batch are decoded only when {@link #envelope()} is first called for one of them (on
     * the caller's thread, once for the batch) when read {@linkplain #readAsStored as stored}.
     */
    record Entry(long offset, Envelope envelope, WireBatch batch) {
        public Entry(long offset, Envelope envelope) {
            this(offset, envelope, null);
        }

        @Override
        public Envelope envelope() {
            return envelope != null || batch == null ? envelope : batch.get((int) (offset - batch.firstOffset()));
        }
    }
}
