package io.omnibus.core.spi;

import java.nio.charset.StandardCharsets;

/** Checks shared by {@link Address} and {@link TopicFilter}: the MQTT rules for topic strings. */
final class Names {
    static final int MAX_UTF8_BYTES = 65_535;

    private Names() {
    }

    static void checkCommon(String kind, String value) {
        if (value == null) {
            throw new InvalidAddressException(kind + " is missing");
        }
        if (value.isEmpty()) {
            throw new InvalidAddressException(kind + " is empty; it must be at least one character long [MQTT-4.7.3-1]");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\u0000') {
                throw new InvalidAddressException(kind + " '" + printable(value) + "' contains the null character U+0000 at index "
                        + i + " [MQTT-4.7.3-2]");
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= value.length() || !Character.isLowSurrogate(value.charAt(i + 1))) {
                    throw new InvalidAddressException(kind + " '" + printable(value) + "' has an unpaired surrogate at index " + i
                            + "; it is not well-formed UTF-8 [MQTT-1.5.4-1]");
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                throw new InvalidAddressException(kind + " '" + printable(value) + "' has an unpaired surrogate at index " + i
                        + "; it is not well-formed UTF-8 [MQTT-1.5.4-1]");
            }
        }
        int bytes = utf8Length(value);
        if (bytes > MAX_UTF8_BYTES) {
            throw new InvalidAddressException(kind + " is " + bytes + " bytes of UTF-8; the limit is " + MAX_UTF8_BYTES
                    + " [MQTT-4.7.3-3]");
        }
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    static String printable(String s) {
        String shortened = s.length() > 80 ? s.substring(0, 77) + "..." : s;
        return shortened.replace("\u0000", "\\u0000");
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
