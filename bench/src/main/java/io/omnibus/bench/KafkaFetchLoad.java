package io.omnibus.bench;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Kafka fetch load that costs its client little: CONNECTIONS connections each read their share of offsets
 * {@code [0, RECORDS)} of one partition with Fetch v4 requests (1 MiB per partition, one request in flight per
 * connection, as a consumer has), and count records from the record batches' headers without decoding a record
 * (no CRC check, no decompression, no deserializer). {@code kafka-consumer-perf-test} decodes every record on one
 * thread; on two cores it is the bottleneck on either server, so its figure measures itself. Adding connections
 * until a server's rate stops rising shows the server saturated.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.omnibus.bench.KafkaFetchLoad HOST:PORT TOPIC RECORDS [CONNECTIONS [PARTITION]]</pre>
 *
 * Prints {@code fetch connections=N records=R bytes=B in S s: X rec/s, Y MiB/s}. Assumes the address given leads
 * the partition (one broker, or one gateway node).
 */
public final class KafkaFetchLoad {
    private static final short FETCH = 1;
    private static final short VERSION = 4;
    private static final int PARTITION_MAX_BYTES = 1 << 20;

    private KafkaFetchLoad() {
    }

    public static void main(String[] args) throws Exception {
        String topic = args[1];
        long records = Long.parseLong(args[2]);
        int connections = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        int partition = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        AtomicLong got = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        double seconds = onConnections(args[0], connections, "fetch", got, records, (s, i) -> {
            s.setReceiveBufferSize(4 << 20);
            read(s, topic, partition, records * i / connections, records * (i + 1) / connections, got, bytes);
        });
        System.out.printf("fetch connections=%d records=%d bytes=%d in %.2f s: %.0f rec/s, %.1f MiB/s%n", connections,
                got.get(), bytes.get(), seconds, got.get() / seconds, bytes.get() / seconds / (1 << 20));
    }

    /** What one connection of a load does with its socket; {@code index} is the connection's, from 0. */
    interface OnConnection {
        void run(Socket s, int index) throws Exception;
    }

    /**
     * Runs {@code task} on {@code connections} sockets to {@code hostPort}, a thread each, with progress lines
     * ({@code done} of {@code total}), and returns the seconds they took together; the first failure ends the process
     * (status 1) with its stack trace. Shared with {@link KafkaProduceLoad}.
     */
    static double onConnections(String hostPort, int connections, String name, AtomicLong done, long total,
                                OnConnection task) throws InterruptedException {
        String[] address = hostPort.split(":");
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        long began = System.nanoTime();
        for (int i = 0; i < connections; i++) {
            int index = i;
            Thread t = new Thread(() -> {
                try (Socket s = new Socket(address[0], Integer.parseInt(address[1]))) {
                    s.setTcpNoDelay(true);
                    task.run(s, index);
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, name + "-" + i);
            t.start();
            threads.add(t);
        }
        Thread progress = Progress.start(name + ": ", done::get, total, done::get);
        for (Thread t : threads) {
            t.join();
        }
        progress.interrupt();
        double seconds = (System.nanoTime() - began) / 1e9;
        if (!failures.isEmpty()) {
            failures.get(0).printStackTrace();
            System.exit(1);
        }
        return seconds;
    }

    /** Fetches offsets {@code [from, to)}, counting the records of that range and the bytes of their batches. */
    private static void read(Socket s, String topic, int partition, long from, long to, AtomicLong got,
                             AtomicLong bytes) throws IOException {
        DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(s.getOutputStream(), 256));
        DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
        byte[] topicName = topic.getBytes(StandardCharsets.UTF_8);
        byte[] clientId = "omnibus-fetch-load".getBytes(StandardCharsets.UTF_8);
        byte[] response = new byte[PARTITION_MAX_BYTES + (1 << 16)];
        long offset = from;
        int correlation = 0;
        while (offset < to) {
            int size = 2 + 2 + 4 + 2 + clientId.length + 4 + 4 + 4 + 4 + 1 + 4 + 2 + topicName.length + 4 + 4 + 8 + 4;
            out.writeInt(size);
            out.writeShort(FETCH);
            out.writeShort(VERSION);
            out.writeInt(++correlation);
            out.writeShort(clientId.length);
            out.write(clientId);
            out.writeInt(-1); // replica id: a consumer
            out.writeInt(500); // max wait
            out.writeInt(1); // min bytes
            out.writeInt(PARTITION_MAX_BYTES); // max bytes
            out.writeByte(0); // read uncommitted
            out.writeInt(1);
            out.writeShort(topicName.length);
            out.write(topicName);
            out.writeInt(1);
            out.writeInt(partition);
            out.writeLong(offset);
            out.writeInt(PARTITION_MAX_BYTES);
            out.flush();
            int length = in.readInt();
            if (length > response.length) {
                response = new byte[length];
            }
            in.readFully(response, 0, length);
            ByteBuffer b = ByteBuffer.wrap(response, 0, length);
            if (b.getInt() != correlation) {
                throw new IOException("response to another request");
            }
            b.getInt(); // throttle time
            b.getInt(); // one topic
            b.position(b.position() + 2 + b.getShort(b.position()));
            b.getInt(); // one partition
            b.getInt();
            short error = b.getShort();
            if (error != 0) {
                throw new IOException("fetch of " + topic + "-" + partition + " at " + offset + ": error code " + error);
            }
            long highWatermark = b.getLong();
            b.getLong(); // last stable offset
            int aborted = b.getInt();
            b.position(b.position() + Math.max(0, aborted) * 16);
            int recordsSize = b.getInt();
            int end = b.position() + Math.max(0, recordsSize);
            long next = offset;
            while (end - b.position() >= 61) {
                int start = b.position();
                long base = b.getLong(start);
                int batchLength = b.getInt(start + 8);
                if (end - start < 12 + batchLength) {
                    break; // a partial batch at the end: fetched again from its start
                }
                long last = base + b.getInt(start + 23);
                long first = Math.max(base, next);
                long until = Math.min(last + 1, to);
                if (until > first) {
                    got.addAndGet(until - first);
                }
                bytes.addAndGet(12 + batchLength);
                next = Math.max(next, last + 1);
                b.position(start + 12 + batchLength);
            }
            if (next == offset && recordsSize > 0 && end - b.position() > 0) {
                throw new IOException("a batch larger than " + PARTITION_MAX_BYTES + " bytes at " + offset);
            }
            if (next == offset && highWatermark <= offset) {
                throw new IOException(topic + "-" + partition + " ends at " + highWatermark + ", before " + to);
            }
            offset = next;
        }
    }
}
