package io.omnibus.mqtt;

import io.omnibus.core.harness.TrustingTls;
import io.omnibus.core.harness.TestGateway;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/** The listener plumbing every adapter shares, seen through MQTT: TLS files reloaded, the safe default, caps. */
class MqttListenersIT {
    static final Path EXAMPLE_TLS = Path.of(System.getProperty("omnibus.root", "..")).resolve("config/examples/tls")
            .toAbsolutePath().normalize();

    private TestGateway gw;
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Socket s : sockets) {
            s.close();
        }
        if (gw != null) {
            gw.close();
        }
    }

    private TestGateway start(Map<String, Object> mqtt) {
        gw = TestGateway.builder().adapter(new MqttAdapterFactory(), mqtt).start();
        return gw;
    }

    private void connectOverTls(SSLContext ssl, String id) throws Exception {
        MqttClient c = new MqttClient("ssl://localhost:" + gw.tlsPort("mqtt"), id, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setSocketFactory(ssl.getSocketFactory());
        o.setConnectionTimeout(10);
        c.connect(o);
        c.disconnect();
        c.close();
    }

    @Test
    void newCertificateFilesAreUsedWithoutARestart(@TempDir Path dir) throws Exception {
        Path live = Files.createDirectories(dir.resolve("live"));
        Files.copy(EXAMPLE_TLS.resolve("server.pem"), live.resolve("server.pem"));
        Files.copy(EXAMPLE_TLS.resolve("server-key.pem"), live.resolve("server-key.pem"));
        start(Map.of("tls", Map.of("enabled", true, "port", 0, "cert", live.resolve("server.pem").toString(),
                "key", live.resolve("server-key.pem").toString(), "reload-check", "200ms")));
        SSLContext oldCa = TrustingTls.trusting(EXAMPLE_TLS.resolve("ca.pem"));
        connectOverTls(oldCa, "before");

        // a new CA and server certificate, as an operator renewing them would make
        Path fresh = Files.createDirectories(dir.resolve("fresh"));
        Process make = new ProcessBuilder("bash", EXAMPLE_TLS.resolve("make-certs.sh").toString(), fresh.toString())
                .redirectErrorStream(true).start();
        assertThat(make.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(make.exitValue()).as(new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        Files.copy(fresh.resolve("server-key.pem"), live.resolve("server-key.pem"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(fresh.resolve("server.pem"), live.resolve("server.pem"), StandardCopyOption.REPLACE_EXISTING);

        SSLContext newCa = TrustingTls.trusting(fresh.resolve("ca.pem"));
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .untilAsserted(() -> connectOverTls(newCa, "after"));
        // the old chain is gone (a fresh client: one that connected before might resume its TLS session)
        SSLContext freshOldCa = TrustingTls.trusting(EXAMPLE_TLS.resolve("ca.pem"));
        assertThat(catchThrowable(() -> connectOverTls(freshOldCa, "stale"))).isNotNull();
    }

    @Test
    void withNoUsersOnlyLoopbackClientsAreAccepted() throws Exception {
        InetAddress external = nonLoopbackAddress();
        Assumptions.assumeTrue(external != null, "this machine has no non-loopback IPv4 address");
        gw = TestGateway.builder().users(List.of()).adapter(new MqttAdapterFactory(), Map.of("host", "0.0.0.0")).start();
        try (Socket s = new Socket(external, gw.port("mqtt"))) { // accepted by the kernel, closed by the gateway
            s.setSoTimeout(20_000);
            s.getOutputStream().write(connect("remote"));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        MqttClient local = new MqttClient("tcp://127.0.0.1:" + gw.port("mqtt"), "local", new MemoryPersistence());
        local.connect();
        assertThat(local.isConnected()).isTrue();
        local.disconnect();
        local.close();
    }

    @Test
    void oneAddressGetsNoMoreThanItsShareOfConnections() throws Exception {
        start(Map.of("max-connections-per-address", 2));
        for (int i = 0; i < 2; i++) {
            Socket s = new Socket("127.0.0.1", gw.port("mqtt"));
            sockets.add(s);
            s.getOutputStream().write(connect("c" + i));
            assertThat(s.getInputStream().read()).isEqualTo(0x20); // CONNACK
        }
        try (Socket third = new Socket("127.0.0.1", gw.port("mqtt"))) {
            third.setSoTimeout(20_000);
            assertThat(third.getInputStream().read()).isEqualTo(-1);
        }
        sockets.remove(0).close(); // a place is free again
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (Socket again = new Socket("127.0.0.1", gw.port("mqtt"))) {
                again.setSoTimeout(5_000);
                again.getOutputStream().write(connect("again"));
                assertThat(again.getInputStream().read()).isEqualTo(0x20);
            }
        });
    }

    @Test
    void aBrowserPageFromAnotherOriginCannotOpenAWebSocket() throws Exception {
        start(Map.of("websocket", Map.of("enabled", true, "port", 0, "allowed-origins", List.of("https://app.example.com"))));
        int port = (Integer) gw.adapter("mqtt").status().get("websocket-port");
        assertThat(upgrade(port, "https://evil.example.org")).startsWith("HTTP/1.1 403");
        assertThat(upgrade(port, "https://app.example.com")).startsWith("HTTP/1.1 101");
        assertThat(upgrade(port, null)).startsWith("HTTP/1.1 101"); // not a browser: no Origin to check
        try (Socket s = new Socket("127.0.0.1", port)) {
            assertThat(upgradeOn(s, port, null, "/mqtt?token=abc")).as("a query string").startsWith("HTTP/1.1 101");
        }
        try (Socket s = new Socket("127.0.0.1", port)) {
            assertThat(upgradeOn(s, port, null, "/mqttx")).as("another path").startsWith("HTTP/1.1 404");
        }
    }

    @Test
    void theCapCountsWebSocketsWithTheTcpConnections() throws Exception {
        start(Map.of("max-connections-per-address", 1, "websocket", Map.of("enabled", true, "port", 0)));
        int port = (Integer) gw.adapter("mqtt").status().get("websocket-port");
        Socket first = new Socket("127.0.0.1", port);
        sockets.add(first);
        assertThat(upgradeOn(first, port, null)).startsWith("HTTP/1.1 101");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(upgrade(port, null)).startsWith("HTTP/1.1 503"));
        sockets.remove(0).close();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(upgrade(port, null)).startsWith("HTTP/1.1 101"));
        // one count for the adapter: an MQTT connection over TCP takes the address's only place (once the WebSocket
        // just opened and closed has given it back)
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Socket tcp = new Socket("127.0.0.1", gw.port("mqtt"));
            sockets.add(tcp);
            tcp.setSoTimeout(5_000);
            tcp.getOutputStream().write(connect("tcp"));
            assertThat(tcp.getInputStream().read()).isEqualTo(0x20);
        });
        assertThat(upgrade(port, null)).startsWith("HTTP/1.1 503");
    }

    /**
     * The WebSocket port is one of the adapter's shared listeners: a PROXY header from a trusted source names the
     * client there too, and the per-address cap (shared with the TCP port) counts the client it names.
     */
    @Test
    void onTheWebSocketPortAProxyHeaderNamesTheClientForTheCap() throws Exception {
        start(Map.of("max-connections-per-address", 1, "proxy-protocol", List.of("127.0.0.1"),
                "websocket", Map.of("enabled", true, "port", 0)));
        int port = (Integer) gw.adapter("mqtt").status().get("websocket-port");
        Socket nine = proxied(port, "127.0.0.9");
        assertThat(upgradeOn(nine, port, null)).startsWith("HTTP/1.1 101");
        Socket ten = proxied(port, "127.0.0.10");
        assertThat(upgradeOn(ten, port, null)).as("another client behind the same proxy").startsWith("HTTP/1.1 101");
        assertThat(upgradeOn(proxied(port, "127.0.0.9"), port, null)).as("127.0.0.9's one place is taken")
                .startsWith("HTTP/1.1 503");
        assertThat(upgrade(port, null)).as("the proxy's own address, direct").startsWith("HTTP/1.1 101");
    }

    /** Secure WebSocket (wss) on its own port, with the certificate of the {@code websocket.tls} keys. */
    @Test
    void pahoTalksMqttOverSecureWebSocket() throws Exception {
        start(Map.of("websocket", Map.of("enabled", true, "port", "off", "tls", Map.of("enabled", true, "port", 0,
                "cert", EXAMPLE_TLS.resolve("server.pem").toString(),
                "key", EXAMPLE_TLS.resolve("server-key.pem").toString()))));
        Map<String, Object> status = gw.adapter("mqtt").status();
        assertThat(status).doesNotContainKey("websocket-port");
        MqttClient c = new MqttClient("wss://localhost:" + status.get("websocket-tls-port") + "/mqtt", "over-wss",
                new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setSocketFactory(TrustingTls.trusting(EXAMPLE_TLS.resolve("ca.pem")).getSocketFactory());
        o.setConnectionTimeout(10);
        c.connect(o);
        List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
        c.subscribe("wss/echo", 1, (topic, m) -> got.add(new String(m.getPayload(), StandardCharsets.UTF_8)));
        c.publish("wss/echo", "over TLS".getBytes(StandardCharsets.UTF_8), 1, false);
        await().atMost(Duration.ofSeconds(10)).until(() -> got.contains("over TLS"));
        c.disconnect();
        c.close();
    }

    /** A connection to {@code port} that starts with a PROXY version 1 header naming {@code client}. */
    private Socket proxied(int port, String client) throws Exception {
        Socket s = new Socket("127.0.0.1", port);
        sockets.add(s);
        s.getOutputStream().write(("PROXY TCP4 " + client + " 127.0.0.1 40000 " + port + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    /**
     * HAProxy (Debian's) in front of the gateway, sending a PROXY version 2 header on each connection to a listener
     * that trusts it: the gateway counts and lists each client under its own address (clients bound to 127.0.0.2 and
     * 127.0.0.3, the proxy's own connections coming from 127.0.0.1), and the protocol goes on through the proxy.
     */
    @Test
    void behindHaproxyEachClientIsItselfForTheCapAndTheListings(@TempDir Path dir) throws Exception {
        boolean installed = Files.isExecutable(Path.of("/usr/sbin/haproxy"));
        String why = "haproxy is not installed here (.ci/run installs it)";
        if (System.getenv("OMNIBUS_REQUIRE_NATIVE_CLIENTS") != null) { // CI: missing is a failure, not a skip
            assertThat(installed).as(why).isTrue();
        }
        Assumptions.assumeTrue(installed, why);
        start(Map.of("max-connections-per-address", 1, "proxy-protocol", List.of("127.0.0.1")));
        int front;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            front = free.getLocalPort();
        }
        Path cfg = dir.resolve("haproxy.cfg");
        Files.writeString(cfg, String.join("\n", "global", "  maxconn 100", "defaults", "  mode tcp",
                "  timeout connect 5s", "  timeout client 60s", "  timeout server 60s",
                "frontend mqtt", "  bind 127.0.0.1:" + front, "  default_backend gateway",
                "backend gateway", "  server gw 127.0.0.1:" + gw.port("mqtt") + " send-proxy-v2", ""));
        Process haproxy = new ProcessBuilder("/usr/sbin/haproxy", "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
                new Socket("127.0.0.1", front).close();
                return true;
            });
            MqttClient subscriber = viaProxy(front, "127.0.0.2", "subscriber");
            java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
            subscriber.subscribe("proxied/#", 1, (topic, m) -> got.add(new String(m.getPayload(), StandardCharsets.UTF_8)));
            assertThat(gw.connections.all()).singleElement()
                    .satisfies(c -> assertThat(c.remoteAddress()).matches("/?127\\.0\\.0\\.2:\\d+"));

            // the same client address again: over its share, though the proxy's own address is another
            assertThat(catchThrowable(() -> viaProxy(front, "127.0.0.2", "second"))).isNotNull();
            MqttClient publisher = viaProxy(front, "127.0.0.3", "publisher");
            publisher.publish("proxied/a", "through haproxy".getBytes(StandardCharsets.UTF_8), 1, false);
            assertThat(got.poll(20, TimeUnit.SECONDS)).isEqualTo("through haproxy");
            // the proxy itself, straight to the gateway without a header: one more address with its own share
            MqttClient direct = new MqttClient("tcp://127.0.0.1:" + gw.port("mqtt"), "direct", new MemoryPersistence());
            direct.connect();
            assertThat(gw.connections.all()).extracting(c -> c.remoteAddress().replaceFirst("^/", "").replaceFirst(":\\d+$", ""))
                    .containsExactlyInAnyOrder("127.0.0.2", "127.0.0.3", "127.0.0.1");
            for (MqttClient c : List.of(subscriber, publisher, direct)) {
                c.disconnect();
                c.close();
            }
        } finally {
            haproxy.destroy();
            assertThat(haproxy.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** A Paho client reaching the gateway through the proxy on {@code port}, from the loopback address {@code from}. */
    private static MqttClient viaProxy(int port, String from, String id) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, id, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setConnectionTimeout(10);
        o.setSocketFactory(new io.omnibus.core.harness.BoundSockets(from));
        c.connect(o);
        return c;
    }

    private static String upgrade(int port, String origin) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return upgradeOn(s, port, origin);
        }
    }

    /** Sends a WebSocket upgrade for MQTT on {@code s} and returns the status line of the answer. */
    private static String upgradeOn(Socket s, int port, String origin) throws Exception {
        return upgradeOn(s, port, origin, "/mqtt");
    }

    /** Sends a WebSocket upgrade for MQTT at {@code path} on {@code s} and returns the status line of the answer. */
    private static String upgradeOn(Socket s, int port, String origin, String path) throws Exception {
        s.setSoTimeout(10_000);
        String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n"
                + (origin == null ? "" : "Origin: " + origin + "\r\n") + "\r\n";
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = s.getInputStream().read()) >= 0 && b != '\r') {
            line.append((char) b);
        }
        return line.toString();
    }

    /** An MQTT 3.1.1 CONNECT with a clean session. */
    private static byte[] connect(String clientId) {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        byte[] packet = new byte[14 + id.length];
        packet[0] = 0x10;
        packet[1] = (byte) (12 + id.length);
        byte[] header = {0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, (byte) id.length};
        System.arraycopy(header, 0, packet, 2, header.length);
        System.arraycopy(id, 0, packet, 14, id.length);
        return packet;
    }

    private static InetAddress nonLoopbackAddress() throws Exception {
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (nif.isUp() && !nif.isLoopback()) {
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                        return a;
                    }
                }
            }
        }
        return null;
    }
}
