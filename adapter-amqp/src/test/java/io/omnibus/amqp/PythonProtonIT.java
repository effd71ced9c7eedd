package io.omnibus.amqp;

import io.omnibus.core.harness.TestGateway;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A native client: Debian's python3-qpid-proton (which .ci/run installs) runs src/test/python/amqp_roundtrip.py
 * against the gateway. Skipped where the package is missing, unless OMNIBUS_REQUIRE_NATIVE_CLIENTS is set (CI).
 */
@Timeout(60)
class PythonProtonIT {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @ParameterizedTest
    @ValueSource(strings = {"amqp_roundtrip.py", "amqp_transaction.py"})
    void pythonQpidProtonScriptsHold(String script) throws Exception {
        boolean available = Files.isExecutable(PYTHON) && new ProcessBuilder(PYTHON.toString(), "-c", "import proton")
                .start().waitFor() == 0;
        String why = "python3-qpid-proton is not installed (apt-get install python3-qpid-proton)";
        if (System.getenv("OMNIBUS_REQUIRE_NATIVE_CLIENTS") != null) {
            assertThat(available).as(why).isTrue();
        }
        Assumptions.assumeTrue(available, why);
        try (TestGateway gw = TestGateway.builder().adapter(new AmqpAdapterFactory(), Map.of()).start()) {
            Process p = new ProcessBuilder(PYTHON.toString(), "src/test/python/" + script,
                    "amqp://127.0.0.1:" + gw.port("amqp")).redirectErrorStream(true).start();
            try {
                assertThat(p.waitFor(45, TimeUnit.SECONDS)).as("the script finished").isTrue();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(out).as("script output").contains("OK");
                assertThat(p.exitValue()).as(out).isZero();
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
