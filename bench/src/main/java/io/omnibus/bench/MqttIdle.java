package io.omnibus.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens N idle MQTT connections (CONNECT, CONNACK, then nothing: keep-alive 0, clean session) and holds them until
 * stdin closes, so a server's memory per connection can be read.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.omnibus.bench.MqttIdle HOST PORT N [VERSION [PREFIX [storm]]]</pre>
 *
 * VERSION is 4 (MQTT 3.1.1, the default) or 5; client ids are PREFIX0 .. PREFIX(N-1) (default {@code idle-}), so
 * that several of these processes can hold connections at once. One at a time (the default), each CONNECT waits for
 * its CONNACK; with {@code storm}, every socket is connected and sends its CONNECT before any CONNACK is read, so the
 * server has all N handshakes to answer at once. Prints {@code OPEN n}, or {@code REFUSED r of n} with the first
 * failure when any connection was refused or reset. With {@code ws} (in place of {@code storm}; PORT is then the
 * WebSocket port), each connection first makes the WebSocket handshake on {@code /mqtt} (subprotocol {@code mqtt}),
 * then sends its CONNECT in a masked binary frame and reads the CONNACK's frame, one connection at a time.
 */
public final class MqttIdle {
    private MqttIdle() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        int version = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        String prefix = args.length > 4 ? args[4] : "idle-";
        boolean storm = args.length > 5 && args[5].equals("storm");
        boolean ws = args.length > 5 && args[5].equals("ws");
        List<Socket> sockets = new ArrayList<>(n);
        int refused = 0;
        String firstFailure = null;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Socket s = new Socket();
            try {
                // several loopback source addresses, in case ephemeral ports run short
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0." + (2 + i % 200)), 0));
                s.connect(new InetSocketAddress(host, port));
                if (ws) {
                    webSocketConnect(s, host + ":" + port, connect(prefix + i, version));
                } else {
                    s.getOutputStream().write(connect(prefix + i, version));
                }
                if (!storm) {
                    InputStream in = s.getInputStream();
                    if (ws) {
                        in.readNBytes(2); // the binary frame's header: the CONNACK is short, unmasked
                    }
                    connAck(in);
                }
            } catch (IOException e) {
                refused++;
                firstFailure = firstFailure == null ? "connection " + i + ": " + e : firstFailure;
            }
            sockets.add(s);
        }
        if (storm) {
            for (int i = 0; i < n; i++) {
                Socket s = sockets.get(i);
                try {
                    if (!s.isClosed()) {
                        connAck(s.getInputStream());
                    }
                } catch (IOException e) {
                    refused++;
                    firstFailure = firstFailure == null ? "connection " + i + ": " + e : firstFailure;
                }
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.println(refused == 0 ? "OPEN " + n + " in " + ms + " ms"
                : "REFUSED " + refused + " of " + n + " in " + ms + " ms; first: " + firstFailure);
        System.in.read();
        for (Socket s : sockets) {
            s.close();
        }
    }

    private static byte[] connect(String clientId, int version) {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        boolean v5 = version == 5;
        int remaining = 10 + (v5 ? 1 : 0) + 2 + id.length;
        byte[] p = new byte[2 + remaining];
        int i = 0;
        p[i++] = 0x10;
        p[i++] = (byte) remaining; // below 128: client ids here are short
        for (byte b : new byte[] {0, 4, 'M', 'Q', 'T', 'T', (byte) version, 2, 0, 0}) { // clean session, keep-alive 0
            p[i++] = b;
        }
        if (v5) {
            p[i++] = 0; // no properties
        }
        p[i++] = (byte) (id.length >> 8);
        p[i++] = (byte) id.length;
        System.arraycopy(id, 0, p, i, id.length);
        return p;
    }

    /** The WebSocket handshake, then {@code packet} in one masked binary frame (MQTT over WebSocket, RFC 6455). */
    private static void webSocketConnect(Socket s, String host, byte[] packet) throws IOException {
        String key = java.util.Base64.getEncoder().encodeToString(new byte[16]);
        s.getOutputStream().write(("GET /mqtt HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Protocol: mqtt\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed during the WebSocket handshake");
            }
            head.append((char) b);
        }
        if (!head.toString().startsWith("HTTP/1.1 101")) {
            throw new IOException("WebSocket handshake refused: " + head.toString().lines().findFirst().orElse(""));
        }
        byte[] frame = new byte[2 + 4 + packet.length]; // below 126 bytes: client ids here are short
        frame[0] = (byte) 0x82; // final, binary
        frame[1] = (byte) (0x80 | packet.length); // masked, with a zero mask: the bytes go as they are
        System.arraycopy(packet, 0, frame, 6, packet.length);
        s.getOutputStream().write(frame);
    }

    /** Reads one CONNACK; an IOException when the server refused or closed. */
    private static void connAck(InputStream in) throws IOException {
        if (in.read() != 0x20) {
            throw new IOException("no CONNACK (closed)");
        }
        int length = 0;
        for (int shift = 0, b = 0x80; (b & 0x80) != 0; shift += 7) {
            b = in.read();
            if (b < 0) {
                throw new IOException("CONNACK cut short");
            }
            length |= (b & 0x7f) << shift;
        }
        byte[] rest = in.readNBytes(length);
        if (rest.length != length || length < 2 || rest[1] != 0) {
            throw new IOException("CONNACK " + (rest.length > 1 ? "reason " + (rest[1] & 0xff) : "cut short"));
        }
    }
}
