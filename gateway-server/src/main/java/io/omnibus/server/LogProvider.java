package io.omnibus.server;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LogbackServiceProvider;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.util.StatusPrinter;

/**
 * Logback for SLF4J, set up by {@link LogConfigurator} directly: {@code bin/omnibus} names this provider
 * ({@code -Dslf4j.provider}, set by {@link Main}), so neither SLF4J nor logback scans every jar of the class path
 * for a service file (SLF4J for its binding, logback for its configurators: together about 0.13 s of the start-up).
 * With {@code -Dlogback.configurationFile} logback configures itself as usual, from the user's file.
 */
public final class LogProvider extends LogbackServiceProvider {
    @Override
    public void initialize() {
        if (System.getProperty("logback.configurationFile") != null) {
            super.initialize();
            return;
        }
        LoggerContext context = (LoggerContext) getLoggerFactory();
        context.setName(CoreConstants.DEFAULT_CONTEXT_NAME);
        context.setMDCAdapter(getMDCAdapter());
        LogConfigurator configurator = new LogConfigurator();
        configurator.setContext(context);
        configurator.configure(context);
        StatusPrinter.printInCaseOfErrorsOrWarnings(context);
        context.start();
    }
}
