package io.omnibus.openmessaging.remoting;

import org.apache.rocketmq.remoting.protocol.SerializeType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Our frames against RocketMQ's own codec (the client's RemotingCommand), both header serializations, both ways. */
class RemotingCodecTest {

    @ParameterizedTest
    @EnumSource(SerializeType.class)
    void decodesWhatRocketMqEncodes(SerializeType type) throws Exception {
        org.apache.rocketmq.remoting.protocol.RemotingCommand theirs =
                org.apache.rocketmq.remoting.protocol.RemotingCommand.createRequestCommand(310, null);
        HashMap<String, String> fields = new HashMap<>();
        fields.put("b", "orders");
        fields.put("e", "3");
        fields.put("i", "KEYS\u0001k1\u0002");
        theirs.setExtFields(fields);
        theirs.setRemark("température");
        theirs.setSerializeTypeCurrentRPC(type);
        theirs.setBody("payload".getBytes(StandardCharsets.UTF_8));
        theirs.markOnewayRPC();
        ByteBuffer frame = theirs.encode();
        frame.getInt(); // the length prefix, which the frame decoder takes off

        RemotingCommand ours = RemotingCodec.decode(frame);
        assertThat(ours.code()).isEqualTo(310);
        assertThat(ours.opaque()).isEqualTo(theirs.getOpaque());
        assertThat(ours.isOneway()).isTrue();
        assertThat(ours.isResponse()).isFalse();
        assertThat(ours.remark()).isEqualTo("température");
        assertThat(ours.fields()).isEqualTo(fields);
        assertThat(ours.serializeType()).isEqualTo((byte) type.getCode());
        assertThat(StandardCharsets.UTF_8.decode(ours.body()).toString()).isEqualTo("payload");
    }

    @ParameterizedTest
    @EnumSource(SerializeType.class)
    void rocketMqDecodesWhatWeEncode(SerializeType type) throws Exception {
        RemotingCommand request = RemotingCommand.request(11, 42).serializeType((byte) type.getCode());
        RemotingCommand reply = request.reply(ResponseCode.PULL_NOT_FOUND, "nothing yet").field("nextBeginOffset", 7L)
                .field("minOffset", 0).bodyParts(new ByteBuffer[] {ByteBuffer.wrap(new byte[] {1, 2}),
                    ByteBuffer.wrap(new byte[] {3})});
        ByteBuffer frame = RemotingCodec.encode(reply);
        assertThat(frame.getInt(0)).isEqualTo(frame.remaining() - 4);
        frame.getInt();

        org.apache.rocketmq.remoting.protocol.RemotingCommand theirs =
                org.apache.rocketmq.remoting.protocol.RemotingCommand.decode(frame);
        assertThat(theirs.getCode()).isEqualTo(ResponseCode.PULL_NOT_FOUND);
        assertThat(theirs.getOpaque()).isEqualTo(42);
        assertThat(theirs.isResponseType()).isTrue();
        assertThat(theirs.getRemark()).isEqualTo("nothing yet");
        assertThat(theirs.getExtFields()).containsEntry("nextBeginOffset", "7").containsEntry("minOffset", "0");
        assertThat(theirs.getBody()).containsExactly(1, 2, 3);
        assertThat(theirs.getSerializeTypeCurrentRPC()).isEqualTo(type);
    }

    @Test
    void aHeaderLongerThanItsFrameIsMalformed() {
        ByteBuffer frame = ByteBuffer.allocate(12).putInt(100).putInt(0).putInt(0).flip();
        assertThatThrownBy(() -> RemotingCodec.decode(frame)).isInstanceOf(RemotingCodec.MalformedFrameException.class)
                .hasMessageContaining("beyond the frame");
    }

    @Test
    void anUnknownSerializeTypeIsMalformed() {
        ByteBuffer frame = ByteBuffer.allocate(8).putInt(7 << 24 | 2).put((byte) '{').put((byte) '}').flip();
        assertThatThrownBy(() -> RemotingCodec.decode(frame)).isInstanceOf(RemotingCodec.MalformedFrameException.class)
                .hasMessageContaining("serialize type 7");
    }

    @Test
    void aJsonHeaderThatIsNotJsonIsMalformed() {
        byte[] header = "{\"code\":".getBytes(StandardCharsets.UTF_8);
        ByteBuffer frame = ByteBuffer.allocate(4 + header.length).putInt(header.length).put(header).flip();
        assertThatThrownBy(() -> RemotingCodec.decode(frame)).isInstanceOf(RemotingCodec.MalformedFrameException.class);
    }

    @Test
    void aBinaryHeaderWithFieldsBeyondItIsMalformed() {
        ByteBuffer header = ByteBuffer.allocate(21).putShort((short) 10).put((byte) 0).putShort((short) 0).putInt(1)
                .putInt(0).putInt(0).putInt(1000).flip();
        ByteBuffer frame = ByteBuffer.allocate(4 + header.remaining()).putInt(1 << 24 | header.remaining()).put(header).flip();
        assertThatThrownBy(() -> RemotingCodec.decode(frame)).isInstanceOf(RemotingCodec.MalformedFrameException.class)
                .hasMessageContaining("beyond the header");
    }
}
