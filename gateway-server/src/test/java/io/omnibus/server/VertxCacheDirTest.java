package io.omnibus.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class VertxCacheDirTest {
    @TempDir
    Path dir;

    @Test
    void removesTheDirectoriesOfProcessesGoneAndNothingElse() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor(10, TimeUnit.SECONDS);
        Process running = new ProcessBuilder("sleep", "60").start();
        try {
            Path prefix = dir.resolve("vertx-cache-omnibus-");
            Path gone = Files.createDirectories(dir.resolve("vertx-cache-omnibus-" + ended.pid()));
            Files.writeString(Files.createDirectories(gone.resolve("console")).resolve("index.html"), "<html/>");
            Path goneSecond = Files.createDirectories(dir.resolve("vertx-cache-omnibus-" + ended.pid() + "-1"));
            Path own = Files.createDirectories(dir.resolve("vertx-cache-omnibus-" + ProcessHandle.current().pid()));
            Path other = Files.createDirectories(dir.resolve("vertx-cache-omnibus-" + running.pid()));
            Path vertxOwn = Files.createDirectories(dir.resolve("vertx-cache-0b9a7c1e-5d1f-4c55-9a57-2f0e6e1c7a11"));
            Path unrelated = Files.createDirectories(dir.resolve("vertx-cache-omnibus-notes"));

            VertxCacheDir.removeLeftBehind(prefix);

            assertThat(gone).doesNotExist();
            assertThat(goneSecond).doesNotExist();
            assertThat(own).isDirectory();
            assertThat(other).isDirectory();
            assertThat(vertxOwn).isDirectory(); // Vert.x's own names say nothing of whose they are
            assertThat(unrelated).isDirectory();
        } finally {
            running.destroyForcibly();
        }
    }

    @Test
    void aBaseInADirectoryThatDoesNotExistIsLeftAlone() {
        VertxCacheDir.removeLeftBehind(dir.resolve("missing").resolve("vertx-cache-omnibus-"));
        assertThat(dir.resolve("missing")).doesNotExist();
    }
}
