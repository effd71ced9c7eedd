package io.omnibus.openmessaging.remoting;

import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageDecoder;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The message layouts against RocketMQ's own MessageDecoder. */
class WireMessageTest {
    private static final byte[] HOST = {10, 1, 2, 3};

    @Test
    void rocketMqDecodesOurStoredLayout() throws Exception {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("TAGS", "red");
        props.put("UNIQ_KEY", "ABC");
        props.put("user", "value with spaces");
        WireMessage m = new WireMessage("orders", 3, 9, 0, 41, 0x1234_5678_9AL, 1000, 2000, 2, 0,
                ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)), props);
        ByteBuffer two = ByteBuffer.allocate(1024);
        two.put(m.encodeStoredWhole(HOST, 9876)).put(m.encodeStoredWhole(HOST, 9876)).flip();

        List<MessageExt> decoded = MessageDecoder.decodes(two);
        assertThat(decoded).hasSize(2);
        MessageExt d = decoded.get(0);
        assertThat(d.getTopic()).isEqualTo("orders");
        assertThat(d.getQueueId()).isEqualTo(3);
        assertThat(d.getFlag()).isEqualTo(9);
        assertThat(d.getQueueOffset()).isEqualTo(41);
        assertThat(d.getCommitLogOffset()).isEqualTo(0x1234_5678_9AL);
        assertThat(d.getBornTimestamp()).isEqualTo(1000);
        assertThat(d.getStoreTimestamp()).isEqualTo(2000);
        assertThat(d.getReconsumeTimes()).isEqualTo(2);
        assertThat(new String(d.getBody(), StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(d.getBodyCRC()).isEqualTo(org.apache.rocketmq.common.UtilAll.crc32("hello".getBytes(StandardCharsets.UTF_8)));
        assertThat(d.getTags()).isEqualTo("red");
        assertThat(d.getProperty("user")).isEqualTo("value with spaces");
        assertThat(d.getMsgId()).isEqualTo("ABC"); // the client's id (UNIQ_KEY) when there is one
        String offsetMsgId = ((MessageClientExt) d).getOffsetMsgId();
        assertThat(offsetMsgId).isEqualTo(WireMessage.offsetMessageId(HOST, 9876, 0x1234_5678_9AL));
        assertThat(WireMessage.physicalOffsetOf(offsetMsgId)).isEqualTo(0x1234_5678_9AL);
        assertThat(MessageDecoder.decodeMessageId(offsetMsgId).getOffset()).isEqualTo(0x1234_5678_9AL);

        ByteBuffer again = m.encodeStoredWhole(HOST, 9876);
        WireMessage back = WireMessage.decodeStored(again);
        assertThat(back.properties()).isEqualTo(props);
        assertThat(back.queueOffset()).isEqualTo(41);
        assertThat(again.hasRemaining()).isFalse();
    }

    @Test
    void decodesRocketMqsBatchLayout() {
        Message a = new Message("t", "ta", "ka", "first".getBytes(StandardCharsets.UTF_8));
        a.setFlag(5);
        Message b = new Message("t", "second".getBytes(StandardCharsets.UTF_8));
        b.putUserProperty("x", "y");
        byte[] body = MessageDecoder.encodeMessages(List.of(a, b));

        List<WireMessage.BatchItem> items = WireMessage.decodeBatch(ByteBuffer.wrap(body));
        assertThat(items).hasSize(2);
        assertThat(items.get(0).flag()).isEqualTo(5);
        assertThat(StandardCharsets.UTF_8.decode(items.get(0).body()).toString()).isEqualTo("first");
        assertThat(items.get(0).properties()).containsEntry("TAGS", "ta").containsEntry("KEYS", "ka");
        assertThat(items.get(1).properties()).containsEntry("x", "y");
    }

    @Test
    void aTruncatedOrLyingBatchIsRefused() {
        byte[] body = MessageDecoder.encodeMessages(List.of(new Message("t", "abc".getBytes(StandardCharsets.UTF_8))));
        assertThatThrownBy(() -> WireMessage.decodeBatch(ByteBuffer.wrap(body, 0, body.length - 1)))
                .isInstanceOf(IllegalArgumentException.class);
        ByteBuffer lying = ByteBuffer.wrap(body.clone());
        lying.putInt(16, 1_000_000); // the body length
        assertThatThrownBy(() -> WireMessage.decodeBatch(lying)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void propertiesWithSeparatorsAreLeftOut() {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("ok", "1");
        props.put("bad\u0001name", "2");
        props.put("bad-value", "a\u0002b");
        assertThat(WireMessage.parseProperties(WireMessage.propertiesString(props))).containsExactly(Map.entry("ok", "1"));
    }
}
