package io.omnibus.core.spi;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnvelopeTest {
    @Test
    void headersKeepOrderAndRepeatsAndTheirKind() {
        Envelope e = Envelope.builder("a/b")
                .header("x", "1").header(Header.ofBytes("bin", new byte[] {0, (byte) 0xff})).header("x", "2")
                .payload("hi").build();
        assertThat(e.headers()).extracting(Header::name).containsExactly("x", "bin", "x");
        assertThat(e.headers("x")).extracting(Header::stringValue).containsExactly("1", "2");
        assertThat(e.header("x")).isEqualTo("1");
        assertThat(e.headers().get(1).isText()).isFalse();
        assertThat(e.headers().get(0).isText()).isTrue();
        assertThatThrownBy(() -> e.headers().add(Header.of("y", "z"))).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void payloadIsReadOnlyAndEachReaderGetsItsOwnPosition() {
        Envelope e = Envelope.builder("a").payload(new byte[] {1, 2, 3}).key("k").build();
        ByteBuffer first = e.payload();
        first.get();
        assertThat(e.payload().remaining()).isEqualTo(3);
        assertThatThrownBy(() -> e.payload().put((byte) 0)).isInstanceOf(ReadOnlyBufferException.class);
        assertThat(e.payloadSize()).isEqualTo(3);
        assertThat(e.key()).isEqualTo(ByteBuffer.wrap("k".getBytes()));
    }

    @Test
    void toBuilderCopiesEveryField() {
        Envelope e = Envelope.builder("a/b").messageId("m1").key("k").payload("p").header("h", "v")
                .contentType("text/plain").correlation(new byte[] {9}).replyTo("r/t").createdAt(5).expiresAt(10)
                .deliverAt(7).priority(9).durable(false).retain(true).deliveryCount(2)
                .origin(new Origin("mqtt", "c1", "conn-1")).build();
        Envelope copy = e.toBuilder().address(Address.of("c")).build();
        assertThat(copy.address().name()).isEqualTo("c");
        assertThat(copy.messageId()).isEqualTo("m1");
        assertThat(copy.key()).isEqualTo(e.key());
        assertThat(copy.payloadAsString()).isEqualTo("p");
        assertThat(copy.payloadUtf8()).isTrue();
        assertThat(copy.headers()).isEqualTo(e.headers());
        assertThat(copy.contentType()).isEqualTo("text/plain");
        assertThat(copy.correlation()).isEqualTo(ByteBuffer.wrap(new byte[] {9}));
        assertThat(copy.replyTo()).isEqualTo("r/t");
        assertThat(copy.createdAt()).isEqualTo(5);
        assertThat(copy.expiresAt()).isEqualTo(10);
        assertThat(copy.deliverAt()).isEqualTo(7);
        assertThat(copy.priority()).isEqualTo(9);
        assertThat(copy.durable()).isFalse();
        assertThat(copy.retain()).isTrue();
        assertThat(copy.deliveryCount()).isEqualTo(2);
        assertThat(copy.origin()).isEqualTo(new Origin("mqtt", "c1", "conn-1"));
    }

    @Test
    void invalidValuesAreRefused() {
        assertThatThrownBy(() -> Envelope.builder("a").priority(10)).hasMessageContaining("priority");
        assertThatThrownBy(() -> Envelope.builder("a").expiresAt(-1)).hasMessageContaining("expiresAt");
        assertThatThrownBy(() -> Envelope.builder("a/+")).isInstanceOf(InvalidAddressException.class);
    }
}
