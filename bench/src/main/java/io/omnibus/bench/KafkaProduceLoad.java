package io.omnibus.bench;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Kafka produce load that costs its client little, the produce side of {@link KafkaFetchLoad}: CONNECTIONS
 * connections each send their share of RECORDS records to one partition as Produce v3 requests of one record batch
 * (BATCH records of SIZE bytes, uncompressed, made once: at 64 of 1 KiB, what kafka-producer-perf-test's batches of
 * 64 KiB hold),
 * up to WINDOW requests in flight per connection (a producer's {@code max.in.flight.requests.per.connection}: 5), and
 * count the records acknowledged. {@code kafka-producer-perf-test} makes, serializes and checksums every record on
 * its own threads: on two cores it took 1.3-1.4 cores against a server's 0.4-0.5, so its figure measures itself.
 * Adding connections until a server's rate stops rising shows the server saturated.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.omnibus.bench.KafkaProduceLoad HOST:PORT TOPIC RECORDS [CONNECTIONS [ACKS [SIZE [BATCH [WINDOW]]]]]</pre>
 *
 * ACKS is 1 or -1 (all). Prints {@code produce connections=N acks=A records=R in S s: X rec/s, Y MiB/s}. The topic
 * must exist (or be made by the server at the first produce); the address given must lead partition 0.
 */
public final class KafkaProduceLoad {
    private static final short PRODUCE = 0;
    private static final short VERSION = 3;

    private KafkaProduceLoad() {
    }

    public static void main(String[] args) throws Exception {
        String topic = args[1];
        long records = Long.parseLong(args[2]);
        int connections = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        short acks = args.length > 4 ? Short.parseShort(args[4]) : -1;
        int size = args.length > 5 ? Integer.parseInt(args[5]) : 1024;
        int batch = args.length > 6 ? Integer.parseInt(args[6]) : 64;
        int window = args.length > 7 ? Integer.parseInt(args[7]) : 5;
        byte[] request = request(topic, acks, batch(batch, size));
        AtomicLong acked = new AtomicLong();
        double seconds = KafkaFetchLoad.onConnections(args[0], connections, "produce", acked, records, (s, i) -> {
            long requests = (records * (i + 1) / connections - records * i / connections + batch - 1) / batch;
            s.setSendBufferSize(4 << 20);
            produce(s, request.clone(), requests, window, batch, topic, acked);
        });
        System.out.printf("produce connections=%d acks=%d records=%d in %.2f s: %.0f rec/s, %.1f MiB/s%n", connections,
                acks, acked.get(), seconds, acked.get() / seconds, acked.get() * (double) size / seconds / (1 << 20));
    }

    /** Sends {@code requests} copies of {@code request}, up to {@code window} unanswered, and reads every answer. */
    private static void produce(Socket s, byte[] request, long requests, int window, int batch, String topic,
                                AtomicLong acked) throws IOException {
        OutputStream out = s.getOutputStream();
        DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
        ByteBuffer correlationSlot = ByteBuffer.wrap(request, 8, 4); // after the size, the api key and version
        byte[] response = new byte[1 << 16];
        long sent = 0;
        long answered = 0;
        while (answered < requests) {
            while (sent < requests && sent - answered < window) {
                correlationSlot.putInt(8, (int) ++sent);
                out.write(request);
            }
            out.flush();
            int length = in.readInt();
            if (length > response.length) {
                response = new byte[length];
            }
            in.readFully(response, 0, length);
            ByteBuffer b = ByteBuffer.wrap(response, 0, length);
            if (b.getInt() != (int) (answered + 1)) {
                throw new IOException("response to another request");
            }
            b.getInt(); // one topic
            b.position(b.position() + 2 + b.getShort(b.position()));
            b.getInt(); // one partition
            b.getInt();
            short error = b.getShort();
            if (error != 0) {
                throw new IOException("produce to " + topic + "-0: error code " + error);
            }
            answered++;
            acked.addAndGet(batch);
        }
    }

    /** A Produce v3 request (its size first) of {@code records} to partition 0 of {@code topic}. */
    private static byte[] request(String topic, short acks, byte[] records) {
        byte[] name = topic.getBytes(StandardCharsets.UTF_8);
        byte[] clientId = "omnibus-produce-load".getBytes(StandardCharsets.UTF_8);
        int size = 2 + 2 + 4 + 2 + clientId.length + 2 + 2 + 4 + 4 + 2 + name.length + 4 + 4 + 4 + records.length;
        ByteBuffer b = ByteBuffer.allocate(4 + size);
        b.putInt(size).putShort(PRODUCE).putShort(VERSION).putInt(0);
        b.putShort((short) clientId.length).put(clientId);
        b.putShort((short) -1); // no transactional id
        b.putShort(acks).putInt(30_000);
        b.putInt(1).putShort((short) name.length).put(name);
        b.putInt(1).putInt(0).putInt(records.length).put(records);
        return b.array();
    }

    /** One uncompressed record batch (magic 2) of {@code count} records with values of {@code size} bytes, no keys. */
    static byte[] batch(int count, int size) {
        ByteBuffer recs = ByteBuffer.allocate(count * (size + 32));
        byte[] value = new byte[size];
        new java.util.Random(1).nextBytes(value);
        for (int i = 0; i < count; i++) {
            ByteBuffer r = ByteBuffer.allocate(size + 32);
            r.put((byte) 0); // attributes
            varlong(r, 0); // timestamp delta
            varlong(r, i); // offset delta
            varlong(r, -1); // no key
            varlong(r, size);
            r.put(value);
            varlong(r, 0); // no headers
            r.flip();
            varlong(recs, r.remaining());
            recs.put(r);
        }
        recs.flip();
        long now = System.currentTimeMillis();
        ByteBuffer b = ByteBuffer.allocate(61 + recs.remaining());
        b.putLong(0); // base offset: the server's to give
        b.putInt(49 + recs.remaining()); // the batch's length after this field
        b.putInt(-1); // partition leader epoch
        b.put((byte) 2); // magic
        int crcAt = b.position();
        b.putInt(0); // the CRC, below
        b.putShort((short) 0); // attributes: no compression, create time
        b.putInt(count - 1); // last offset delta
        b.putLong(now).putLong(now);
        b.putLong(-1).putShort((short) -1).putInt(-1); // no producer id, epoch, sequence: not idempotent
        b.putInt(count);
        b.put(recs);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b.array(), crcAt + 4, b.capacity() - crcAt - 4);
        b.putInt(crcAt, (int) crc.getValue());
        return b.array();
    }

    /** A zigzag varint (Kafka's record fields). */
    private static void varlong(ByteBuffer b, long v) {
        long z = (v << 1) ^ (v >> 63);
        while ((z & ~0x7FL) != 0) {
            b.put((byte) ((z & 0x7F) | 0x80));
            z >>>= 7;
        }
        b.put((byte) z);
    }
}
