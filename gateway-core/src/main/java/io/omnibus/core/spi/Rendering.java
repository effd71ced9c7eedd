package io.omnibus.core.spi;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** Values as {@link ProtocolAdapter#render} shows them: text when it is UTF-8, else base64, with the kind and size. */
public final class Rendering {
    /** Longest text or base64 shown in full; longer values are cut (the size says how long they are). */
    private static final int SHOWN = 4096;

    private Rendering() {
    }

    /** A body: its kind ({@code text} when UTF-8, else {@code bytes}), size and content. */
    public static Map<String, Object> body(ByteBuffer payload, String kind) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("kind", kind);
        out.put("size", payload.remaining());
        out.putAll(value(payload));
        return out;
    }

    /** A binary value: {@code {"text": ...}} when it is UTF-8, else {@code {"base64": ...}}. */
    public static Map<String, Object> value(ByteBuffer b) {
        ByteBuffer v = b.duplicate();
        if (v.remaining() > SHOWN) {
            v.limit(v.position() + SHOWN);
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(v.duplicate()).toString();
            return Map.of("text", text);
        } catch (CharacterCodingException e) {
            byte[] bytes = new byte[v.remaining()];
            v.get(bytes);
            return Map.of("base64", Base64.getEncoder().encodeToString(bytes));
        }
    }

    public static Map<String, Object> value(byte[] b) {
        return value(ByteBuffer.wrap(b));
    }
}
