package io.omnibus.core.internal;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.spi.PublishResult;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** {@link Logs} over the broker's topics and the store: reads go to the store, waits to the partition's context. */
final class PartitionLogs implements Logs {
    private final DefaultBroker broker;

    PartitionLogs(DefaultBroker broker) {
        this.broker = broker;
    }

    @Override
    public Future<Integer> partitions(Address address, int partitions, boolean create) {
        return Contexts.on(Vertx.currentContext(), broker.topics().partitionCount(address, partitions, create));
    }

    @Override
    public int partitionCount(Address address) {
        return broker.topics().existingPartitionCount(address);
    }

    @Override
    public Map<Address, Integer> topics() {
        return broker.topics().counts();
    }

    @Override
    public Future<PublishResult> append(Envelope envelope, int partition) {
        if (partition < 0) {
            return Future.failedFuture(new BrokerException(BrokerException.Reason.NOT_FOUND,
                    "partition must not be negative: " + partition));
        }
        return broker.publish(envelope, partition);
    }

    @Override
    public Future<PublishResult> append(List<Envelope> batch, int partition) {
        if (partition < 0) {
            return Future.failedFuture(new BrokerException(BrokerException.Reason.NOT_FOUND,
                    "partition must not be negative: " + partition));
        }
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("an empty batch");
        }
        return broker.publish(batch, partition);
    }

    @Override
    public Future<Boolean> delete(Address address) {
        return Contexts.on(Vertx.currentContext(), broker.topics().delete(address));
    }

    @Override
    public Future<List<Entry>> read(Address address, int partition, long fromOffset, int max) {
        return read(address, partition, fromOffset, max, false, false);
    }

    @Override
    public boolean keepsBatches() {
        return broker.store().keepsBatches();
    }

    @Override
    public Future<List<Entry>> readAsStored(Address address, int partition, long fromOffset, int max, boolean inFiles) {
        return read(address, partition, fromOffset, max, true, inFiles);
    }

    /** {@code lazily}: the messages of a batch the store kept are left for the caller to decode, if it wants them. */
    private Future<List<Entry>> read(Address address, int partition, long fromOffset, int max, boolean lazily,
                                     boolean inFiles) {
        Context caller = Vertx.currentContext();
        TopicPartition tp = new TopicPartition(address, partition);
        if (max < 1 || fromOffset >= broker.store().endOffset(tp)) {
            return Future.succeededFuture(List.of());
        }
        long from = Math.max(fromOffset, broker.store().startOffset(tp));
        return Contexts.on(caller, (lazily ? broker.store().readLazily(tp, from, max, inFiles) : broker.store().read(tp, from, max))
                .map(read -> entries(read, lazily)));
    }

    /** {@code read} as log entries (a plain loop: a fetch maps a thousand at a time). */
    private static List<Entry> entries(List<StoredMessage> read, boolean lazily) {
        Entry[] out = new Entry[read.size()];
        for (int i = 0; i < out.length; i++) {
            StoredMessage m = read.get(i);
            out[i] = new Entry(m.offset(), lazily && m.batch() != null ? null : m.envelope(), m.batch());
        }
        return Arrays.asList(out);
    }

    @Override
    public long startOffset(Address address, int partition) {
        return broker.store().startOffset(new TopicPartition(address, partition));
    }

    @Override
    public long endOffset(Address address, int partition) {
        return broker.store().endOffset(new TopicPartition(address, partition));
    }

    @Override
    public Future<Long> offsetAt(Address address, int partition, long epochMillis) {
        Context caller = Vertx.currentContext();
        TopicPartition tp = new TopicPartition(address, partition);
        return Contexts.on(caller, search(tp, broker.store().startOffset(tp), broker.store().endOffset(tp), epochMillis));
    }

    /** The first offset in [low, high) created at or after {@code at}, or high. */
    private Future<Long> search(TopicPartition tp, long low, long high, long at) {
        if (low >= high) {
            return Future.succeededFuture(high);
        }
        long mid = low + (high - low) / 2;
        return broker.store().read(tp, mid, 1).compose(found -> {
            if (found.isEmpty()) { // a hole (a corrupt record skipped): look right of it
                return search(tp, mid + 1, high, at);
            }
            long offset = found.get(0).offset(); // mid, or the next one kept after a hole
            if (found.get(0).envelope().createdAt() >= at) {
                return search(tp, low, mid, at).map(o -> o == mid ? offset : o);
            }
            return search(tp, offset + 1, high, at);
        });
    }

    @Override
    public Future<Boolean> awaitAppend(Address address, int partition, long offset, Duration wait) {
        Context caller = Vertx.currentContext();
        Context owner = broker.topics().partitionContext(address, partition);
        if (owner == null) {
            return Future.failedFuture(new BrokerException(BrokerException.Reason.UNKNOWN_ADDRESS, "address '" + address
                    + "' has no partition " + partition));
        }
        TopicPartition tp = new TopicPartition(address, partition);
        Promise<Boolean> result = Promise.promise();
        Contexts.run(owner, () -> {
            if (broker.store().endOffset(tp) > offset) {
                result.complete(true);
                return;
            }
            long[] timer = new long[1];
            Runnable waiter = () -> {
                broker.vertx().cancelTimer(timer[0]);
                result.tryComplete(true);
            };
            if (!broker.topics().onNextAppend(address, partition, waiter)) {
                result.complete(false); // deleted meanwhile
                return;
            }
            timer[0] = broker.vertx().setTimer(Math.max(1, wait.toMillis()), t -> { // fires on the partition's context
                broker.topics().cancelNextAppend(address, partition, waiter); // an idle partition does not collect waiters
                result.tryComplete(false);
            });
        });
        return Contexts.on(caller, result.future());
    }
}
