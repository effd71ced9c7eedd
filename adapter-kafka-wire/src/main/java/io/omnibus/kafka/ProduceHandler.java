package io.omnibus.kafka;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.BrokerException;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.InvalidAddressException;
import io.omnibus.core.spi.Logs;
import io.omnibus.core.transport.ServiceContext;
import io.vertx.core.Future;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.UnsupportedCompressionTypeException;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.requests.ProduceRequest;

import java.util.ArrayList;
import java.util.List;

/**
 * Produce: each partition's batch is checked (one v2 batch, its CRC, no transactions, consecutive offsets),
 * decoded (any compression) into envelopes, checked against the producer's sequence when it is idempotent, and
 * appended at consecutive offsets, as the batch it came as ({@link KafkaWireFormat}: the store keeps its bytes,
 * compression included, and fetches send them back as they are). The answer waits until every partition's batch
 * is stored as durably as the store's policy says; with acks=0 there is none.
 */
final class ProduceHandler {
    private final KafkaServer server;
    private final Logs logs;

    ProduceHandler(KafkaServer server) {
        this.server = server;
        this.logs = server.ctx.broker().logs();
    }

    Future<ProduceResponseData> produce(KafkaConnection connection, ProduceRequestData request, short version) {
        short acks = request.acks();
        List<Future<TopicProduceResponse>> topics = new ArrayList<>();
        for (ProduceRequestData.TopicProduceData topic : request.topicData()) {
            List<Future<PartitionProduceResponse>> partitions = new ArrayList<>();
            Address address = null;
            Errors invalid = null;
            String message = null;
            if (acks != 0 && acks != 1 && acks != -1) {
                invalid = Errors.INVALID_REQUIRED_ACKS;
            } else if (request.transactionalId() != null) {
                invalid = Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
                message = "transactions are not supported by this gateway";
            } else {
                try {
                    address = KafkaNames.toAddress(topic.name());
                    if (!connection.access.mayPublish(address)) {
                        invalid = Errors.TOPIC_AUTHORIZATION_FAILED;
                        message = KafkaNames.writable(address) ? "not authorized to produce to '" + topic.name() + "'"
                                : "'$' addresses belong to the gateway";
                    }
                } catch (InvalidAddressException e) {
                    invalid = Errors.INVALID_TOPIC_EXCEPTION;
                    message = e.getMessage();
                }
            }
            for (ProduceRequestData.PartitionProduceData p : topic.partitionData()) {
                partitions.add(invalid != null ? Future.succeededFuture(error(p.index(), invalid, message))
                        : partition(connection, address, p, version));
            }
            topics.add(Future.join(partitions).map(cf -> {
                TopicProduceResponse t = new TopicProduceResponse().setName(topic.name());
                for (int i = 0; i < cf.size(); i++) {
                    t.partitionResponses().add(cf.resultAt(i));
                }
                return t;
            }));
        }
        Future<ProduceResponseData> answer = Future.join(topics).map(cf -> {
            ProduceResponseData response = new ProduceResponseData().setThrottleTimeMs(0);
            for (int i = 0; i < cf.size(); i++) {
                response.responses().add(cf.resultAt(i));
            }
            return response;
        });
        if (acks == 0) {
            // no answer, but the request counts as in flight until stored (max-inflight-requests holds the socket);
            // nobody hears an error: like Kafka, close the connection so the producer refreshes its metadata
            return answer.map(r -> {
                for (TopicProduceResponse t : r.responses()) {
                    for (PartitionProduceResponse p : t.partitionResponses()) {
                        if (p.errorCode() != Errors.NONE.code()) {
                            connection.closeAfterUnansweredError(t.name(), Errors.forCode(p.errorCode()));
                            return null;
                        }
                    }
                }
                return null;
            });
        }
        return answer;
    }

    private Future<PartitionProduceResponse> partition(KafkaConnection connection, Address address,
                                                       ProduceRequestData.PartitionProduceData p, short version) {
        if (!known(address, p.index())) {
            return Future.succeededFuture(error(p.index(), Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic "
                    + KafkaNames.toKafka(address) + " has no partition " + p.index()));
        }
        MutableRecordBatch batch;
        java.nio.ByteBuffer bytes;
        List<Envelope> envelopes;
        try {
            if (!(p.records() instanceof MemoryRecords records)) {
                return Future.succeededFuture(error(p.index(), Errors.INVALID_RECORD, "no records"));
            }
            try {
                ProduceRequest.validateRecords(version, records); // one batch, format v2
            } catch (InvalidRecordException e) {
                return Future.succeededFuture(error(p.index(), Errors.INVALID_RECORD, e.getMessage()));
            }
            batch = records.batches().iterator().next();
            batch.ensureValid();
            bytes = ownCopy(batch);
            batch = MemoryRecords.readableRecords(bytes.duplicate()).batches().iterator().next();
            if (batch.isControlBatch()) {
                return Future.succeededFuture(error(p.index(), Errors.INVALID_RECORD, "producers cannot send control batches"));
            }
            if (batch.isTransactional()) {
                return Future.succeededFuture(error(p.index(), Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                        "transactions are not supported by this gateway"));
            }
            long now = System.currentTimeMillis();
            envelopes = new ArrayList<>();
            for (Record r : batch) {
                r.ensureValid();
                if (r.offset() != batch.baseOffset() + envelopes.size()) { // as Kafka's log validation
                    return Future.succeededFuture(error(p.index(), Errors.INVALID_RECORD,
                            "record offsets in a batch must be consecutive from its first"));
                }
                envelopes.add(RecordTranslation.toEnvelope(address, batch, r, connection.origin, now));
            }
            if (!envelopes.isEmpty() && batch.lastOffset() != batch.baseOffset() + envelopes.size() - 1) {
                return Future.succeededFuture(error(p.index(), Errors.INVALID_RECORD,
                        "the batch's last offset delta does not match its records"));
            }
            io.omnibus.core.spi.WireBatch kept = envelopes.isEmpty() ? null
                    : KafkaWireFormat.of(bytes, batch, KafkaWireFormat.template(address, connection.origin, now), envelopes);
            if (kept != null) {
                envelopes = kept; // stored as it came, and fetched so
            }
        } catch (CorruptRecordException e) {
            return Future.succeededFuture(error(p.index(), Errors.CORRUPT_MESSAGE, e.getMessage()));
        } catch (UnsupportedCompressionTypeException e) {
            return Future.succeededFuture(error(p.index(), Errors.UNSUPPORTED_COMPRESSION_TYPE, e.getMessage()));
        } catch (KafkaException | IllegalArgumentException | java.nio.BufferUnderflowException e) {
            // InvalidRecordException, a compressed stream that does not decompress, sizes that do not add up
            return Future.succeededFuture(error(p.index(), Errors.CORRUPT_MESSAGE, String.valueOf(e.getMessage())));
        }
        if (envelopes.isEmpty()) {
            return Future.succeededFuture(error(p.index(), Errors.INVALID_RECORD, "an empty batch"));
        }
        int partition = p.index();
        Future<Long> stored;
        if (batch.hasProducerId()) {
            ProducerStates.Key key = new ProducerStates.Key(batch.producerId(), address, partition);
            ProducerStates.Verdict v = server.producers.check(key, batch.producerEpoch(), batch.baseSequence(),
                    batch.lastSequence(), System.currentTimeMillis());
            if (v.error() != Errors.NONE) {
                return Future.succeededFuture(error(partition, v.error(), null));
            } else if (v.duplicateOf() != null) {
                stored = ServiceContext.here(v.duplicateOf());
            } else {
                ProducerStates.Batch taken = v.append();
                stored = append(address, partition, envelopes).andThen(ar -> {
                    if (ar.succeeded()) {
                        taken.offset.tryComplete(ar.result());
                    } else {
                        server.producers.failed(key, taken);
                        taken.offset.tryFail(ar.cause());
                    }
                });
            }
        } else {
            stored = append(address, partition, envelopes);
        }
        return stored.map(offset -> new PartitionProduceResponse().setIndex(partition).setErrorCode(Errors.NONE.code())
                        .setBaseOffset(offset).setLogAppendTimeMs(-1).setLogStartOffset(logs.startOffset(address, partition)))
                .recover(e -> Future.succeededFuture(error(partition, errorOf(e), e.getMessage())));
    }

    /**
     * The batch in an array of its own, the one copy of its bytes: the request's buffer goes back to Netty's pool
     * once decoded, the envelopes slice this array (and the store keeps it as it is), and a message kept by a slow
     * subscriber keeps only its batch alive, not the whole request.
     */
    private static java.nio.ByteBuffer ownCopy(MutableRecordBatch batch) {
        java.nio.ByteBuffer copy = java.nio.ByteBuffer.allocate(batch.sizeInBytes());
        batch.writeTo(copy);
        copy.flip();
        return copy;
    }

    /** Whether the partition exists: nothing is decoded, and no sequence taken, for a batch that cannot be stored. */
    private boolean known(Address address, int partition) {
        return partition >= 0 && partition < logs.partitionCount(address);
    }

    private Future<Long> append(Address address, int partition, List<Envelope> envelopes) {
        return logs.append(envelopes, partition).map(r -> r.offset());
    }

    static Errors errorOf(Throwable e) {
        if (!(e instanceof BrokerException b)) {
            return Errors.UNKNOWN_SERVER_ERROR;
        }
        return switch (b.reason()) {
            case INVALID_ADDRESS -> Errors.INVALID_TOPIC_EXCEPTION;
            case UNKNOWN_ADDRESS, NOT_FOUND -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
            case MESSAGE_TOO_LARGE -> Errors.MESSAGE_TOO_LARGE;
            case STORE_FAILURE -> Errors.KAFKA_STORAGE_ERROR;
            case SHUTTING_DOWN -> Errors.NOT_LEADER_OR_FOLLOWER; // the client refreshes metadata and retries
            default -> Errors.UNKNOWN_SERVER_ERROR;
        };
    }

    private static PartitionProduceResponse error(int partition, Errors error, String message) {
        return new PartitionProduceResponse().setIndex(partition).setErrorCode(error.code()).setBaseOffset(-1)
                .setLogAppendTimeMs(-1).setLogStartOffset(-1).setErrorMessage(message);
    }
}
