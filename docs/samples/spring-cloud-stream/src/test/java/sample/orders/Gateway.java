package sample.orders;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A gateway of the tests' own: bin/omnibus as it ships, a temporary data directory, every listener on a loopback port
 * the system picks (port 0), read back from the ready line. A port picked by the test before the gateway starts could
 * be taken in between by some client's outgoing connection.
 */
final class Gateway implements AutoCloseable {
    static final Path ROOT = Path.of("../../..").toAbsolutePath().normalize();

    private static final Pattern LISTENER = Pattern.compile("(\\w+) \\{port=(\\d+)");
    private static final Pattern ADMIN = Pattern.compile("admin https?://[^:]+:(\\d+)");

    final int mqtt;
    final int amqp;
    final int kafka;
    final int rocketmq;
    final int admin;
    private final Path dir;
    private final Process process;

    Gateway(Path dir) throws IOException {
        this.dir = dir;
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/omnibus").toString(), "start", "--data-dir",
                dir.resolve("data").toString()).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("gateway.log").toFile());
        Map<String, String> env = pb.environment();
        env.put("OMNIBUS_NO_BUILD", "1");
        env.put("OMNIBUS_MQTT_WEBSOCKET_ENABLED", "false");
        env.put("OMNIBUS_KAFKA_ADVERTISED_HOST", "127.0.0.1");
        // topics RocketMQ clients make get two queues: the sample's partition count (the Kafka binder makes its
        // topic with that count itself; the RocketMQ binder expects the topic's queue count to be it)
        env.put("OMNIBUS_OPENMESSAGING_QUEUES", "2");
        for (String p : List.of("MQTT", "AMQP", "KAFKA", "OPENMESSAGING", "ADMIN")) {
            env.put("OMNIBUS_" + p + "_HOST", "127.0.0.1");
            env.put("OMNIBUS_" + p + "_PORT", "0");
        }
        process = pb.start();
        try {
            await("the gateway ready").atMost(Duration.ofSeconds(60))
                    .until(() -> readyLine() != null || !process.isAlive());
            assertThat(process.isAlive()).as(log()).isTrue();
            String ready = readyLine();
            Map<String, Integer> ports = new HashMap<>();
            Matcher m = LISTENER.matcher(ready);
            while (m.find()) {
                ports.put(m.group(1), Integer.parseInt(m.group(2)));
            }
            Matcher a = ADMIN.matcher(ready);
            assertThat(a.find()).as(ready).isTrue();
            admin = Integer.parseInt(a.group(1));
            assertThat(ports).as(ready).containsKeys("mqtt", "amqp", "kafka", "openmessaging");
            mqtt = ports.get("mqtt");
            amqp = ports.get("amqp");
            kafka = ports.get("kafka");
            rocketmq = ports.get("openmessaging");
        } catch (RuntimeException | Error e) {
            close(); // not yet the caller's to close
            throw e;
        }
    }

    /** The gateway's ready line once written whole (up to its line break), else null. */
    private String readyLine() {
        String log = log();
        int at = log.indexOf("omnibus: ready");
        int end = at < 0 ? -1 : log.indexOf('\n', at);
        return end < 0 ? null : log.substring(at, end);
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
}
