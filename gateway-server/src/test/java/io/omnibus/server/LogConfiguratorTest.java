package io.omnibus.server;

import ch.qos.logback.classic.LoggerContext;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The logging the gateway sets up in code: what a user (or a log shipper) reads on standard error. */
class LogConfiguratorTest {
    private final PrintStream stderr = System.err;

    @AfterEach
    void restore() {
        System.setErr(stderr);
        System.clearProperty("OMNIBUS_LOG_FORMAT");
        System.clearProperty("OMNIBUS_LOG_LEVEL");
    }

    /** Configures a context of its own as logback would at start-up, logs, and returns the lines on standard error. */
    private static List<String> logged(java.util.function.Consumer<LoggerContext> logs) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter()); // as logback's service provider does
        LogConfigurator configurator = new LogConfigurator();
        configurator.setContext(context);
        assertThat(configurator.configure(context))
                .isEqualTo(ch.qos.logback.classic.spi.Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        logs.accept(context);
        context.stop();
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void textByDefaultAtInfoWithNettyAndVertxAtWarn() {
        List<String> lines = logged(c -> {
            c.getLogger("io.omnibus.store.kafka.ExampleStore").info("stored {} messages", 3);
            c.getLogger("io.omnibus.store.kafka.ExampleStore").debug("not shown");
            c.getLogger("io.netty.channel.Example").info("not shown either");
            c.getLogger("io.vertx.core.Example").warn("shown");
        });
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[.+\\] "
                + "i\\.o\\.s\\.kafka\\.ExampleStore - stored 3 messages"); // the logger's name shortened to 24
        assertThat(lines.get(1)).contains("WARN ").endsWith(" - shown");
    }

    @Test
    void jsonLinesAndTheLevelFromTheirSettings() {
        System.setProperty("OMNIBUS_LOG_FORMAT", "JSON");
        System.setProperty("OMNIBUS_LOG_LEVEL", "debug");
        List<String> lines = logged(c -> c.getLogger("io.omnibus.Example").debug("a {} message", "debug"));
        assertThat(lines).hasSize(1);
        JsonObject line = new JsonObject(lines.get(0));
        assertThat(line.getString("level")).isEqualTo("DEBUG");
        assertThat(line.getString("loggerName")).isEqualTo("io.omnibus.Example");
        assertThat(line.getString("formattedMessage")).isEqualTo("a debug message");
        assertThat(line.containsKey("message")).isFalse();
    }

    /**
     * Sets logging up as SLF4J does when {@code Main} names the gateway's provider, logs, and returns the lines on
     * standard error.
     */
    private static List<String> loggedThroughProvider(java.util.function.Consumer<LoggerContext> logs) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        LogProvider provider = new LogProvider();
        provider.initialize();
        LoggerContext context = (LoggerContext) provider.getLoggerFactory();
        assertThat(context.getMDCAdapter()).isSameAs(provider.getMDCAdapter());
        logs.accept(context);
        context.stop();
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    /** What bin/omnibus runs with: the gateway's own set-up, no scan for configurators. */
    @Test
    void theProviderSetsUpTheGatewaysLogging() {
        List<String> lines = loggedThroughProvider(c -> {
            c.getLogger("io.omnibus.Example").info("from the provider");
            c.getLogger("io.netty.Example").info("not shown");
        });
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains("INFO ").endsWith("io.omnibus.Example - from the provider");
    }

    /** A logback file of the user's own ({@code -Dlogback.configurationFile}) still takes over. */
    @Test
    void theProviderLeavesAUsersFileToLogback(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("logback.xml");
        java.nio.file.Files.writeString(file, """
                <configuration>
                  <appender name="users" class="ch.qos.logback.core.ConsoleAppender">
                    <target>System.err</target>
                    <encoder><pattern>USER %level %msg%n</pattern></encoder>
                  </appender>
                  <root level="WARN"><appender-ref ref="users"/></root>
                </configuration>
                """);
        System.setProperty("logback.configurationFile", file.toString());
        List<String> lines;
        try {
            lines = loggedThroughProvider(c -> {
                c.getLogger("io.omnibus.Example").info("below the file's level");
                c.getLogger("io.omnibus.Example").warn("as the file says");
            });
        } finally {
            System.clearProperty("logback.configurationFile");
        }
        assertThat(lines.stream().filter(l -> l.startsWith("USER"))).containsExactly("USER WARN as the file says");
    }
}
