package io.omnibus.core.store.file;

import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.WireBatch;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Promise;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * The work {@link FileMessageStore}'s writer thread takes from its queue: appends (one partition's records, or an
 * atomic group of several partitions' with state changes), state changes, and controls (flush, checkpoint, close,
 * truncate, cursor journal). Each carries its records, encoded by the caller, and the promise the writer completes.
 */
final class WriteOps {
    private WriteOps() {
    }

    /** Work for the writer thread. */
    abstract static class Op {
        final int bytes;

        Op(int bytes) {
            this.bytes = bytes;
        }
    }

    /** Records of one partition at consecutive offsets, written (or failed) together; {@code offset} is the first's. */
    static final class Append extends Op {
        final TopicPartition tp;
        final ByteBuffer[] records;
        final boolean durable;
        final Promise<Long> promise = Promise.promise();
        /** A group marker written before the records when there are several: recovery keeps all or none. */
        final ByteBuffer marker;
        long offset;

        Append(TopicPartition tp, ByteBuffer[] records, int bytes, boolean durable, ByteBuffer marker) {
            super(bytes);
            this.tp = tp;
            this.records = records;
            this.durable = durable;
            this.marker = marker;
        }

        /**
         * The records of one partition's messages; behind a group marker when {@code grouped}. A {@link WireBatch} is
         * one record, its bytes as they came: written whole or not at all, it needs no marker. Refused when a record,
         * or the whole with its marker, is larger than a segment.
         */
        static Append encode(TopicPartition partition, List<Envelope> envelopes, long now, boolean grouped,
                             long segmentSize) throws IOException {
            if (envelopes instanceof WireBatch batch) {
                ByteBuffer record = Record.encodeBatch(batch, partition.partition(), now);
                if (record.remaining() > segmentSize) {
                    throw new IOException("a batch of " + record.remaining()
                            + " bytes is larger than store.segment-size (" + segmentSize + ")");
                }
                boolean durable = false;
                for (Envelope e : batch) {
                    durable |= e.durable();
                }
                return new Append(partition, new ByteBuffer[] {record}, record.remaining(), durable, null);
            }
            ByteBuffer[] records = new ByteBuffer[envelopes.size()];
            int bytes = 0;
            boolean durable = false;
            for (int i = 0; i < records.length; i++) {
                Envelope envelope = envelopes.get(i);
                records[i] = Record.encode(envelope, partition.partition(), now);
                if (records[i].remaining() > segmentSize) {
                    throw new IOException("message of " + records[i].remaining()
                            + " bytes is larger than store.segment-size (" + segmentSize + ")");
                }
                bytes += records[i].remaining();
                durable |= envelope.durable();
            }
            ByteBuffer marker = grouped ? Record.encodeGroup(records.length, now) : null;
            if (marker != null) {
                bytes += marker.remaining();
                if (bytes > segmentSize) {
                    throw new IOException("a batch of " + bytes + " bytes is larger than store.segment-size ("
                            + segmentSize + ")");
                }
            }
            return new Append(partition, records, bytes, durable, marker);
        }
    }

    /** Records of several partitions behind one group marker: written, made durable and recovered as one. */
    static final class Group extends Op {
        final Append[] parts;
        /** State changes written after the records, applied with them. */
        final Change[] changes;
        final ByteBuffer marker;
        final boolean durable;
        final Promise<long[]> promise;

        Group(Append[] parts, Change[] changes, int bytes, boolean durable, ByteBuffer marker, Promise<long[]> promise) {
            super(bytes);
            this.promise = promise;
            this.parts = parts;
            this.changes = changes;
            this.durable = durable;
            this.marker = marker;
        }
    }

    static final class Change extends Op {
        final ByteBuffer record;
        final Promise<Void> promise = Promise.promise();
        final Runnable apply;
        /** A subscription's filter: the writer notes where each matching partition ends at this record's place. */
        final String subscriptionFilter;
        /**
         * No one waits for this change to be durable (a cursor the journal saves): it is written with its batch and
         * made durable by the next fsync that runs anyway, at the latest the fsync interval later; it never makes an
         * fsync run at once.
         */
        final boolean deferred;
        Map<TopicPartition, CursorState> starts = Map.of();

        Change(ByteBuffer record, Runnable apply) {
            this(record, apply, null, false);
        }

        Change(ByteBuffer record, Runnable apply, boolean deferred) {
            this(record, apply, null, deferred);
        }

        Change(ByteBuffer record, Runnable apply, String subscriptionFilter) {
            this(record, apply, subscriptionFilter, false);
        }

        private Change(ByteBuffer record, Runnable apply, String subscriptionFilter, boolean deferred) {
            super(record.remaining());
            this.record = record;
            this.apply = apply;
            this.subscriptionFilter = subscriptionFilter;
            this.deferred = deferred;
        }
    }

    static final class Control extends Op {
        enum Kind { FLUSH, CHECKPOINT, CLOSE, TRUNCATE, CURSORS }

        final Kind kind;
        final TopicPartition target; // TRUNCATE only
        /** TRUNCATE: only when the partition's next offset is this one (-1: whatever it is). */
        final long onlyAtEnd;
        final Promise<Void> promise = Promise.promise();
        /** TRUNCATE: whether it truncated. */
        boolean done;

        Control(Kind kind) {
            this(kind, null, -1);
        }

        Control(Kind kind, TopicPartition target, long onlyAtEnd) {
            super(0);
            this.kind = kind;
            this.target = target;
            this.onlyAtEnd = onlyAtEnd;
        }
    }
}
