package io.omnibus.openmessaging;

import io.omnibus.openmessaging.remoting.RemotingCommand;
import io.omnibus.openmessaging.remoting.RequestCode;
import io.omnibus.openmessaging.remoting.ResponseCode;
import io.omnibus.openmessaging.remoting.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The remoting wire as frames: serializations, oneway requests, errors, limits, filtering and long polling. */
@Timeout(60)
class RemotingWireIT extends RocketTestBase {
    private final AtomicInteger opaque = new AtomicInteger();

    private RemotingCommand request(int code) {
        return RemotingCommand.request(code, opaque.incrementAndGet());
    }

    private RawRemoting connect() throws Exception {
        return new RawRemoting(gw.port("openmessaging"));
    }

    private RemotingCommand send(RawRemoting c, String topic, int queue, String tags, String body, int sysFlag) throws Exception {
        return c.call(request(RequestCode.SEND_MESSAGE).field("producerGroup", "raw").field("topic", topic)
                .field("defaultTopic", "TBW102").field("defaultTopicQueueNums", 4).field("queueId", queue)
                .field("sysFlag", sysFlag).field("bornTimestamp", System.currentTimeMillis()).field("flag", 0)
                .field("properties", tags == null ? "" : "TAGS\u0001" + tags + "\u0002").field("reconsumeTimes", 0)
                .body(body.getBytes(StandardCharsets.UTF_8)));
    }

    private RemotingCommand pull(RawRemoting c, String topic, int queue, long offset, String subscription, long suspend)
            throws Exception {
        return c.call(request(RequestCode.PULL_MESSAGE).field("consumerGroup", "raw-g").field("topic", topic)
                .field("queueId", queue).field("queueOffset", offset).field("maxMsgNums", 32)
                .field("sysFlag", suspend > 0 ? 2 : 0).field("commitOffset", 0).field("suspendTimeoutMillis", suspend)
                .field("subscription", subscription).field("subVersion", 0).field("expressionType", "TAG"));
    }

    @Test
    void aBinaryHeaderIsAnsweredInBinaryWithItsOpaque() throws Exception {
        start(Map.of());
        try (RawRemoting c = connect()) {
            RemotingCommand req = request(RequestCode.GET_ROUTEINFO_BY_TOPIC).field("topic", "routed")
                    .serializeType(RemotingCommand.ROCKETMQ);
            RemotingCommand reply = c.call(req);
            assertThat(reply.isResponse()).isTrue();
            assertThat(reply.opaque()).isEqualTo(req.opaque());
            assertThat(reply.serializeType()).isEqualTo(RemotingCommand.ROCKETMQ);
            assertThat(reply.code()).isEqualTo(ResponseCode.SUCCESS);
            String route = StandardCharsets.UTF_8.decode(reply.body()).toString();
            assertThat(route).contains("\"0\":\"127.0.0.1:" + gw.port("openmessaging") + "\"").contains("\"writeQueueNums\":4");
        }
    }

    @Test
    void onewayRequestsAreNeverAnswered() throws Exception {
        start(Map.of());
        try (RawRemoting c = connect()) {
            c.send(request(RequestCode.HEART_BEAT).oneway().body("{\"clientID\":\"x@1\"}".getBytes(StandardCharsets.UTF_8)));
            c.send(request(99_999).oneway());
            RemotingCommand req = request(RequestCode.GET_MAX_OFFSET).field("topic", "nowhere").field("queueId", 0);
            RemotingCommand reply = c.call(req);
            assertThat(reply.opaque()).isEqualTo(req.opaque()); // the first answer on the wire is this one's
            assertThat(reply.code()).isEqualTo(ResponseCode.TOPIC_NOT_EXIST);
        }
    }

    /** Unknown codes, and the configuration updates RocketMQ brokers and name servers take (CVE-2023-33246). */
    @ParameterizedTest
    @ValueSource(ints = {25, 318, 17, 100, 200, 9999})
    void unknownAndConfigurationRequestsAreNotSupported(int code) throws Exception {
        start(Map.of());
        try (RawRemoting c = connect()) {
            RemotingCommand reply = c.call(request(code).field("filterServerNums", "1"));
            assertThat(reply.code()).isEqualTo(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
            assertThat(reply.remark()).contains("not supported");
        }
    }

    @Test
    void missingAndMalformedFieldsGetAnErrorNamingThem() throws Exception {
        start(Map.of());
        try (RawRemoting c = connect()) {
            RemotingCommand missing = c.call(request(RequestCode.PULL_MESSAGE).field("consumerGroup", "g"));
            assertThat(missing.code()).isEqualTo(ResponseCode.SYSTEM_ERROR);
            assertThat(missing.remark()).contains("'topic'");
            RemotingCommand notANumber = c.call(request(RequestCode.GET_MAX_OFFSET).field("topic", "t").field("queueId", "x"));
            assertThat(notANumber.code()).isEqualTo(ResponseCode.SYSTEM_ERROR);
            assertThat(notANumber.remark()).contains("'queueId'");
            RemotingCommand noBody = c.call(request(RequestCode.HEART_BEAT));
            assertThat(noBody.code()).isEqualTo(ResponseCode.SYSTEM_ERROR);
            RemotingCommand badName = send(c, "ns%topic", 0, null, "x", 0);
            assertThat(badName.code()).isEqualTo(ResponseCode.TOPIC_NOT_EXIST);
            RemotingCommand ours = send(c, "_x24rocketmq|half", 0, null, "x", 0);
            assertThat(ours.code()).isEqualTo(ResponseCode.NO_PERMISSION);
            RemotingCommand lz4 = send(c, "t", 0, null, "x", 0x1 | 0x100);
            assertThat(lz4.code()).isEqualTo(ResponseCode.MESSAGE_ILLEGAL);
            assertThat(send(c, "t", 9, null, "x", 0).remark()).contains("queueId[9] is illegal");
            // the connection is still fine
            assertThat(send(c, "t", 0, null, "fine", 0).code()).isEqualTo(ResponseCode.SUCCESS);
        }
    }

    @Test
    void aMessageOverTheBrokersLimitIsIllegal() throws Exception {
        start(Map.of());
        try (RawRemoting c = connect()) {
            RemotingCommand reply = send(c, "big", 0, null, "x".repeat(gw.broker.maxMessageSize() + 1), 0);
            assertThat(reply.code()).isEqualTo(ResponseCode.MESSAGE_ILLEGAL);
            assertThat(reply.remark()).contains("over max value");
        }
    }

    @Test
    void anOversizedOrMalformedFrameClosesOnlyItsConnection() throws Exception {
        start(Map.of("max-frame-size", "4KiB"));
        try (RawRemoting big = connect(); RawRemoting bad = connect(); RawRemoting good = connect()) {
            big.sendRaw(ByteBuffer.allocate(8).putInt(1_000_000).putInt(0).array());
            assertThat(big.closedByPeer()).isTrue();
            bad.sendRaw(ByteBuffer.allocate(12).putInt(8).putInt(500).putInt(0).array()); // header beyond the frame
            assertThat(bad.closedByPeer()).isTrue();
            assertThat(send(good, "still", 0, null, "ok", 0).code()).isEqualTo(ResponseCode.SUCCESS);
        }
        assertThat(gw.meters.counter("omnibus.openmessaging.connections.refused", "reason", "too-large").count()).isEqualTo(1);
        assertThat(gw.meters.counter("omnibus.openmessaging.connections.refused", "reason", "malformed").count()).isEqualTo(1);
    }

    @Test
    void aPullReturnsOnlyTheSubscribedTagsAndSkipsPastTheRest() throws Exception {
        start(Map.of());
        try (RawRemoting c = connect()) {
            for (String tag : new String[] {"a", "b", "a", "b", "b"}) {
                assertThat(send(c, "filtered", 1, tag, "m-" + tag, 0).code()).isEqualTo(ResponseCode.SUCCESS);
            }
            RemotingCommand reply = pull(c, "filtered", 1, 0, "a", 0);
            assertThat(reply.code()).isEqualTo(ResponseCode.SUCCESS);
            assertThat(reply.field("nextBeginOffset")).isEqualTo("5");
            assertThat(reply.field("maxOffset")).isEqualTo("5");
            List<WireMessage> got = new ArrayList<>();
            ByteBuffer body = reply.body();
            while (body.hasRemaining()) {
                got.add(WireMessage.decodeStored(body));
            }
            assertThat(got).extracting(WireMessage::queueOffset).containsExactly(0L, 2L);
            assertThat(got).allSatisfy(m -> assertThat(m.properties()).containsEntry("TAGS", "a"));

            RemotingCommand onlyOthers = pull(c, "filtered", 1, 3, "a", 0);
            assertThat(onlyOthers.code()).isEqualTo(ResponseCode.PULL_RETRY_IMMEDIATELY);
            assertThat(onlyOthers.field("nextBeginOffset")).isEqualTo("5");
            RemotingCommand past = pull(c, "filtered", 1, 9, "*", 0);
            assertThat(past.code()).isEqualTo(ResponseCode.PULL_OFFSET_MOVED);
            assertThat(past.field("nextBeginOffset")).isEqualTo("5");
        }
    }

    @Test
    void aPullAtTheEndIsHeldUntilAMessageArrivesOrItsSuspendTimeEnds() throws Exception {
        start(Map.of());
        try (RawRemoting consumer = connect(); RawRemoting producer = connect()) {
            assertThat(send(producer, "held", 0, null, "first", 0).code()).isEqualTo(ResponseCode.SUCCESS);
            long before = System.nanoTime();
            RemotingCommand empty = pull(consumer, "held", 0, 1, "*", 300);
            assertThat(empty.code()).isEqualTo(ResponseCode.PULL_NOT_FOUND);
            assertThat((System.nanoTime() - before) / 1_000_000).isGreaterThanOrEqualTo(250);

            RemotingCommand held = request(RequestCode.PULL_MESSAGE).field("consumerGroup", "raw-g").field("topic", "held")
                    .field("queueId", 0).field("queueOffset", 1).field("maxMsgNums", 32).field("sysFlag", 2)
                    .field("commitOffset", 0).field("suspendTimeoutMillis", 20_000).field("subscription", "*")
                    .field("expressionType", "TAG");
            consumer.send(held);
            // the second pull reached the gateway (and, there being nothing at offset 1, is held)
            org.awaitility.Awaitility.await().until(() -> gw.meters.counter("omnibus.openmessaging.requests", "code",
                    String.valueOf(RequestCode.PULL_MESSAGE)).count() == 2);
            assertThat(send(producer, "held", 0, null, "second", 0).code()).isEqualTo(ResponseCode.SUCCESS);
            RemotingCommand reply = consumer.read();
            assertThat(reply.opaque()).isEqualTo(held.opaque());
            assertThat(reply.code()).isEqualTo(ResponseCode.SUCCESS);
            assertThat(StandardCharsets.UTF_8.decode(WireMessage.decodeStored(reply.body()).body()).toString())
                    .isEqualTo("second");
        }
    }

    @Test
    void theGatewaysBookkeepingHeadersCannotBeSentIn() throws Exception {
        start(Map.of("delay-levels", "200ms"));
        try (RawRemoting c = connect()) {
            RemotingCommand reply = c.call(request(RequestCode.SEND_MESSAGE).field("producerGroup", "raw")
                    .field("topic", "mine").field("queueId", 0).field("sysFlag", 0).field("bornTimestamp", 1).field("flag", 0)
                    .field("properties", "DELAY\u00011\u0002rocketmq.internal.target\u0001$rocketmq/half\u0002"
                            + "rocketmq.internal.queue\u0001x\u0002")
                    .body("redirect?".getBytes(StandardCharsets.UTF_8)));
            assertThat(reply.code()).isEqualTo(ResponseCode.SUCCESS);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> gw.broker.logs().endOffset(io.omnibus.core.spi.Address.of("mine"), 0) == 1);
            RemotingCommand pulled = pull(c, "mine", 0, 0, "*", 0);
            WireMessage m = WireMessage.decodeStored(pulled.body());
            assertThat(m.properties()).doesNotContainKeys("rocketmq.internal.target", "rocketmq.internal.queue");
        }
    }

    @Test
    void propertiesBeyondRocketMqsLayoutAreRefusedOnSendAndCutOnDelivery() throws Exception {
        start(Map.of());
        try (RawRemoting c = connect()) {
            String huge = "big\u0001" + "x".repeat(40_000) + "\u0002";
            RemotingCommand refused = c.call(request(RequestCode.SEND_MESSAGE).field("producerGroup", "raw")
                    .field("topic", "props").field("queueId", 0).field("sysFlag", 0).field("properties", huge)
                    .body("x".getBytes(StandardCharsets.UTF_8)));
            assertThat(refused.code()).isEqualTo(ResponseCode.MESSAGE_ILLEGAL);

            // another protocol's message with more headers than RocketMQ can carry: delivered, the excess cut, counted
            io.omnibus.core.spi.Envelope.Builder b = io.omnibus.core.spi.Envelope.builder("props").payload("kept")
                    .messageId("ID-1");
            for (int i = 0; i < 40; i++) {
                b.header("h" + i, "y".repeat(1_000));
            }
            io.omnibus.core.harness.TestGateway.await(gw.broker.logs().partitions(
                    io.omnibus.core.spi.Address.of("props"), 1, true));
            io.omnibus.core.harness.TestGateway.await(gw.broker.logs().append(b.build(), 0));
            RemotingCommand pulled = pull(c, "props", 0, 0, "*", 0);
            assertThat(pulled.code()).isEqualTo(ResponseCode.SUCCESS);
            WireMessage m = WireMessage.decodeStored(pulled.body());
            assertThat(StandardCharsets.UTF_8.decode(m.body()).toString()).isEqualTo("kept");
            assertThat(m.properties()).containsEntry("UNIQ_KEY", "ID-1").containsKey("h0").doesNotContainKey("h39");
            assertThat(gw.meters.counter("omnibus.openmessaging.properties.cut").count()).isEqualTo(1);
        }
    }

    @Test
    void pullsPastMaxHeldPullsAreAnsweredAtOnce() throws Exception {
        start(Map.of("max-held-pulls", 1));
        try (RawRemoting c = connect()) {
            assertThat(send(c, "waits", 0, null, "m", 0).code()).isEqualTo(ResponseCode.SUCCESS);
            RemotingCommand held = request(RequestCode.PULL_MESSAGE).field("consumerGroup", "g").field("topic", "waits")
                    .field("queueId", 0).field("queueOffset", 1).field("maxMsgNums", 1).field("sysFlag", 2)
                    .field("suspendTimeoutMillis", 20_000);
            c.send(held);
            long before = System.nanoTime();
            RemotingCommand second = pull(c, "waits", 0, 1, "*", 20_000);
            assertThat(second.opaque()).isNotEqualTo(held.opaque());
            assertThat(second.code()).isEqualTo(ResponseCode.PULL_NOT_FOUND);
            assertThat((System.nanoTime() - before) / 1_000_000).isLessThan(10_000);
        }
    }

    @Test
    void usersConfiguredMeanNoPermissionForRocketMqClients() throws Exception {
        gw = io.omnibus.core.harness.TestGateway.builder()
                .users(List.of(Map.of("username", "u", "password-hash", io.omnibus.core.config.StaticUsers.hash("secret"))))
                .adapter(new OpenMessagingAdapterFactory(), Map.of()).start();
        try (RawRemoting c = connect()) {
            RemotingCommand reply = c.call(request(RequestCode.GET_ROUTEINFO_BY_TOPIC).field("topic", "t"));
            assertThat(reply.code()).isEqualTo(ResponseCode.NO_PERMISSION);
        }
    }
}
