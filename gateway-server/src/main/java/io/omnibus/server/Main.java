package io.omnibus.server;

import io.omnibus.core.spi.ProtocolAdapterFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code omnibus start [--config PATH] [--data-dir DIR]} and {@code omnibus check-config PATH}.
 * Exit codes: 0 done, 1 could not start (a port in use, an adapter failed), 2 bad configuration or usage.
 */
@Command(name = "omnibus", mixinStandardHelpOptions = true, version = "omnibus 0.1.0",
        description = "Omnibus, a multi-protocol messaging gateway (MQTT, AMQP 1.0, Kafka wire, OpenMessaging).",
        subcommands = {Main.Start.class, Main.CheckConfig.class, Main.HashPassword.class, Main.HashToken.class, Main.Translation.class,
            Main.ShowMessage.class})
public final class Main implements Callable<Integer> {
    private static final String SLF4J_PROVIDER = "slf4j.provider";
    static final int EXIT_OK = 0;
    static final int EXIT_START_FAILED = 1;
    static final int EXIT_BAD_CONFIG = 2;
    /** A node of a Kafka store that stopped being the active one (docs/cluster.md). */
    static final int EXIT_LEASE_LOST = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return EXIT_BAD_CONFIG;
    }

    /** The version in the jar's manifest ("dev" when run from classes). */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    public static void main(String[] args) {
        // SLF4J finds its binding by scanning every jar of the class path for a service file, and logback its
        // configurators the same way (LogProvider); the distribution ships logback. A -Dslf4j.provider of the user's wins
        if (System.getProperty(SLF4J_PROVIDER) == null) {
            System.setProperty(SLF4J_PROVIDER, LogProvider.class.getName());
            System.setProperty("slf4j.internal.verbosity", "WARN"); // else it says on standard error that it did so
        }
        Start start = Start.quick(args);
        int code = start != null ? start.call() : new CommandLine(new Main()).execute(args);
        if (code != Start.RUNNING) {
            System.exit(code);
        }
    }

    /**
     * The gateway's home: where bin/omnibus found itself ({@code -Domnibus.home}); else the working directory. A
     * relative {@code store.dir} is under it, so an unpacked distribution keeps its data in one place whatever the
     * working directory.
     */
    static Path home() {
        String home = System.getProperty("omnibus.home");
        return home == null ? Path.of("").toAbsolutePath() : Path.of(home);
    }

    static GatewayConfig load(Path config, Path dataDir, Map<String, ProtocolAdapterFactory<?>> factories, PrintWriter err) {
        ConfigLoader loader = new ConfigLoader(System.getenv(), factories).home(home());
        GatewayConfig c = loader.load(config, dataDir);
        loader.warnings().forEach(w -> err.println("omnibus: warning: " + w));
        err.flush();
        return c;
    }

    static void printConfigError(PrintWriter err, ConfigFileException e) {
        err.println("omnibus: invalid configuration in " + e.file());
        err.println("  " + e.problem());
        err.flush();
    }

    @Command(name = "hash-password", description = "Prints the password-hash value for the users list: SCRAM-SHA-256 and "
            + "SCRAM-SHA-512 verifiers of the password read from stdin.")
    static final class HashPassword implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws java.io.IOException {
            String password = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                    java.nio.charset.StandardCharsets.UTF_8)).readLine();
            if (password == null || password.isEmpty()) {
                spec.commandLine().getErr().println("omnibus: give the password on standard input");
                return EXIT_BAD_CONFIG;
            }
            // both SCRAM verifiers: password logins on every protocol, and SCRAM-SHA-256 and -512 for SASL clients
            spec.commandLine().getOut().println("[" + String.join(", ", io.omnibus.core.config.StaticUsers.verifiers(password)
                    .stream().map(v -> "\"" + v + "\"").toList()) + "]");
            spec.commandLine().getOut().flush();
            return EXIT_OK;
        }
    }

    @Command(name = "hash-token", description = "Makes a random bearer token for the admin API: prints the token (give it "
            + "to the script) and the admin.tokens entry that accepts it (put it in the configuration).")
    static final class HashToken implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Parameters(index = "0", description = "the user the token acts as (its rights come from the acl)")
        String user;

        @Override
        public Integer call() {
            byte[] random = new byte[32];
            new java.security.SecureRandom().nextBytes(random);
            String token = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            java.io.PrintWriter out = spec.commandLine().getOut();
            out.println("token: " + token);
            out.println("admin.tokens entry:");
            out.println("  - user: " + user);
            out.println("    token-sha256: \"" + AdminServer.sha256(token) + "\"");
            out.flush();
            return EXIT_OK;
        }
    }

    @Command(name = "translation", description = "Prints the translation table (docs/translation.md): every field and "
            + "protocol, or with --from and --to one pair's fields: kept, converted or lost.")
    static final class Translation implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--from", description = "mqtt3, mqtt5, amqp, kafka or rocketmq")
        String from;

        @Option(names = "--to", description = "mqtt3, mqtt5, amqp, kafka or rocketmq")
        String to;

        @Override
        public Integer call() {
            io.omnibus.core.spi.TranslationTable table = io.omnibus.core.spi.TranslationTable.get();
            java.io.PrintWriter out = spec.commandLine().getOut();
            if (from == null && to == null) {
                out.print(table.markdown());
            } else if (from == null || to == null || !io.omnibus.core.spi.TranslationTable.PROTOCOLS.contains(from)
                    || !io.omnibus.core.spi.TranslationTable.PROTOCOLS.contains(to)) {
                spec.commandLine().getErr().println("omnibus: --from and --to must both be one of "
                        + io.omnibus.core.spi.TranslationTable.PROTOCOLS);
                return EXIT_BAD_CONFIG;
            } else {
                out.println("| field | in " + from + " | out in " + to + " | result |");
                out.println("|---|---|---|---|");
                for (io.omnibus.core.spi.TranslationTable.Outcome o : table.pair(from, to)) {
                    out.println("| " + o.field() + " | " + o.from().carry().name().toLowerCase(java.util.Locale.ROOT) + ": "
                            + o.from().how().replace("|", "\\|") + " | " + o.to().carry().name().toLowerCase(java.util.Locale.ROOT)
                            + ": " + o.to().how().replace("|", "\\|") + " | " + o.result() + " |");
                }
            }
            out.flush();
            return EXIT_OK;
        }
    }

    @Command(name = "message", description = "Shows a stored message as a protocol would deliver it, asking a running "
            + "gateway's admin API: omnibus message sensors/kitchen@0:5 --as kafka")
    static final class ShowMessage implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", description = "ADDRESS@PARTITION:OFFSET")
        String id;

        @Option(names = "--as", required = true, description = "mqtt3, mqtt5, amqp, kafka or rocketmq")
        String protocol;

        @Option(names = "--admin", defaultValue = "http://127.0.0.1:8080", description = "the admin API (default ${DEFAULT-VALUE})")
        String admin;

        @Override
        public Integer call() throws Exception {
            // a path segment: spaces as %20, not the form encoding's '+'
            String path = "/api/messages/" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8)
                    .replace("+", "%20") + "/as/" + protocol;
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin + path))
                            .timeout(java.time.Duration.ofSeconds(30)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            (r.statusCode() == 200 ? spec.commandLine().getOut() : spec.commandLine().getErr()).println(r.body());
            spec.commandLine().getOut().flush();
            return r.statusCode() == 200 ? EXIT_OK : 1;
        }
    }

    @Command(name = "check-config", description = "Validates a configuration file and exits (0 valid, 2 invalid).")
    static final class CheckConfig implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "PATH", description = "the configuration file")
        Path config;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try {
                Map<String, ProtocolAdapterFactory<?>> factories = Adapters.discover(Main.class.getClassLoader());
                GatewayConfig c = load(config, null, factories, err);
                StringBuilder enabled = new StringBuilder();
                c.adapters().values().stream().filter(GatewayConfig.AdapterSection::enabled)
                        .forEach(a -> enabled.append(enabled.length() == 0 ? "" : ", ").append(a.protocol()));
                out.println("omnibus: " + config + " is valid (adapters enabled: "
                        + (enabled.length() == 0 ? "none" : enabled) + ")");
                out.flush();
                return EXIT_OK;
            } catch (ConfigFileException e) {
                printConfigError(err, e);
                return EXIT_BAD_CONFIG;
            }
        }
    }

    /**
     * Milliseconds since this process started, to 10 ms, or -1 where the kernel does not say (not Linux). Both ends are
     * read on the kernel's clock since boot: the process's start from {@code /proc/self/stat} (in USER_HZ ticks, 100 a
     * second) and now from {@code /proc/uptime}. ({@code ProcessHandle}'s start instant adds the boot time, which the
     * kernel gives in whole seconds: that made the figure up to a second too long.)
     */
    static long sinceProcessStart() {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // from field 3, the state
            long startedTicks = Long.parseLong(fields[22 - 3]);
            String uptime = java.nio.file.Files.readString(Path.of("/proc/uptime"));
            long nowMillis = Math.round(Double.parseDouble(uptime.substring(0, uptime.indexOf(' '))) * 1000);
            return Math.max(0, nowMillis - startedTicks * 10);
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    @Command(name = "start", description = "Starts the gateway in the foreground; SIGTERM or Ctrl-C stops it cleanly.")
    static final class Start implements Callable<Integer> {
        /** Returned while the gateway runs: main() must not exit, the shutdown path does. */
        static final int RUNNING = -1;
        private static final Logger LOG = LoggerFactory.getLogger(Start.class);

        @Option(names = "--config", paramLabel = "PATH",
                description = "configuration file (default: config/gateway.yaml in the gateway's home)")
        Path config;

        @Option(names = "--data-dir", paramLabel = "DIR", description = "data directory (overrides store.dir; default data/ "
                + "in the gateway's home)")
        Path dataDir;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        /**
         * {@code start} with nothing but its two options, read without picocli: picocli reads the annotations of every
         * command before it parses anything, a quarter of a second of the gateway's start-up. Null for anything else
         * (help, an unknown or repeated option, a missing value): picocli parses that, and says what is wrong.
         */
        static Start quick(String[] args) {
            if (args.length == 0 || !args[0].equals("start")) {
                return null;
            }
            Start s = new Start();
            for (int i = 1; i < args.length; i++) {
                int eq = args[i].indexOf('=');
                String name = eq > 0 ? args[i].substring(0, eq) : args[i];
                String value = eq > 0 ? args[i].substring(eq + 1) : i + 1 < args.length ? args[++i] : "";
                if (value.isEmpty() || name.equals("--config") && s.config != null
                        || name.equals("--data-dir") && s.dataDir != null) {
                    return null;
                }
                switch (name) {
                    case "--config" -> s.config = Path.of(value);
                    case "--data-dir" -> s.dataDir = Path.of(value);
                    default -> {
                        return null;
                    }
                }
            }
            return s;
        }

        @Override
        public Integer call() {
            long began = System.nanoTime();
            // as picocli's own (the platform's encoding, flushed at each line)
            PrintWriter out = spec != null ? spec.commandLine().getOut() : new PrintWriter(System.out, true);
            PrintWriter err = spec != null ? spec.commandLine().getErr() : new PrintWriter(System.err, true);
            GatewayConfig c;
            Map<String, ProtocolAdapterFactory<?>> factories;
            try {
                factories = Adapters.discover(Main.class.getClassLoader());
                c = load(config != null ? config : home().resolve("config/gateway.yaml"), dataDir, factories, err);
            } catch (ConfigFileException e) {
                printConfigError(err, e);
                return EXIT_BAD_CONFIG;
            } catch (IllegalStateException e) {
                err.println("omnibus: " + e.getMessage());
                err.flush();
                return EXIT_START_FAILED;
            }
            Gateway gateway;
            java.util.concurrent.atomic.AtomicReference<Gateway> made = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.CompletableFuture<Gateway> starting = Gateway.start(c, factories, made::set)
                    .toCompletionStage().toCompletableFuture();
            // SIGTERM during a long recovery: the gateway stops (cleanly, exit 0) as soon as it has started
            installShutdown(starting, made, c, out);
            try {
                // no time limit: recovering a large store takes what it takes (the log shows its progress; /health/live answers)
                gateway = starting.get();
            } catch (Exception e) {
                Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
                err.println("omnibus: could not start: " + cause.getMessage());
                err.flush();
                return EXIT_START_FAILED;
            }
            long ms = (System.nanoTime() - began) / 1_000_000;
            // and since the process started (the launcher and the JVM's own start-up included)
            long sinceExec = sinceProcessStart();
            out.println("omnibus: ready in " + ms + " ms: " + gateway.describe()
                    + (sinceExec >= 0 ? "; " + sinceExec + " ms since the process started" : ""));
            out.flush();
            LOG.info("configuration {}, {}", c.source(), gateway.describe());
            return RUNNING;
        }

        private static void installShutdown(java.util.concurrent.CompletableFuture<Gateway> starting,
                                            java.util.concurrent.atomic.AtomicReference<Gateway> made, GatewayConfig c,
                                            PrintWriter out) {
            CountDownLatch once = new CountDownLatch(1);
            Runnable shutdown = () -> {
                if (once.getCount() == 0) {
                    return;
                }
                once.countDown();
                Thread t = new Thread(() -> {
                    Gateway gateway;
                    try {
                        Gateway standby = made.get();
                        if (!starting.isDone() && standby != null && standby.standby()) {
                            out.println("omnibus: stopped (a standby that never became active)");
                            out.flush();
                            Runtime.getRuntime().halt(EXIT_OK);
                        }
                        if (!starting.isDone()) {
                            out.println("omnibus: stopping once started (recovering the store)");
                            out.flush();
                        }
                        gateway = starting.get();
                    } catch (Exception failed) {
                        return; // it did not start: the main thread says so and exits
                    }
                    long began = System.nanoTime();
                    out.println("omnibus: stopping");
                    out.flush();
                    try {
                        gateway.stop().toCompletionStage().toCompletableFuture()
                                .get(c.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
                        out.println("omnibus: stopped in " + (System.nanoTime() - began) / 1_000_000 + " ms");
                        out.flush();
                        Runtime.getRuntime().halt(EXIT_OK);
                    } catch (Exception e) {
                        out.println("omnibus: did not stop within shutdown.timeout (" + c.shutdownTimeout().toMillis()
                                + " ms): " + e);
                        out.flush();
                        Runtime.getRuntime().halt(EXIT_START_FAILED);
                    }
                }, "omnibus-shutdown");
                t.start();
            };
            // A handler of our own, so SIGTERM ends with exit code 0 once everything is flushed.
            for (String signal : new String[] {"TERM", "INT"}) {
                try {
                    sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> shutdown.run());
                } catch (IllegalArgumentException e) {
                    LOG.debug("cannot handle SIG{}: {}", signal, e.getMessage());
                }
            }
        }
    }
}
