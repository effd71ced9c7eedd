package io.omnibus.amqp;

import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.AmqpSequence;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.DeliveryAnnotations;
import org.apache.qpid.proton.amqp.messaging.Footer;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.codec.AMQPDefinedTypes;
import org.apache.qpid.proton.codec.DecoderImpl;
import org.apache.qpid.proton.codec.EncoderImpl;
import org.apache.qpid.proton.message.Message;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** A transfer's bytes as a message, read section by section [AMQP 3.2]. */
final class Sections {
    private static final ThreadLocal<DecoderImpl> DECODER = ThreadLocal.withInitial(() -> {
        DecoderImpl decoder = new DecoderImpl();
        AMQPDefinedTypes.registerAllTypes(decoder, new EncoderImpl(decoder));
        return decoder;
    });

    private Sections() {
    }

    /**
     * Decodes a transfer's message section by section [AMQP 3.2]. Unlike proton-j's {@code Message.decode}, which keeps
     * the first of several body sections and drops the rest, a body of several {@code data} sections becomes one
     * (their bytes in order) and one of several {@code amqp-sequence} sections one sequence (their lists in order);
     * sections out of the spec's order, or a body mixing kinds, are refused with {@link IllegalArgumentException}.
     */
    static Message decode(byte[] bytes, int length) {
        DecoderImpl decoder = DECODER.get();
        ByteBuffer buffer = ByteBuffer.wrap(bytes, 0, length);
        decoder.setByteBuffer(buffer);
        Message m = Message.Factory.create();
        int stage = -1; // 0 header, 1 delivery annotations, 2 message annotations, 3 properties, 4 application
                        // properties, 5 body, 6 footer: each section comes after those before it
        java.io.ByteArrayOutputStream data = null;
        List<Object> sequence = null;
        try {
            while (buffer.hasRemaining()) {
                Object section = decoder.readObject();
                int at = stageOf(section);
                boolean moreBody = at == 5 && stage == 5 && m.getBody() == null
                        && (section instanceof Data && data != null || section instanceof AmqpSequence && sequence != null);
                if (at < stage || at == stage && at != 5 || at == 5 && stage == 5 && !moreBody) {
                    throw new IllegalArgumentException("sections out of order or repeated: "
                            + section.getClass().getSimpleName() + " after the " + SECTIONS[stage]);
                }
                stage = at;
                if (section instanceof org.apache.qpid.proton.amqp.messaging.Header h) {
                    m.setHeader(h);
                } else if (section instanceof DeliveryAnnotations d) {
                    m.setDeliveryAnnotations(d);
                } else if (section instanceof MessageAnnotations a) {
                    m.setMessageAnnotations(a);
                } else if (section instanceof Properties p) {
                    m.setProperties(p);
                } else if (section instanceof ApplicationProperties a) {
                    m.setApplicationProperties(a);
                } else if (section instanceof Data d) {
                    if (data == null) {
                        data = new java.io.ByteArrayOutputStream();
                    }
                    if (d.getValue() != null) {
                        data.write(d.getValue().getArray(), d.getValue().getArrayOffset(), d.getValue().getLength());
                    }
                } else if (section instanceof AmqpSequence q) {
                    if (sequence == null) {
                        sequence = new ArrayList<>();
                    }
                    if (q.getValue() != null) {
                        sequence.addAll(q.getValue());
                    }
                } else if (section instanceof AmqpValue v) {
                    m.setBody(v);
                } else {
                    m.setFooter((Footer) section);
                }
            }
        } finally {
            decoder.setByteBuffer(null);
        }
        if (data != null) {
            m.setBody(new Data(new Binary(data.toByteArray())));
        } else if (sequence != null) {
            m.setBody(new AmqpSequence(sequence));
        }
        return m;
    }

    private static final String[] SECTIONS = {"header", "delivery annotations", "message annotations", "properties",
        "application properties", "body", "footer"};

    /** Where a section stands in a message [AMQP 3.2]: 0 header ... 5 body, 6 footer. */
    private static int stageOf(Object section) {
        if (section instanceof org.apache.qpid.proton.amqp.messaging.Header) {
            return 0;
        } else if (section instanceof DeliveryAnnotations) {
            return 1;
        } else if (section instanceof MessageAnnotations) {
            return 2;
        } else if (section instanceof Properties) {
            return 3;
        } else if (section instanceof ApplicationProperties) {
            return 4;
        } else if (section instanceof Data || section instanceof AmqpSequence || section instanceof AmqpValue) {
            return 5;
        } else if (section instanceof Footer) {
            return 6;
        }
        throw new IllegalArgumentException("not a message section: " + section);
    }

}
