package io.omnibus.server;

import io.vertx.core.file.FileSystemOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where Vert.x unpacks class-path files it serves (the admin console's): a directory named after this process,
 * {@code <vertx.cacheDirBase>-omnibus-<pid>} ({@code /tmp/vertx-cache-omnibus-<pid>} by default), instead of Vert.x's
 * {@code /tmp/vertx-cache-<random>}. Vert.x removes its directory when the JVM exits normally, not after a
 * {@code kill -9} or a crash, so a gateway restarted by a supervisor after each crash left one more directory behind
 * every time. Named after the process, those of processes no longer running are known, and a start removes them.
 */
final class VertxCacheDir {
    private static final Logger LOG = LoggerFactory.getLogger(VertxCacheDir.class);

    private VertxCacheDir() {
    }

    /** The file-system options with this process's cache directory, after removing those of processes gone. */
    static FileSystemOptions options() {
        String base = FileSystemOptions.DEFAULT_FILE_CACHING_DIR; // vertx.cacheDirBase, if set
        if (base == null) {
            base = System.getProperty("java.io.tmpdir", ".") + File.separator + "vertx-cache";
        }
        Path prefix = Path.of(base + "-omnibus-");
        removeLeftBehind(prefix);
        // exact: this name, or with "-1", "-2" ... when taken (several gateways in one JVM, as tests run them)
        return new FileSystemOptions().setFileCacheDir(prefix.toString() + ProcessHandle.current().pid())
                .setFileCacheDirAsExactPath(true);
    }

    /**
     * Removes the directories {@code <prefix><pid>} and {@code <prefix><pid>-<n>} of processes not running. One whose
     * process id a running process has now is left (it may be that process's own): a later start removes it.
     */
    static void removeLeftBehind(Path prefix) {
        Path parent = prefix.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return;
        }
        Pattern ours = Pattern.compile(Pattern.quote(prefix.getFileName().toString()) + "(\\d+)(-\\d+)?");
        List<Path> gone;
        try (Stream<Path> entries = Files.list(parent)) {
            gone = entries.filter(p -> {
                Matcher m = ours.matcher(p.getFileName().toString());
                return m.matches() && Files.isDirectory(p) && !running(m.group(1));
            }).toList();
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not look for cache directories left behind in {}: {}", parent, e.toString());
            return;
        }
        for (Path dir : gone) {
            try (Stream<Path> tree = Files.walk(dir)) {
                for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
                LOG.debug("removed {}, left behind by a process no longer running", dir);
            } catch (IOException | RuntimeException e) {
                LOG.debug("could not remove {}: {}", dir, e.toString());
            }
        }
    }

    private static boolean running(String pid) {
        try {
            return ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
            return true; // not a process id we could have written: leave it
        }
    }
}
