package io.omnibus.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.util.Locale;

/**
 * The gateway's logging, set up in code (logback finds this class through {@code ServiceLoader}) rather than parsed
 * from a {@code logback.xml}: the XML's parser and logback's model loaded about 490 more classes at start-up (5,758
 * against 5,268), and the gateway is ready about 80 ms sooner without them ({@code bench/README.md}). One line per
 * event on standard error, as text or, with {@code OMNIBUS_LOG_FORMAT=json}, one JSON object per line for log
 * shippers; the root level from {@code OMNIBUS_LOG_LEVEL} (INFO by default); Netty and Vert.x at WARN. Each setting is
 * read from a system property first, then from the environment. A configuration file of the user's own
 * ({@code -Dlogback.configurationFile=...}) takes over from this one.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY; // logback's own configurator reads the user's file
        }
        boolean json = "json".equals(setting("OMNIBUS_LOG_FORMAT", "text").toLowerCase(Locale.ROOT));
        Encoder<ILoggingEvent> encoder = json ? jsonEncoder() : textEncoder(context);
        encoder.setContext(context);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName(json ? "json" : "text");
        console.setTarget("System.err");
        console.setEncoder(encoder);
        console.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(setting("OMNIBUS_LOG_LEVEL", "INFO"), Level.INFO));
        root.addAppender(console);
        context.getLogger("io.netty").setLevel(Level.WARN);
        context.getLogger("io.vertx").setLevel(Level.WARN);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static Encoder<ILoggingEvent> textEncoder(LoggerContext context) {
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern(PATTERN);
        return text;
    }

    /** The message formatted with its arguments; no sequence numbers, nanoseconds or context. */
    private static Encoder<ILoggingEvent> jsonEncoder() {
        JsonEncoder json = new JsonEncoder();
        json.setWithSequenceNumber(false);
        json.setWithNanoseconds(false);
        json.setWithContext(false);
        json.setWithMessage(false);
        json.setWithArguments(false);
        json.setWithFormattedMessage(true);
        return json;
    }

    private static String setting(String name, String otherwise) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            v = System.getenv(name);
        }
        return v == null || v.isBlank() ? otherwise : v.trim();
    }
}
