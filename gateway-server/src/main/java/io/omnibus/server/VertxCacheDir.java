package io.omnibus.server;

import io.vertx.core.file.FileSystemOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where Vert.x unpacks class-path files it serves (the admin console's): {@code <vertx.cacheDirBase>-omnibus-<pid>-<random>}
 * ({@code /tmp/vertx-cache-omnibus-<pid>-<random>} by default) instead of Vert.x's {@code /tmp/vertx-cache-<random>}.
 * Vert.x removes its directory when the JVM exits normally, not after a {@code kill -9} or a crash, so a gateway
 * restarted by a supervisor after each crash left one more directory behind every time. With the process id in the
 * name, a start finds those of processes gone and removes them. The random part stays: a name others could foresee,
 * in a directory every user may write to, is one they could take first.
 */
final class VertxCacheDir {
    private static final Logger LOG = LoggerFactory.getLogger(VertxCacheDir.class);
    /**
     * How much earlier than the process now holding its id a directory must have been last changed to be another's:
     * a process's start time is known to about a second (the boot time's precision).
     */
    private static final Duration START_SLACK = Duration.ofSeconds(2);

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
        // Vert.x adds "-" and a random UUID (one directory per Vert.x instance: tests run several in one JVM)
        return new FileSystemOptions().setFileCacheDir(prefix.toString() + ProcessHandle.current().pid());
    }

    /**
     * Removes this user's directories {@code <prefix><pid>-<uuid>} of processes that are gone: no process has that id
     * now, or the one that has it started after the directory was last changed (a container's gateway has the same
     * process id at every start). Directories of other users, and anything that is not a directory, are left alone.
     */
    static void removeLeftBehind(Path prefix) {
        Path parent = prefix.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return;
        }
        Pattern ours = Pattern.compile(Pattern.quote(prefix.getFileName().toString())
                + "(\\d+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        List<Path> gone;
        try (Stream<Path> entries = Files.list(parent)) {
            UserPrincipal me = currentUser(parent);
            gone = entries.filter(p -> {
                Matcher m = ours.matcher(p.getFileName().toString());
                return m.matches() && leftBehind(p, m.group(1), me);
            }).toList();
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not look for cache directories left behind in {}: {}", parent, e.toString());
            return;
        }
        for (Path dir : gone) {
            try (Stream<Path> tree = Files.walk(dir)) { // does not follow links
                for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
                LOG.debug("removed {}, left behind by a process no longer running", dir);
            } catch (IOException | RuntimeException e) {
                LOG.debug("could not remove {}: {}", dir, e.toString());
            }
        }
    }

    /**
     * Who this process runs as: the owner of its {@code /proc} entry on Linux, which has a number even where the user
     * has no name (a container's arbitrary user id, whose {@code user.name} names nobody); else by {@code user.name}.
     */
    private static UserPrincipal currentUser(Path parent) throws IOException {
        Path self = Path.of("/proc/self");
        if (Files.isDirectory(self)) {
            return Files.getOwner(self);
        }
        return parent.getFileSystem().getUserPrincipalLookupService()
                .lookupPrincipalByName(System.getProperty("user.name"));
    }

    /** Whether {@code dir} (a name of ours) is a directory of this user that process {@code pid} no longer uses. */
    private static boolean leftBehind(Path dir, String pid, UserPrincipal me) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(dir, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isDirectory() || !me.equals(Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS))) {
                return false;
            }
            Optional<ProcessHandle> process = ProcessHandle.of(Long.parseLong(pid)).filter(ProcessHandle::isAlive);
            if (process.isEmpty()) {
                return true;
            }
            Optional<Instant> started = process.get().info().startInstant();
            return started.isPresent()
                    && attributes.lastModifiedTime().toInstant().isBefore(started.get().minus(START_SLACK));
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }
}
