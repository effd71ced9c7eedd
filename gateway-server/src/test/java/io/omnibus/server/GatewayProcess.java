package io.omnibus.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The gateway as users run it: {@code bin/omnibus} in a child process, with the test-only
 * adapters added through {@code OMNIBUS_CLASSPATH}. Always destroyed by {@link #close()}.
 */
final class GatewayProcess implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("omnibus.root", "..")).toAbsolutePath().normalize();

    final Process process;
    final List<String> out = new CopyOnWriteArrayList<>();
    final List<String> err = new CopyOnWriteArrayList<>();
    private final List<Thread> pumps = new ArrayList<>();

    private GatewayProcess(Process process) {
        this.process = process;
        pump(process.getInputStream(), out);
        pump(process.getErrorStream(), err);
    }

    static GatewayProcess run(Map<String, String> env, String... args) throws IOException {
        return runUnder(List.of(), env, args);
    }

    /**
     * As {@link #run}, the launcher run by {@code wrapper} (e.g. {@code ip netns exec NS}, which runs it in a
     * network namespace; it execs, so the process is still the gateway's).
     */
    static GatewayProcess runUnder(List<String> wrapper, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.add(ROOT.resolve("bin/omnibus").toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("OMNIBUS_NO_BUILD", "1");
        pb.environment().put("OMNIBUS_CLASSPATH", ROOT.resolve("gateway-server/target/test-classes").toString());
        pb.environment().put("OMNIBUS_OPTS", "-Xmx256m -Dio.netty.leakDetection.level=PARANOID");
        pb.environment().putAll(env);
        return new GatewayProcess(pb.start());
    }

    /**
     * The gateway started like {@code bin/omnibus} does, but without the jars of {@code target/lib} whose names start
     * with {@code missing}: an installation where that adapter was left out.
     */
    static GatewayProcess runWithout(String missing, String... args) throws IOException {
        List<String> classpath = new ArrayList<>();
        // the classes, not omnibus-server.jar: its manifest names every jar of lib/
        classpath.add(ROOT.resolve("gateway-server/target/classes").toString());
        try (var jars = Files.list(ROOT.resolve("gateway-server/target/lib"))) {
            jars.filter(j -> !j.getFileName().toString().startsWith(missing)).forEach(j -> classpath.add(j.toString()));
        }
        classpath.add(ROOT.resolve("gateway-server/target/test-classes").toString()); // the test-only adapters
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", String.join(java.io.File.pathSeparator, classpath), "io.omnibus.server.Main"));
        command.addAll(List.of(args));
        return new GatewayProcess(new ProcessBuilder(command).start());
    }

    static Path writeConfig(Path dir, String yaml) throws IOException {
        Path file = dir.resolve("gateway.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private void pump(java.io.InputStream in, List<String> sink) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    sink.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "gateway-output");
        t.setDaemon(true);
        t.start();
        pumps.add(t);
    }

    /** Waits for the ready line (or the process's death, which fails the test) and returns it. */
    String awaitReady() {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                .until(() -> out.stream().anyMatch(l -> l.startsWith("omnibus: ready")) || !process.isAlive());
        return out.stream().filter(l -> l.startsWith("omnibus: ready")).findFirst()
                .orElseThrow(() -> new AssertionError("gateway not ready ("
                        + (process.isAlive() ? "still running after 60 s" : "exited with status " + process.exitValue())
                        + "); stdout:\n" + lastLines(out, 20) + "\nstderr:\n" + lastLines(err, 60)));
    }

    /**
     * The last {@code n} lines a gateway printed, without the Kafka clients' configuration dumps (one line per setting,
     * indented by a tab), which would push the lines that explain a failure out of a report's view.
     */
    static String lastLines(List<String> lines, int n) {
        List<String> kept = lines.stream().filter(l -> !l.startsWith("\t") && !l.isEmpty()).toList();
        return String.join("\n", kept.subList(Math.max(0, kept.size() - n), kept.size()));
    }

    /**
     * The last {@code n} warnings and errors a gateway logged, wherever they are in its output: a Kafka client's
     * reconnection lines can fill the last lines of a report by the thousand and hide the one that explains a failure.
     */
    static String warnings(List<String> lines, int n) {
        List<String> kept = lines.stream().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
        return String.join("\n", kept.subList(Math.max(0, kept.size() - n), kept.size()));
    }

    /**
     * A port free now, for a gateway that must keep its port across restarts (ephemeral ports change). It is taken
     * below the system's ephemeral range (ip_local_port_range), so that no client's outgoing connection can hold it
     * by the time the gateway binds it (a listener cannot bind a port an outgoing connection uses).
     */
    static int freePort() throws IOException {
        int below = 32_768;
        // read to the end of the stream: Files.readString trusts the size a /proc file reports (0) and returned "3"
        // of "32768\t60999", so every port came from the ephemeral range, where clients' connections can take it
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Path.of(
                "/proc/sys/net/ipv4/ip_local_port_range"))) {
            below = Integer.parseInt(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim()
                    .split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            // not Linux: the usual default
        }
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 100 && below > 11_000; attempt++) {
            int port = random.nextInt(10_000, below);
            try (java.net.ServerSocket s = new java.net.ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new java.net.InetSocketAddress(port));
                return port;
            } catch (IOException inUse) {
                // another one
            }
        }
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    int waitForExit(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("gateway did not exit within " + seconds + " s; stdout:\n" + lastLines(out, 20)
                    + "\nstderr:\n" + lastLines(err, 60));
        }
        for (Thread t : pumps) {
            t.join(5_000); // everything the process printed is read before anyone looks at it
        }
        return process.exitValue();
    }

    String stdout() {
        return String.join("\n", out);
    }

    /**
     * What a failed wait needs to be understood: the gateway's last log lines and its threads' stacks (the JDK's
     * {@code jcmd}), as text for an assertion's message.
     */
    String diagnose() {
        StringBuilder s = new StringBuilder("gateway (pid ").append(process.pid()).append(", ")
                .append(process.isAlive() ? "running" : "exited with status " + process.exitValue())
                .append(") warnings and errors:\n").append(warnings(err, 40))
                .append("\nstderr:\n").append(lastLines(err, 80));
        if (process.isAlive()) {
            try {
                Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(process.pid()), "Thread.print").redirectErrorStream(true).start();
                String threads = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                jcmd.waitFor(30, TimeUnit.SECONDS);
                s.append("\nthreads:\n").append(threads);
            } catch (IOException | InterruptedException e) {
                s.append("\n(no thread dump: ").append(e).append(')');
            }
        }
        return s.toString();
    }

    String stderr() {
        return String.join("\n", err);
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
