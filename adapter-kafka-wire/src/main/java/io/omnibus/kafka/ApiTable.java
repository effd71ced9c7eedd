package io.omnibus.kafka;

import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.util.EnumMap;
import java.util.Map;

/**
 * The APIs and versions the gateway implements: what ApiVersions advertises and what a request is checked
 * against. Only these are advertised. Produce is advertised from version 0 although versions 0 to 2 are
 * refused: librdkafka enables compression only when the range starts at 0 (KAFKA-18659), as Kafka 4 does.
 */
final class ApiTable {
    private record Range(short advertisedMin, short min, short max) {
    }

    private static final Map<ApiKeys, Range> RANGES = new EnumMap<>(ApiKeys.class);

    static {
        put(ApiKeys.PRODUCE, 0, 3, 11);
        put(ApiKeys.FETCH, 4, 4, 12);
        put(ApiKeys.LIST_OFFSETS, 1, 1, 8);
        put(ApiKeys.METADATA, 0, 0, 12);
        put(ApiKeys.OFFSET_COMMIT, 2, 2, 8);
        put(ApiKeys.OFFSET_FETCH, 1, 1, 8);
        put(ApiKeys.FIND_COORDINATOR, 0, 0, 5);
        put(ApiKeys.JOIN_GROUP, 2, 2, 9);
        put(ApiKeys.HEARTBEAT, 0, 0, 4);
        put(ApiKeys.LEAVE_GROUP, 0, 0, 5);
        put(ApiKeys.SYNC_GROUP, 0, 0, 5);
        put(ApiKeys.DESCRIBE_GROUPS, 0, 0, 5);
        put(ApiKeys.LIST_GROUPS, 0, 0, 4);
        put(ApiKeys.SASL_HANDSHAKE, 0, 1, 1); // librdkafka enables SASL only when version 0 is in the range; it then uses 1
        put(ApiKeys.API_VERSIONS, 0, 0, 4);
        put(ApiKeys.CREATE_TOPICS, 2, 2, 7);
        put(ApiKeys.DELETE_TOPICS, 1, 1, 5);
        put(ApiKeys.INIT_PRODUCER_ID, 0, 0, 4);
        put(ApiKeys.DESCRIBE_CONFIGS, 1, 1, 4);
        put(ApiKeys.SASL_AUTHENTICATE, 0, 0, 2);
        put(ApiKeys.DESCRIBE_CLUSTER, 0, 0, 1);
    }

    private ApiTable() {
    }

    private static void put(ApiKeys key, int advertisedMin, int min, int max) {
        RANGES.put(key, new Range((short) advertisedMin, (short) min, (short) max));
    }

    static java.util.Set<ApiKeys> implemented() {
        return RANGES.keySet();
    }

    static boolean supports(ApiKeys key, short version) {
        Range r = RANGES.get(key);
        return r != null && version >= r.min && version <= r.max;
    }

    /** The ApiVersions answer; {@code error} is UNSUPPORTED_VERSION for a version we do not speak. */
    static ApiVersionsResponseData apiVersions(Errors error) {
        ApiVersionCollection keys = new ApiVersionCollection();
        RANGES.forEach((key, r) -> keys.add(new ApiVersion().setApiKey(key.id).setMinVersion(r.advertisedMin)
                .setMaxVersion(r.max)));
        return new ApiVersionsResponseData().setErrorCode(error.code()).setApiKeys(keys).setThrottleTimeMs(0);
    }
}
