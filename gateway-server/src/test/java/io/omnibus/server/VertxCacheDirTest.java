package io.omnibus.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class VertxCacheDirTest {
    @TempDir
    Path dir;

    private Path cache(long pid) throws Exception {
        return Files.createDirectories(dir.resolve("vertx-cache-omnibus-" + pid + "-" + UUID.randomUUID()));
    }

    @Test
    void removesThisUsersDirectoriesOfProcessesGoneAndNothingElse() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor(10, TimeUnit.SECONDS);
        Process running = new ProcessBuilder("sleep", "60").start();
        try {
            long own = ProcessHandle.current().pid();
            Path gone = cache(ended.pid());
            Files.writeString(Files.createDirectories(gone.resolve("console")).resolve("index.html"), "<html/>");
            Path goneSecond = cache(ended.pid());
            Path ours = cache(own);
            Path other = cache(running.pid());
            // the same process id as this JVM's, last changed before it started: a crashed gateway's in a container
            Path samePidBefore = cache(own);
            Files.setLastModifiedTime(samePidBefore, FileTime.from(Instant.now().minus(Duration.ofDays(1))));
            Path vertxOwn = Files.createDirectories(dir.resolve("vertx-cache-" + UUID.randomUUID()));
            Path unrelated = Files.createDirectories(dir.resolve("vertx-cache-omnibus-notes"));
            // a link named like a gone process's directory: not followed, not removed, its target untouched
            Path target = Files.createDirectories(dir.resolve("elsewhere"));
            Files.writeString(target.resolve("keep.txt"), "keep");
            Path link = Files.createSymbolicLink(dir.resolve("vertx-cache-omnibus-" + ended.pid() + "-"
                    + UUID.randomUUID()), target);

            VertxCacheDir.removeLeftBehind(dir.resolve("vertx-cache-omnibus-"));

            assertThat(gone).doesNotExist();
            assertThat(goneSecond).doesNotExist();
            assertThat(samePidBefore).doesNotExist();
            assertThat(ours).isDirectory();
            assertThat(other).isDirectory();
            assertThat(vertxOwn).isDirectory(); // Vert.x's own names say nothing of whose they are
            assertThat(unrelated).isDirectory();
            assertThat(link).isSymbolicLink();
            assertThat(target.resolve("keep.txt")).hasContent("keep");
        } finally {
            running.destroyForcibly();
        }
    }

    @Test
    void anotherUsersDirectoryIsLeftAlone() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor(10, TimeUnit.SECONDS);
        Path theirs = cache(ended.pid());
        UserPrincipal nobody = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        try {
            Files.setOwner(theirs, nobody);
        } catch (java.io.IOException e) {
            org.junit.jupiter.api.Assumptions.abort("cannot give a directory to another user here: " + e);
        }
        VertxCacheDir.removeLeftBehind(dir.resolve("vertx-cache-omnibus-"));
        assertThat(theirs).isDirectory();
    }

    @Test
    void aBaseInADirectoryThatDoesNotExistIsLeftAlone() {
        VertxCacheDir.removeLeftBehind(dir.resolve("missing").resolve("vertx-cache-omnibus-"));
        assertThat(dir.resolve("missing")).doesNotExist();
    }
}
