package io.omnibus.core.store.file;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.TopicPartition;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * What the store keeps besides messages: durable subscriptions with their cursors, and key-value
 * state. Changes to subscriptions, cursors and state are commit-log records, replayed after the last
 * checkpoint in log order. A new subscription's cursors start at the end of every partition it
 * matches at its record's place in the log, so a partition without a cursor is one that began after
 * it: all of it is the subscription's. The checkpoint file holds all of it plus each partition's
 * index state, written whole to a temporary file and renamed.
 */
final class StoreState {
    static final byte SUBSCRIPTION_PUT = 1;
    static final byte SUBSCRIPTION_DELETE = 2;
    static final byte STATE_PUT = 3;
    static final byte STATE_DELETE = 4;
    static final byte CURSOR_PUT = 5;
    private static final int CHECKPOINT_MAGIC = 0x4f4d434b; // "OMCK"

    record Durable(SubscriptionRecord record, Map<TopicPartition, CursorState> cursors) {
    }

    record PartitionState(TopicPartition tp, long start, long next, long bytes) {
    }

    record Checkpoint(long logPosition, List<PartitionState> partitions) {
    }

    final ConcurrentHashMap<String, Durable> subscriptions = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, ConcurrentHashMap<String, byte[]>> states = new ConcurrentHashMap<>();

    // ---- change records (commit log, magic 2) ------------------------------------------------------

    static byte[] subscriptionPut(SubscriptionRecord r) {
        return change(SUBSCRIPTION_PUT, out -> {
            writeString(out, r.name());
            writeString(out, r.filter());
            out.writeUTF(r.policy() == null ? "" : r.policy().name());
            writeSelection(out, r); // added later: records written before end here
        });
    }

    static byte[] cursorPut(String subscription, TopicPartition tp, CursorState c) {
        return change(CURSOR_PUT, out -> {
            writeString(out, subscription);
            writeCursor(out, tp, c);
        });
    }

    static byte[] subscriptionDelete(String name) {
        return change(SUBSCRIPTION_DELETE, out -> writeString(out, name));
    }

    static byte[] statePut(String namespace, String key, byte[] value) {
        return change(value == null ? STATE_DELETE : STATE_PUT, out -> {
            out.writeUTF(namespace);
            writeString(out, key);
            if (value != null) {
                out.writeInt(value.length);
                out.write(value);
            }
        });
    }

    /** Where a subscription created now starts reading: the end of each partition its filter matches. */
    interface Ends {
        Map<TopicPartition, CursorState> at(String filter);
    }

    /** Applies one change record's body, as written by the methods above. */
    void apply(ByteBuffer body, Ends ends) throws IOException {
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(body.array(),
                body.arrayOffset() + body.position(), body.remaining()));
        byte kind = in.readByte();
        switch (kind) {
            case SUBSCRIPTION_PUT -> {
                String name = readString(in);
                String filter = readString(in);
                String policy = in.readUTF();
                String[] selection = in.available() > 0 ? readSelection(in) : new String[2];
                if (!subscriptions.containsKey(name)) {
                    subscriptions.put(name, new Durable(new SubscriptionRecord(name, filter,
                            policy.isEmpty() ? null : DispatchPolicy.valueOf(policy), selection[0], selection[1]),
                            new ConcurrentHashMap<>(ends.at(filter))));
                }
            }
            case SUBSCRIPTION_DELETE -> subscriptions.remove(readString(in));
            case CURSOR_PUT -> {
                Durable d = subscriptions.get(readString(in));
                TopicPartition tp = new TopicPartition(Address.of(readString(in)), in.readInt());
                CursorState c = readCursor(in);
                if (d != null) { // written before the subscription's delete, or for one never saved
                    d.cursors().put(tp, c);
                }
            }
            case STATE_PUT -> {
                String ns = in.readUTF();
                String key = readString(in);
                byte[] value = new byte[in.readInt()];
                in.readFully(value);
                states.computeIfAbsent(ns, n -> new ConcurrentHashMap<>()).put(key, value);
            }
            case STATE_DELETE -> {
                String ns = in.readUTF();
                String key = readString(in);
                Map<String, byte[]> m = states.get(ns);
                if (m != null) {
                    m.remove(key);
                }
            }
            default -> throw new IOException("unknown state change kind " + kind);
        }
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] change(byte kind, Body body) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(kind);
            body.write(out);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- checkpoint file ----------------------------------------------------------------------------

    void writeCheckpoint(Path file, Checkpoint cp) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(4096);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(CHECKPOINT_MAGIC);
        out.writeInt(2); // 2: subscriptions with their selection
        out.writeLong(cp.logPosition());
        out.writeInt(cp.partitions().size());
        for (PartitionState p : cp.partitions()) {
            writeString(out, p.tp().address().name());
            out.writeInt(p.tp().partition());
            out.writeLong(p.start());
            out.writeLong(p.next());
            out.writeLong(p.bytes());
        }
        out.writeInt(subscriptions.size());
        for (Durable d : subscriptions.values()) {
            writeString(out, d.record().name());
            writeString(out, d.record().filter());
            out.writeUTF(d.record().policy() == null ? "" : d.record().policy().name());
            writeSelection(out, d.record());
            Map<TopicPartition, CursorState> cursors = Map.copyOf(d.cursors());
            out.writeInt(cursors.size());
            for (Map.Entry<TopicPartition, CursorState> c : cursors.entrySet()) {
                writeCursor(out, c.getKey(), c.getValue());
            }
        }
        out.writeInt(states.size());
        for (Map.Entry<String, ConcurrentHashMap<String, byte[]>> ns : states.entrySet()) {
            out.writeUTF(ns.getKey());
            Map<String, byte[]> entries = Map.copyOf(ns.getValue());
            out.writeInt(entries.size());
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                writeString(out, e.getKey());
                out.writeInt(e.getValue().length);
                out.write(e.getValue());
            }
        }
        out.flush();
        CRC32C crc = new CRC32C();
        crc.update(bytes.toByteArray());
        out.writeInt((int) crc.getValue());
        out.flush();

        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray());
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** Reads a checkpoint, restoring subscriptions, cursors and state; null when there is none. */
    Checkpoint readCheckpoint(Path file) throws IOException {
        if (!Files.exists(file)) {
            return null;
        }
        byte[] all = Files.readAllBytes(file);
        if (all.length < 12) {
            throw new IOException("checkpoint " + file + " is truncated");
        }
        CRC32C crc = new CRC32C();
        crc.update(all, 0, all.length - 4);
        if ((int) crc.getValue() != ByteBuffer.wrap(all, all.length - 4, 4).getInt()) {
            throw new IOException("checkpoint " + file + " fails its CRC");
        }
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(all, 0, all.length - 4));
        int version = in.readInt() == CHECKPOINT_MAGIC ? in.readInt() : -1;
        if (version != 1 && version != 2) {
            throw new IOException("checkpoint " + file + " has an unknown format");
        }
        long position = in.readLong();
        int n = in.readInt();
        List<PartitionState> partitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            TopicPartition tp = new TopicPartition(Address.of(readString(in)), in.readInt());
            partitions.add(new PartitionState(tp, in.readLong(), in.readLong(), in.readLong()));
        }
        int subs = in.readInt();
        for (int i = 0; i < subs; i++) {
            String name = readString(in);
            String filter = readString(in);
            String policy = in.readUTF();
            String[] selection = version >= 2 ? readSelection(in) : new String[2];
            Map<TopicPartition, CursorState> cursors = new ConcurrentHashMap<>();
            int c = in.readInt();
            for (int j = 0; j < c; j++) {
                TopicPartition tp = new TopicPartition(Address.of(readString(in)), in.readInt());
                cursors.put(tp, readCursor(in));
            }
            subscriptions.put(name, new Durable(new SubscriptionRecord(name, filter,
                    policy.isEmpty() ? null : DispatchPolicy.valueOf(policy), selection[0], selection[1]), cursors));
        }
        int namespaces = in.readInt();
        for (int i = 0; i < namespaces; i++) {
            String ns = in.readUTF();
            int entries = in.readInt();
            ConcurrentHashMap<String, byte[]> m = new ConcurrentHashMap<>();
            for (int j = 0; j < entries; j++) {
                String key = readString(in);
                byte[] v = new byte[in.readInt()];
                in.readFully(v);
                m.put(key, v);
            }
            states.put(ns, m);
        }
        return new Checkpoint(position, partitions);
    }

    Map<SubscriptionRecord, Map<TopicPartition, CursorState>> subscriptionsView() {
        Map<SubscriptionRecord, Map<TopicPartition, CursorState>> out = new LinkedHashMap<>();
        subscriptions.values().forEach(d -> out.put(d.record(), Map.copyOf(d.cursors())));
        return out;
    }

    private static void writeCursor(DataOutputStream out, TopicPartition tp, CursorState c) throws IOException {
        writeString(out, tp.address().name());
        out.writeInt(tp.partition());
        out.writeLong(c.ackedBelow());
        out.writeInt(c.ackedRanges().size());
        for (long[] r : c.ackedRanges()) {
            out.writeLong(r[0]);
            out.writeLong(r[1]);
        }
    }

    /** A cursor as {@link #writeCursor} wrote it, after its partition. */
    private static CursorState readCursor(DataInputStream in) throws IOException {
        long below = in.readLong();
        int ranges = in.readInt();
        List<long[]> rs = new ArrayList<>(ranges);
        for (int k = 0; k < ranges; k++) {
            rs.add(new long[] {in.readLong(), in.readLong()});
        }
        return new CursorState(below, rs);
    }

    /** A subscription's selector and no-local publisher, each a flag and, when set, the text. */
    private static void writeSelection(DataOutputStream out, SubscriptionRecord r) throws IOException {
        for (String s : new String[] {r.selector(), r.noLocal()}) {
            out.writeBoolean(s != null);
            if (s != null) {
                writeString(out, s);
            }
        }
    }

    private static String[] readSelection(DataInputStream in) throws IOException {
        String[] out = new String[2];
        for (int i = 0; i < 2; i++) {
            out[i] = in.readBoolean() ? readString(in) : null;
        }
        return out;
    }

    /** Strings longer than writeUTF allows (addresses reach 65,535 bytes). */
    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }
}
