package io.omnibus.bench;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * What a broker's session and topic counts do to each new session: first TOPICS QoS 1 publishes to topics
 * {@code sessions/t/0 ..} (each a new address), then SESSIONS persistent MQTT 3.1.1 sessions one after another, each
 * CONNECT (clean session 0), SUBSCRIBE to its own topic, DISCONNECT, with the average CONNECT-to-CONNACK and
 * SUBSCRIBE-to-SUBACK time printed per CHUNK sessions. Times that grow from chunk to chunk are a cost per session that
 * grows with the sessions or topics already there.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.omnibus.bench.MqttSessions HOST PORT SESSIONS [TOPICS [CHUNK]]</pre>
 */
public final class MqttSessions {
    private MqttSessions() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int sessions = Integer.parseInt(args[2]);
        int topics = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        int chunk = args.length > 4 ? Integer.parseInt(args[4]) : 1000;
        if (topics > 0) {
            try (Socket s = new Socket(host, port)) {
                OutputStream out = new BufferedOutputStream(s.getOutputStream());
                InputStream in = s.getInputStream();
                connect(out, in, "sessions-publisher", true);
                long began = System.nanoTime();
                for (int i = 0; i < topics; i++) {
                    ByteArrayOutputStream p = new ByteArrayOutputStream();
                    p.write(string("sessions/t/" + i));
                    p.write(new byte[] {0, 1}); // packet id 1: one in flight at a time
                    p.write(new byte[16]);
                    packet(out, 0x32, p.toByteArray());
                    skip(in); // PUBACK
                }
                System.out.printf("%d topics made, %.2f ms per QoS 1 publish%n", topics,
                        (System.nanoTime() - began) / 1e6 / topics);
                packet(out, 0xE0, new byte[0]);
            }
        }
        long connects = 0;
        long subscribes = 0;
        for (int i = 0; i < sessions; i++) {
            try (Socket s = new Socket(host, port)) {
                OutputStream out = new BufferedOutputStream(s.getOutputStream());
                InputStream in = s.getInputStream();
                long t = System.nanoTime();
                connect(out, in, "sessions-" + i, false);
                connects += System.nanoTime() - t;
                ByteArrayOutputStream sub = new ByteArrayOutputStream();
                sub.write(new byte[] {0, 1});
                sub.write(string("sessions/t/" + i));
                sub.write(1);
                t = System.nanoTime();
                packet(out, 0x82, sub.toByteArray());
                skip(in); // SUBACK
                subscribes += System.nanoTime() - t;
                packet(out, 0xE0, new byte[0]);
            }
            if ((i + 1) % chunk == 0 || i + 1 == sessions) {
                int n = (i % chunk) + 1;
                System.out.printf("sessions %d-%d: CONNECT to CONNACK %.2f ms, SUBSCRIBE to SUBACK %.2f ms on average%n",
                        i + 1 - n, i, connects / 1e6 / n, subscribes / 1e6 / n);
                connects = 0;
                subscribes = 0;
            }
        }
    }

    private static void connect(OutputStream out, InputStream in, String clientId, boolean clean) throws IOException {
        ByteArrayOutputStream c = new ByteArrayOutputStream();
        c.write(string("MQTT"));
        c.write(new byte[] {4, (byte) (clean ? 2 : 0), 0, 60});
        c.write(string(clientId));
        packet(out, 0x10, c.toByteArray());
        skip(in); // CONNACK
    }

    private static byte[] string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[b.length + 2];
        out[0] = (byte) (b.length >> 8);
        out[1] = (byte) b.length;
        System.arraycopy(b, 0, out, 2, b.length);
        return out;
    }

    private static void packet(OutputStream out, int type, byte[] body) throws IOException {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(type);
        int len = body.length;
        do {
            int d = len % 128;
            len /= 128;
            p.write(len > 0 ? d | 128 : d);
        } while (len > 0);
        p.write(body);
        out.write(p.toByteArray());
        out.flush();
    }

    /** Reads one packet and drops it. */
    private static void skip(InputStream in) throws IOException {
        if (in.read() < 0) {
            throw new IOException("connection closed");
        }
        int length = 0;
        int multiplier = 1;
        int d;
        do {
            d = in.read();
            length += (d & 127) * multiplier;
            multiplier *= 128;
        } while ((d & 128) != 0);
        in.readNBytes(length);
    }
}
