package io.omnibus.bench;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens N idle MQTT 3.1.1 connections (CONNECT, wait for CONNACK, then nothing) and holds them
 * until stdin closes, so the gateway's memory per connection can be read (jcmd GC.run, then heap).
 * {@code java -cp bench/target/benchmarks.jar io.omnibus.bench.MqttIdle 127.0.0.1 1883 10000}
 */
public final class MqttIdle {
    private MqttIdle() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        List<Socket> sockets = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Socket s = new Socket();
            // several loopback source addresses, in case ephemeral ports run short
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0." + (2 + i % 200)), 0));
            s.connect(new InetSocketAddress(host, port));
            byte[] id = ("idle-" + i).getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            int remaining = 10 + 2 + id.length;
            out.write(new byte[] {0x10, (byte) remaining, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0});
            out.write(new byte[] {(byte) (id.length >> 8), (byte) id.length});
            out.write(id);
            out.flush();
            InputStream in = s.getInputStream();
            byte[] ack = in.readNBytes(4);
            if (ack.length != 4 || ack[3] != 0) {
                throw new IllegalStateException("connection " + i + " refused");
            }
            sockets.add(s);
        }
        System.out.println("OPEN " + n);
        System.in.read();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
