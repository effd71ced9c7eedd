package io.omnibus.core.spi;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How each envelope field travels in and out of each protocol (the resource {@code translation.tsv}): the one
 * source of truth that the admin API's {@code /api/translation}, the loss counters ({@link TranslationLosses}),
 * docs/translation.md (generated from it) and the translation matrix test all read.
 */
public final class TranslationTable {
    /** The protocols of the table, as the API and the counters name them. */
    public static final List<String> PROTOCOLS = List.of("mqtt3", "mqtt5", "amqp", "kafka", "rocketmq");

    /** How a protocol carries a field. */
    public enum Carry {
        /** In the protocol's own field, both ways. */
        NATIVE,
        /** Natively when the value is text; a binary value is lost. */
        TEXT,
        /** Another way: a header or property of a fixed name, an annotation, an approximation. */
        CONVERTED,
        /** Not at all: dropped on the way out, absent on the way in. */
        LOST
    }

    /** One protocol's way with one field. */
    public record Cell(Carry carry, String how) {
    }

    /** One envelope field. */
    public record Field(String name, String meaning, Map<String, Cell> cells) {
        public Cell cell(String protocol) {
            Cell c = cells.get(protocol);
            if (c == null) {
                throw new IllegalArgumentException("no protocol " + protocol + "; the table's are " + PROTOCOLS);
            }
            return c;
        }
    }

    /** What becomes of one field from one protocol to another. */
    public record Outcome(String field, String meaning, Cell from, Cell to, String result) {
    }

    private static final TranslationTable TABLE = load();

    private final List<Field> fields;

    private TranslationTable(List<Field> fields) {
        this.fields = List.copyOf(fields);
    }

    public static TranslationTable get() {
        return TABLE;
    }

    public List<Field> fields() {
        return fields;
    }

    public Field field(String name) {
        for (Field f : fields) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("no field " + name);
    }

    /**
     * The result of one field from {@code from} to {@code to}: {@code n/a} when {@code from} cannot express it,
     * else {@code kept}, {@code kept when text} (a binary value is lost), {@code converted} or {@code lost}.
     */
    public static String result(Cell from, Cell to) {
        if (from.carry() == Carry.LOST) {
            return "n/a";
        }
        return switch (to.carry()) {
            case NATIVE -> "kept";
            case TEXT -> from.carry() == Carry.TEXT ? "kept" : "kept when text, else lost";
            case CONVERTED -> "converted";
            case LOST -> "lost";
        };
    }

    /** The field table of one pair, in field order. */
    public List<Outcome> pair(String from, String to) {
        List<Outcome> out = new ArrayList<>();
        for (Field f : fields) {
            out.add(new Outcome(f.name(), f.meaning(), f.cell(from), f.cell(to), result(f.cell(from), f.cell(to))));
        }
        return out;
    }

    /** docs/translation.md's generated part: the per-protocol table and the result of every pair. */
    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("## Fields, protocol by protocol\n\n| field | meaning |");
        PROTOCOLS.forEach(p -> b.append(' ').append(p).append(" |"));
        b.append("\n|---|---|");
        PROTOCOLS.forEach(p -> b.append("---|"));
        b.append('\n');
        for (Field f : fields) {
            b.append("| `").append(f.name()).append("` | ").append(f.meaning()).append(" |");
            for (String p : PROTOCOLS) {
                Cell c = f.cell(p);
                // a '|' inside a table cell, even in a code span, ends the cell unless escaped
                b.append(" **").append(c.carry().name().toLowerCase(Locale.ROOT)).append("**: ")
                        .append(c.how().replace("|", "\\|")).append(" |");
            }
            b.append('\n');
        }
        b.append("\n## Every pair: what is kept, converted, lost\n\n");
        b.append("Rows are fields, columns the protocol a message is delivered in; each table is one protocol it came in. ")
                .append("`n/a`: the first protocol cannot express the field.\n");
        for (String from : PROTOCOLS) {
            b.append("\n### From ").append(from).append("\n\n| field |");
            PROTOCOLS.forEach(p -> b.append(" to ").append(p).append(" |"));
            b.append("\n|---|");
            PROTOCOLS.forEach(p -> b.append("---|"));
            b.append('\n');
            for (Field f : fields) {
                b.append("| `").append(f.name()).append("` |");
                for (String to : PROTOCOLS) {
                    b.append(' ').append(result(f.cell(from), f.cell(to))).append(" |");
                }
                b.append('\n');
            }
        }
        return b.toString();
    }

    private static TranslationTable load() {
        try (InputStream in = TranslationTable.class.getResourceAsStream("translation.tsv")) {
            if (in == null) {
                throw new IllegalStateException("translation.tsv is missing from the classpath");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            List<Field> fields = new ArrayList<>();
            String line;
            boolean header = true;
            while ((line = r.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] cols = line.split("\t", -1);
                if (header) {
                    if (!List.of(cols).subList(2, cols.length).equals(PROTOCOLS)) {
                        throw new IllegalStateException("translation.tsv's protocols are not " + PROTOCOLS);
                    }
                    header = false;
                    continue;
                }
                if (cols.length != 2 + PROTOCOLS.size()) {
                    throw new IllegalStateException("translation.tsv: the row of " + cols[0] + " has " + cols.length + " columns");
                }
                Map<String, Cell> cells = new LinkedHashMap<>();
                for (int i = 0; i < PROTOCOLS.size(); i++) {
                    String cell = cols[2 + i];
                    int colon = cell.indexOf(':');
                    cells.put(PROTOCOLS.get(i), new Cell(Carry.valueOf(cell.substring(0, colon).trim().toUpperCase(Locale.ROOT)),
                            cell.substring(colon + 1).trim()));
                }
                fields.add(new Field(cols[0], cols[1], cells));
            }
            return new TranslationTable(fields);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
