package io.omnibus.kafka;

import io.omnibus.core.spi.Broker;
import io.vertx.core.Future;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;

import java.nio.charset.StandardCharsets;

/** The producer ids the Kafka listener hands out; on the coordinator's context. */
final class ProducerIds {
    static final String PRODUCER_IDS = "kafka.producer-ids";
    private static final int PRODUCER_ID_BLOCK = 1000;

    private final Broker broker;
    private long nextProducerId;
    private long producerIdsReserved;
    private Future<Void> reserving = Future.succeededFuture();

    ProducerIds(Broker broker) {
        this.broker = broker;
    }

    /** Reads back how far ids were reserved: ids of the previous run's last block are never handed out again. */
    void load() {
        byte[] ids = broker.state(PRODUCER_IDS, "reserved");
        producerIdsReserved = ids == null ? 0 : Long.parseLong(new String(ids, StandardCharsets.UTF_8));
        nextProducerId = producerIdsReserved;
    }

    /**
     * Idempotent producers get a new id (epoch 0), or, asking with their id and epoch (KIP-360), the same id
     * with the next epoch. Ids are reserved durably in blocks, so none is given twice across restarts.
     * Transactional ids are refused: transactions are not supported.
     */
    Future<InitProducerIdResponseData> initProducerId(InitProducerIdRequestData req) {
        InitProducerIdResponseData r = new InitProducerIdResponseData().setThrottleTimeMs(0).setProducerId(-1)
                .setProducerEpoch((short) -1);
        if (req.transactionalId() != null) {
            return Future.succeededFuture(r.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        if (req.producerId() >= 0 && req.producerEpoch() >= 0) {
            if (req.producerId() >= nextProducerId) {
                return Future.succeededFuture(r.setErrorCode(Errors.INVALID_PRODUCER_ID_MAPPING.code()));
            }
            if (req.producerEpoch() < Short.MAX_VALUE - 1) {
                return Future.succeededFuture(r.setErrorCode(Errors.NONE.code()).setProducerId(req.producerId())
                        .setProducerEpoch((short) (req.producerEpoch() + 1)));
            }
        }
        return newProducerId().map(id -> r.setErrorCode(Errors.NONE.code()).setProducerId(id).setProducerEpoch((short) 0))
                .recover(e -> Future.succeededFuture(r.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code())));
    }

    private Future<Long> newProducerId() {
        if (nextProducerId < producerIdsReserved) {
            return Future.succeededFuture(nextProducerId++);
        }
        // one reservation at a time; requests behind it take ids from the block it reserves
        reserving = reserving.recover(e -> Future.succeededFuture()).compose(v -> {
            if (nextProducerId < producerIdsReserved) {
                return Future.succeededFuture();
            }
            long upTo = producerIdsReserved + PRODUCER_ID_BLOCK;
            return broker.putState(PRODUCER_IDS, "reserved", Long.toString(upTo).getBytes(StandardCharsets.UTF_8))
                    .onSuccess(x -> producerIdsReserved = upTo);
        });
        return reserving.compose(v -> newProducerId());
    }
}
