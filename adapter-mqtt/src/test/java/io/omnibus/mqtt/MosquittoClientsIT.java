package io.omnibus.mqtt;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The mosquitto command-line clients (Debian's mosquitto-clients, which .ci/run installs) against the gateway. */
@Timeout(60)
class MosquittoClientsIT {
    private TestGateway gw;
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
        if (gw != null) {
            gw.close();
        }
    }

    private Process run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mqttv311", "mqttv5"})
    void mosquittoPubAndSubExchangeMessagesAndRetained(String version) throws Exception {
        boolean installed = Files.isExecutable(Path.of("/usr/bin/mosquitto_sub"));
        String why = "mosquitto-clients is not installed here (.ci/run installs it)";
        if (System.getenv("OMNIBUS_REQUIRE_NATIVE_CLIENTS") != null) { // CI: missing is a failure, not a skip
            org.assertj.core.api.Assertions.assertThat(installed).as(why).isTrue();
        }
        Assumptions.assumeTrue(installed, why);
        gw = new TestGateway();
        String port = Integer.toString(gw.port);
        Process retained = run("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-V", version, "-q", "1", "-r",
                "-t", "config/rate", "-m", "10");
        assertThat(retained.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(retained.exitValue()).isZero();

        Process sub = run("mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-V", version, "-q", "1", "-v",
                "-t", "config/#", "-t", "sensors/#", "-C", "3", "-W", "20");
        await().until(() -> gw.broker.subscriptionViews().size() == 2);
        for (String m : List.of("21.5", "21.7")) {
            Process pub = run("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-V", version, "-q", "1",
                    "-t", "sensors/kitchen", "-m", m);
            assertThat(pub.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(pub.exitValue()).isZero();
        }
        assertThat(sub.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(out.lines().toList()).containsExactly("config/rate 10", "sensors/kitchen 21.5", "sensors/kitchen 21.7");
    }
}
