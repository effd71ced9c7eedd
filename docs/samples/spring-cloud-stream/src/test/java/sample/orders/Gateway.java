package sample.orders;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A gateway of the tests' own: bin/omnibus as it ships, every listener on a free loopback port, a temporary data directory. */
final class Gateway implements AutoCloseable {
    static final Path ROOT = Path.of("../../..").toAbsolutePath().normalize();

    final int mqtt = freePort();
    final int amqp = freePort();
    final int kafka = freePort();
    final int rocketmq = freePort();
    final int admin = freePort();
    private final Path dir;
    private final Process process;

    Gateway(Path dir) throws IOException {
        this.dir = dir;
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/omnibus").toString(), "start", "--data-dir",
                dir.resolve("data").toString()).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("gateway.log").toFile());
        Map<String, String> env = pb.environment();
        env.put("OMNIBUS_NO_BUILD", "1");
        env.put("OMNIBUS_MQTT_PORT", Integer.toString(mqtt));
        env.put("OMNIBUS_AMQP_PORT", Integer.toString(amqp));
        env.put("OMNIBUS_KAFKA_PORT", Integer.toString(kafka));
        env.put("OMNIBUS_OPENMESSAGING_PORT", Integer.toString(rocketmq));
        env.put("OMNIBUS_ADMIN_PORT", Integer.toString(admin));
        env.put("OMNIBUS_MQTT_WEBSOCKET_ENABLED", "false");
        env.put("OMNIBUS_KAFKA_ADVERTISED_HOST", "127.0.0.1");
        // topics RocketMQ clients make get two queues: the sample's partition count (the Kafka binder makes its
        // topic with that count itself; the RocketMQ binder expects the topic's queue count to be it)
        env.put("OMNIBUS_OPENMESSAGING_QUEUES", "2");
        for (String p : List.of("MQTT", "AMQP", "KAFKA", "OPENMESSAGING", "ADMIN")) {
            env.put("OMNIBUS_" + p + "_HOST", "127.0.0.1");
        }
        process = pb.start();
        await("the gateway ready").atMost(Duration.ofSeconds(60))
                .until(() -> log().contains("omnibus: ready") || !process.isAlive());
        assertThat(process.isAlive()).as(log()).isTrue();
    }

    String log() {
        try {
            return Files.readString(dir.resolve("gateway.log"));
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
