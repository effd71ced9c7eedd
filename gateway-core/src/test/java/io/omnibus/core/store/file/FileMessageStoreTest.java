package io.omnibus.core.store.file;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.DispatchPolicy;
import io.omnibus.core.spi.Envelope;
import io.omnibus.core.spi.Header;
import io.omnibus.core.spi.Origin;
import io.omnibus.core.spi.WireBatch;
import io.omnibus.core.spi.WireFormat;
import io.omnibus.core.store.CursorState;
import io.omnibus.core.store.StoredMessage;
import io.omnibus.core.store.SubscriptionRecord;
import io.omnibus.core.store.PartitionBatch;
import io.omnibus.core.store.TopicPartition;
import io.vertx.core.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(60)
class FileMessageStoreTest {
    private static final TopicPartition T = new TopicPartition(Address.of("sensors/t1"), 0);
    private static final TopicPartition U = new TopicPartition(Address.of("orders/é x.y"), 3);

    @TempDir
    Path dir;

    private final List<FileMessageStore> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (FileMessageStore s : open) {
            if (s.healthy()) {
                await(s.close());
            }
        }
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("future failed: " + e, e);
        }
    }

    /** Like {@link #await}, but a failed future throws its ExecutionException for the caller to inspect. */
    static <T> T awaitOrFail(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private FileMessageStore open(FileStoreOptions options) {
        FileMessageStore s = new FileMessageStore(options);
        await(s.open());
        open.add(s);
        return s;
    }

    private FileMessageStore open() {
        return open(FileStoreOptions.defaults(dir).withSegmentSize(64 * 1024, 16));
    }

    private static Envelope msg(String address, String payload) {
        return Envelope.builder(address).payload(payload).build();
    }

    private List<String> payloads(FileMessageStore s, TopicPartition tp) {
        return await(s.read(tp, 0, 100_000)).stream().map(m -> m.envelope().payloadAsString()).toList();
    }

    private void reopen(FileMessageStore s) {
        await(s.close());
        open.remove(s);
    }

    @Test
    void everyFieldOfTheEnvelopeReadsBackEqual() {
        FileMessageStore s = open();
        Envelope e = Envelope.builder(T.address()).messageId("m-1").key("k").payload(new byte[] {0, 1, 2, (byte) 255})
                .header("h", "v").header(Header.ofBytes("b", new byte[] {9, 8})).header("h", "w")
                .contentType("application/octet-stream").payloadUtf8(false).correlation(new byte[] {7})
                .replyTo("replies/1").createdAt(1234).expiresAt(99_999_999_999L).deliverAt(5678).priority(7)
                .durable(true).retain(true).deliveryCount(3).origin(new Origin("mqtt", "dev-1", "c-9")).build();
        assertThat(await(s.append(T, e))).isZero();
        StoredMessage m = await(s.read(T, 0, 10)).get(0);
        Envelope r = m.envelope();
        assertThat(m.offset()).isZero();
        assertThat(r.address()).isEqualTo(e.address());
        assertThat(r.messageId()).isEqualTo("m-1");
        assertThat(r.key()).isEqualTo(e.key());
        assertThat(r.payloadBytes()).containsExactly(0, 1, 2, 255);
        assertThat(r.headers()).isEqualTo(e.headers());
        assertThat(r.headers().get(1).isText()).isFalse();
        assertThat(r.contentType()).isEqualTo("application/octet-stream");
        assertThat(r.correlation()).isEqualTo(ByteBuffer.wrap(new byte[] {7}));
        assertThat(r.replyTo()).isEqualTo("replies/1");
        assertThat(r.createdAt()).isEqualTo(1234);
        assertThat(r.expiresAt()).isEqualTo(99_999_999_999L);
        assertThat(r.deliverAt()).isEqualTo(5678);
        assertThat(r.priority()).isEqualTo(7);
        assertThat(r.retain()).isTrue();
        assertThat(r.deliveryCount()).isEqualTo(3);
        assertThat(r.origin()).isEqualTo(new Origin("mqtt", "dev-1", "c-9"));
    }

    @Test
    void runsOfRecordsAcrossSegmentsAndInterleavedPartitionsReadBackInOrder() {
        FileMessageStore s = open(); // 64 KiB segments: a read of 600 x 1 KiB spans ten of them
        TopicPartition other = new TopicPartition(T.address(), 1);
        String kb = "y".repeat(1000);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            List<Envelope> batch = List.of(msg("sensors/t1", i + "a" + kb), msg("sensors/t1", i + "b" + kb));
            assertThat(await(s.appendAll(T, batch))).isEqualTo(2L * i); // a batch: consecutive offsets, the first's
            expected.add(i + "a" + kb);
            expected.add(i + "b" + kb);
            if (i % 7 == 0) {
                await(s.append(other, msg("sensors/t1", "between")));
            }
        }
        assertThat(payloads(s, T)).isEqualTo(expected);
        assertThat(await(s.read(T, 451, 3))).extracting(StoredMessage::offset).containsExactly(451L, 452L, 453L);
        reopen(s);
        assertThat(payloads(open(), T)).isEqualTo(expected);
    }

    /** A format for tests: the batch's bytes are lines of UTF-8, one message's payload each. */
    static final class Lines implements WireFormat {
        @Override
        public String name() {
            return "test-lines";
        }

        @Override
        public List<Envelope> envelopes(ByteBuffer bytes, Envelope template) {
            String text = java.nio.charset.StandardCharsets.UTF_8.decode(bytes).toString();
            return Stream.of(text.split("\n")).map(line -> template.toBuilder().payload(line).build()).toList();
        }

        static WireBatch batch(String format, Address address, String... lines) {
            Envelope template = Envelope.builder(address).origin(new Origin("test", "producer-1", "c-1")).createdAt(42)
                    .build();
            ByteBuffer bytes = ByteBuffer.wrap(String.join("\n", lines).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return new WireBatch(format, bytes, template, Stream.of(lines)
                    .map(line -> template.toBuilder().payload(line).build()).toList());
        }
    }

    @Test
    void aWireBatchIsKeptAsItCameAndItsMessagesReadBackAtTheirOffsetsAcrossACrash() throws Exception {
        WireFormat.Registry.register(new Lines());
        FileMessageStore s = open(FileStoreOptions.defaults(dir).withSegmentSize(64 * 1024, 16)
                .withCheckpointInterval(Duration.ofHours(1))); // all of it after the last checkpoint: recovery indexes it
        assertThat(await(s.append(T, msg("sensors/t1", "p0")))).isZero();
        WireBatch abc = Lines.batch("test-lines", T.address(), "a", "b", "c");
        assertThat(await(s.appendAll(T, abc))).isEqualTo(1);
        assertThat(await(s.append(T, msg("sensors/t1", "p4")))).isEqualTo(4);
        assertThat(await(s.appendAll(T, Lines.batch("no-such-format", T.address(), "x", "y")))).isEqualTo(5);
        assertThat(await(s.appendAll(T, Lines.batch("test-lines", T.address(), "d", "e")))).isEqualTo(7);
        readsBackAsAppended(s, abc);
        simulateCrash(s);
        FileMessageStore again = open(FileStoreOptions.defaults(dir).withSegmentSize(64 * 1024, 16));
        assertThat(again.endOffset(T)).isEqualTo(9);
        readsBackAsAppended(again, abc);
        assertThat(await(again.append(T, msg("sensors/t1", "p9")))).isEqualTo(9);
    }

    private void readsBackAsAppended(FileMessageStore store, WireBatch abc) {
        List<StoredMessage> all = await(store.read(T, 0, 100));
        // the batch of a format not on the class path cannot be read: its messages are missing, not the rest
        assertThat(all).extracting(StoredMessage::offset).containsExactly(0L, 1L, 2L, 3L, 4L, 7L, 8L);
        assertThat(all).extracting(m -> m.envelope().payloadAsString()).containsExactly("p0", "a", "b", "c", "p4", "d", "e");
        assertThat(all.get(0).batch()).isNull();
        WireBatch read = all.get(2).batch();
        assertThat(read.format()).isEqualTo("test-lines");
        assertThat(read.bytes()).isEqualTo(abc.bytes());
        assertThat(read.firstOffset()).isEqualTo(1);
        assertThat(read.lastOffset()).isEqualTo(3);
        assertThat(all.get(2).envelope().origin()).isEqualTo(new Origin("test", "producer-1", "c-1"));
        assertThat(all.get(2).envelope().createdAt()).isEqualTo(42);
        assertThat(all.get(6).batch().firstOffset()).isEqualTo(7);
        // a read from inside a batch starts at the offset asked for
        assertThat(await(store.read(T, 2, 2))).extracting(m -> m.envelope().payloadAsString()).containsExactly("b", "c");
        assertThat(await(store.read(T, 3, 1)).get(0).batch().firstOffset()).isEqualTo(1);
        // read lazily, the messages are decoded when first asked for
        assertThat(await(store.readLazily(T, 1, 3, false))).extracting(m -> m.envelope().payloadAsString())
                .containsExactly("a", "b", "c");
        // in files: a batch of several messages is its place in the segment's file, read only when asked for
        List<StoredMessage> inFiles = await(store.readLazily(T, 0, 100, true));
        assertThat(inFiles).extracting(StoredMessage::offset).containsExactly(0L, 1L, 2L, 3L, 4L, 7L, 8L);
        assertThat(inFiles.get(0).batch()).isNull();
        WireBatch placed = inFiles.get(1).batch();
        assertThat(placed.file()).isNotNull();
        assertThat(placed.byteSize()).isEqualTo(abc.byteSize());
        assertThat(placed.firstOffset()).isEqualTo(1);
        assertThat(placed.bytes()).isEqualTo(abc.bytes());
        assertThat(inFiles).extracting(m -> m.envelope().payloadAsString()).containsExactly("p0", "a", "b", "c", "p4", "d", "e");
        assertThat(await(store.readLazily(T, 8, 1, true))).singleElement()
                .satisfies(m -> assertThat(m.batch().firstOffset()).isEqualTo(7));
    }

    @Test
    void aFileThatIsNotAnIndexDirectoryDoesNotStopAStart() throws Exception {
        FileMessageStore s = open();
        assertThat(await(s.append(T, msg("sensors/t1", "before")))).isZero();
        reopen(s);
        List<java.nio.file.Path> strays = new ArrayList<>(); // an operator's files, a backup, an editor's
        strays.add(dir.resolve("index").resolve("notes.txt"));
        try (var logs = java.nio.file.Files.list(dir.resolve("commitlog"))) {
            strays.add(logs.findFirst().orElseThrow().resolveSibling("backup.log"));
        }
        try (var indexes = java.nio.file.Files.list(dir.resolve("index"))) {
            strays.add(indexes.filter(java.nio.file.Files::isDirectory).findFirst().orElseThrow().resolve("old.idx"));
        }
        for (java.nio.file.Path stray : strays) {
            java.nio.file.Files.writeString(stray, "not ours");
        }
        FileMessageStore again = open();
        assertThat(payloads(again, T)).containsExactly("before");
        assertThat(await(again.append(T, msg("sensors/t1", "after")))).isEqualTo(1);
        for (java.nio.file.Path stray : strays) {
            assertThat(stray).hasContent("not ours");
        }
    }

    @Test
    void offsetsArePerPartitionAndSurviveARestart() {
        FileMessageStore s = open();
        for (int i = 0; i < 300; i++) {
            assertThat(await(s.append(i % 2 == 0 ? T : U, msg((i % 2 == 0 ? T : U).address().name(), "m" + i))))
                    .isEqualTo(i / 2);
        }
        reopen(s);
        FileMessageStore again = open();
        assertThat(again.partitions()).containsExactlyInAnyOrder(T, U);
        assertThat(again.endOffset(T)).isEqualTo(150);
        assertThat(await(again.append(T, msg("sensors/t1", "after")))).isEqualTo(150);
        List<String> t = payloads(again, T);
        assertThat(t).hasSize(151).startsWith("m0", "m2").endsWith("m298", "after");
        assertThat(await(again.read(U, 140, 5))).extracting(StoredMessage::offset).containsExactly(140L, 141L, 142L, 143L, 144L);
    }

    @Test
    void recoveryWithoutACleanCloseRebuildsIndexesFromTheLog() throws Exception {
        // a checkpoint far in the future: everything written is after the last checkpoint
        FileMessageStore s = open(FileStoreOptions.defaults(dir).withSegmentSize(64 * 1024, 16)
                .withCheckpointInterval(Duration.ofHours(1)));
        for (int i = 0; i < 200; i++) {
            await(s.append(T, msg("sensors/t1", "m" + i)));
        }
        simulateCrash(s);
        // the index files written after the checkpoint are not trusted: make them wrong to prove it
        try (Stream<Path> files = Files.walk(dir.resolve("index"))) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".idx"))::iterator) {
                Files.write(f, new byte[] {1, 2, 3});
            }
        }
        FileMessageStore again = open(FileStoreOptions.defaults(dir).withSegmentSize(64 * 1024, 16));
        assertThat(payloads(again, T)).hasSize(200).startsWith("m0").endsWith("m199");
    }

    /** The zeros written ahead of the records end the log after a crash; every acknowledged record is read back. */
    @Test
    void theZerosWrittenAheadOfTheRecordsEndTheLogAfterACrash() throws Exception {
        FileMessageStore s = open();
        for (int i = 0; i < 10; i++) {
            await(s.append(T, msg("sensors/t1", "m" + i)));
        }
        simulateCrash(s);
        assertThat(Files.size(lastSegment())).as("zeros after the records").isGreaterThan(dataEnd(lastSegment()));
        FileMessageStore again = open();
        assertThat(payloads(again, T)).hasSize(10).startsWith("m0").endsWith("m9");
        assertThat(await(again.append(T, msg("sensors/t1", "next")))).isEqualTo(10);
        simulateCrash(again);
        FileMessageStore third = open();
        assertThat(payloads(third, T)).hasSize(11).endsWith("m9", "next");
        assertThat(third.endOffset(T)).isEqualTo(11);
    }

    /** A full segment is cut to its records when the next one starts: only the last segment has zeros ahead. */
    @Test
    void segmentsRolledOverKeepNoZerosAndAllRecordsReadBackAfterACrash() throws Exception {
        FileStoreOptions small = FileStoreOptions.defaults(dir).withSegmentSize(64 * 1024, 16)
                .withCheckpointInterval(Duration.ofHours(1)).withPreallocate(16 * 1024);
        FileMessageStore s = open(small);
        String kb = "x".repeat(1000);
        for (int i = 0; i < 200; i++) {
            await(s.append(T, msg("sensors/t1", kb + i)));
        }
        simulateCrash(s);
        Path last = lastSegment();
        try (Stream<Path> files = Files.list(dir.resolve("commitlog"))) {
            List<Path> full = files.filter(p -> p.toString().endsWith(".log") && !p.equals(last)).toList();
            assertThat(full).hasSizeGreaterThan(1);
            for (Path f : full) {
                assertThat(Files.size(f)).as(f.toString()).isEqualTo(dataEnd(f));
            }
        }
        assertThat(Files.size(last)).isGreaterThan(dataEnd(last));
        FileMessageStore again = open(small);
        assertThat(payloads(again, T)).hasSize(200).startsWith(kb + 0).endsWith(kb + 199);
        assertThat(await(again.append(T, msg("sensors/t1", "after")))).isEqualTo(200);
    }

    /** With zeros ahead, the torn record's last bytes read as zeros and fail its CRC. */
    @Test
    void aTornTailIsCutAndWritingContinuesAfterTheLastWholeRecord() throws Exception {
        tornTailIsCutAndWritingContinues(FileStoreOptions.defaults(dir), true);
    }

    /** Without zeros ahead ({@code preallocate: 0}, {@code fsync: os}, large fsyncs) a torn file ends early. */
    @Test
    void aTornTailIsCutWhereTheFileEndsEarlyWithoutZerosAhead() throws Exception {
        tornTailIsCutAndWritingContinues(FileStoreOptions.defaults(dir).withPreallocate(0), false);
    }

    private void tornTailIsCutAndWritingContinues(FileStoreOptions options, boolean zerosAhead)
            throws Exception {
        FileMessageStore s = open(options);
        for (int i = 0; i < 10; i++) {
            await(s.append(T, msg("sensors/t1", "m" + i)));
        }
        simulateCrash(s);
        assertThat(Files.size(lastSegment()) > dataEnd(lastSegment())).as("zeros after the records").isEqualTo(zerosAhead);
        tearLastRecord(); // the last record is torn
        FileMessageStore again = open(options);
        assertThat(payloads(again, T)).hasSize(9).endsWith("m8");
        assertThat(await(again.append(T, msg("sensors/t1", "next")))).isEqualTo(9);
        assertThat(payloads(again, T)).hasSize(10).endsWith("m8", "next");
    }

    @Test
    void anAtomicGroupTornByACrashIsCutWholeAcrossItsPartitions() throws Exception {
        FileMessageStore s = open();
        await(s.append(T, msg("sensors/t1", "before")));
        awaitGroup(s, List.of(new PartitionBatch(T, List.of(msg("sensors/t1", "t-a"), msg("sensors/t1", "t-b"))),
                new PartitionBatch(U, List.of(msg("orders/é x.y", "u-a")))));
        long[] offsets = awaitGroup(s, List.of(new PartitionBatch(U, List.of(msg("orders/é x.y", "u-b"))),
                new PartitionBatch(T, List.of(msg("sensors/t1", "t-c"), msg("sensors/t1", "t-d")))));
        assertThat(offsets).containsExactly(1, 3);
        simulateCrash(s);
        tearLastRecord(); // the second group's last record is torn: its first two are whole
        FileMessageStore again = open();
        assertThat(payloads(again, T)).containsExactly("before", "t-a", "t-b");
        assertThat(payloads(again, U)).containsExactly("u-a");
        assertThat(await(again.append(U, msg("orders/é x.y", "next")))).isEqualTo(1);
    }

    @Test
    void aStateChangeInAGroupIsKeptWithItsMessagesOrCutWithThem() throws Exception {
        FileMessageStore s = open();
        io.vertx.core.Promise<long[]> first = io.vertx.core.Promise.promise();
        s.appendAtomically(List.of(new PartitionBatch(T, List.of(msg("sensors/t1", "one")))),
                List.of(new io.omnibus.core.store.StateChange("outcomes", "tx-1", "c".getBytes())), List.of(), first);
        await(first.future());
        io.vertx.core.Promise<long[]> second = io.vertx.core.Promise.promise();
        s.appendAtomically(List.of(new PartitionBatch(T, List.of(msg("sensors/t1", "two")))),
                List.of(new io.omnibus.core.store.StateChange("outcomes", "tx-2", "c".getBytes())), List.of(), second);
        await(second.future());
        assertThat(s.states("outcomes")).containsOnlyKeys("tx-1", "tx-2");
        simulateCrash(s);
        tearLastRecord(); // the second group's state change is torn
        FileMessageStore again = open();
        assertThat(payloads(again, T)).containsExactly("one");
        assertThat(again.states("outcomes")).containsOnlyKeys("tx-1");
    }

    @Test
    void aMultiMessageBatchTornByACrashIsCutWhole() throws Exception {
        FileMessageStore s = open();
        await(s.appendAll(T, List.of(msg("sensors/t1", "a0"), msg("sensors/t1", "a1"))));
        await(s.appendAll(T, List.of(msg("sensors/t1", "b0"), msg("sensors/t1", "b1"), msg("sensors/t1", "b2"))));
        simulateCrash(s);
        tearLastRecord();
        FileMessageStore again = open();
        assertThat(payloads(again, T)).containsExactly("a0", "a1");
    }

    @Test
    void aWholeGroupSurvivesACrashAndReadsBackInPartitionOrder() throws Exception {
        FileMessageStore s = open();
        awaitGroup(s, List.of(new PartitionBatch(T, List.of(msg("sensors/t1", "t-a"))),
                new PartitionBatch(U, List.of(msg("orders/é x.y", "u-a"), msg("orders/é x.y", "u-b")))));
        await(s.append(T, msg("sensors/t1", "after")));
        simulateCrash(s);
        FileMessageStore again = open();
        assertThat(payloads(again, T)).containsExactly("t-a", "after");
        assertThat(payloads(again, U)).containsExactly("u-a", "u-b");
    }

    private static long[] awaitGroup(FileMessageStore s, List<PartitionBatch> batches) {
        io.vertx.core.Promise<long[]> done = io.vertx.core.Promise.promise();
        s.appendAtomically(batches, List.of(), List.of(), done);
        return await(done.future());
    }

    /** Without zeros ahead: the garbage's length runs past the file's end (with zeros, a torn record fails its CRC). */
    @Test
    void garbageAfterTheLastRecordIsCut() throws Exception {
        FileMessageStore s = open(FileStoreOptions.defaults(dir).withPreallocate(0));
        await(s.append(T, msg("sensors/t1", "only")));
        simulateCrash(s);
        try (RandomAccessFile f = new RandomAccessFile(lastSegment().toFile(), "rw")) {
            f.seek(dataEnd(lastSegment()));
            f.write(new byte[] {0, 0, 1, 0, 42, 42, 42});
        }
        FileMessageStore again = open();
        assertThat(payloads(again, T)).containsExactly("only");
        assertThat(await(again.append(T, msg("sensors/t1", "two")))).isEqualTo(1);
    }

    @Test
    void aBitFlipIsDetectedNeverDeliveredAndTheRestStaysReadable() throws Exception {
        FileMessageStore s = open();
        for (int i = 0; i < 5; i++) {
            await(s.append(T, msg("sensors/t1", "payload-" + i)));
        }
        await(s.checkpointNow());
        flipByteOf(s, 2);
        // the read path checks the CRC
        assertThat(payloads(s, T)).containsExactly("payload-0", "payload-1", "payload-3", "payload-4");
        reopen(s);
        FileMessageStore again = open();
        assertThat(payloads(again, T)).containsExactly("payload-0", "payload-1", "payload-3", "payload-4");
    }

    @Test
    void aBitFlipAfterTheCheckpointIsSkippedByRecoveryWhichKeepsTheRecordsAfterIt() throws Exception {
        FileMessageStore s = open(FileStoreOptions.defaults(dir).withSegmentSize(64 * 1024, 16)
                .withCheckpointInterval(Duration.ofHours(1)));
        for (int i = 0; i < 5; i++) {
            await(s.append(T, msg("sensors/t1", "payload-" + i)));
        }
        flipByteOf(s, 1);
        simulateCrash(s);
        FileMessageStore again = open();
        assertThat(payloads(again, T)).containsExactly("payload-0", "payload-2", "payload-3", "payload-4");
        assertThat(await(again.read(T, 0, 10))).extracting(StoredMessage::offset).containsExactly(0L, 2L, 3L, 4L);
        assertThat(await(again.append(T, msg("sensors/t1", "payload-5")))).isEqualTo(5);
    }

    @Test
    void aDirectoryWrittenByANewerStoreFormatIsRefusedAndTheFormatIsMarked() throws Exception {
        FileMessageStore s = open();
        assertThat(Files.readString(dir.resolve("format")).trim()).isEqualTo(Integer.toString(FileMessageStore.FORMAT));
        reopen(s);
        Files.writeString(dir.resolve("format"), (FileMessageStore.FORMAT + 1) + "\n");
        FileMessageStore newer = new FileMessageStore(FileStoreOptions.defaults(dir));
        assertThatThrownBy(() -> awaitOrFail(newer.open())).hasMessageContaining("written by a newer gateway");
        Files.writeString(dir.resolve("format"), FileMessageStore.FORMAT + "\n");
        open(); // and the lock was let go
    }

    @Test
    void theDataDirectoryIsLocked() {
        open();
        FileMessageStore second = new FileMessageStore(FileStoreOptions.defaults(dir));
        assertThatThrownBy(() -> await(second.open())).hasMessageContaining("is in use by another gateway")
                .hasMessageContaining(dir.toAbsolutePath().toString());
    }

    @Test
    void aNewSubscriptionStartsAtTheEndOfEveryPartitionItsFilterMatches() throws Exception {
        FileMessageStore s = open();
        TopicPartition p0 = new TopicPartition(Address.of("dev/1"), 0);
        TopicPartition p2 = new TopicPartition(Address.of("dev/1"), 2); // partition 1 has nothing
        TopicPartition other = new TopicPartition(Address.of("dev/2"), 0);
        await(s.append(p0, msg("dev/1", "a")));
        await(s.append(p0, msg("dev/1", "b")));
        await(s.append(p2, msg("dev/1", "c")));
        await(s.append(other, msg("dev/2", "d")));
        await(s.saveSubscription(new SubscriptionRecord("exact", "dev/1", null)));
        await(s.saveSubscription(new SubscriptionRecord("wild", "dev/+", null)));
        java.util.Map<String, java.util.Map<TopicPartition, CursorState>> cursors = new java.util.HashMap<>();
        await(s.subscriptions()).forEach((r, c) -> cursors.put(r.name(), c));
        assertThat(cursors.get("exact")).containsOnlyKeys(p0, p2);
        assertThat(cursors.get("exact").get(p0).ackedBelow()).isEqualTo(2);
        assertThat(cursors.get("exact").get(p2).ackedBelow()).isEqualTo(1);
        assertThat(cursors.get("wild")).containsOnlyKeys(p0, p2, other);
        // after a restart (the partitions known again from the checkpoint and the log) the same
        reopen(s);
        FileMessageStore again = open();
        await(again.append(p2, msg("dev/1", "e")));
        await(again.saveSubscription(new SubscriptionRecord("later", "dev/1", null)));
        java.util.Map<TopicPartition, CursorState> later = new java.util.HashMap<>();
        await(again.subscriptions()).forEach((r, c) -> {
            if (r.name().equals("later")) {
                later.putAll(c);
            }
        });
        assertThat(later).containsOnlyKeys(p0, p2);
        assertThat(later.get(p2).ackedBelow()).isEqualTo(2);
        // a partition first written after the last checkpoint, known again by reading the log after a crash
        TopicPartition p5 = new TopicPartition(Address.of("dev/1"), 5);
        await(again.append(p5, msg("dev/1", "f")));
        simulateCrash(again);
        FileMessageStore scanned = open();
        await(scanned.saveSubscription(new SubscriptionRecord("after-crash", "dev/1", null)));
        java.util.Map<TopicPartition, CursorState> afterCrash = new java.util.HashMap<>();
        await(scanned.subscriptions()).forEach((r, c) -> {
            if (r.name().equals("after-crash")) {
                afterCrash.putAll(c);
            }
        });
        assertThat(afterCrash).containsOnlyKeys(p0, p2, p5);
        assertThat(afterCrash.get(p5).ackedBelow()).isEqualTo(1);
    }

    @Test
    void subscriptionsCursorsAndStateSurviveARestart() {
        FileMessageStore s = open();
        await(s.saveSubscription(new SubscriptionRecord("billing", "orders/#", DispatchPolicy.FAIR)));
        await(s.saveSubscription(new SubscriptionRecord("gone", "x", null)));
        await(s.deleteSubscription("gone"));
        s.saveCursor("billing", U, new CursorState(7, List.of(new long[] {9, 11})));
        await(s.putState("retained", "a/b", new byte[] {1, 2}));
        await(s.putState("retained", "a/c", new byte[] {3}));
        await(s.putState("retained", "a/c", null));
        reopen(s);
        FileMessageStore again = open();
        var subs = await(again.subscriptions());
        assertThat(subs).hasSize(1);
        var entry = subs.entrySet().iterator().next();
        assertThat(entry.getKey()).isEqualTo(new SubscriptionRecord("billing", "orders/#", DispatchPolicy.FAIR));
        CursorState c = entry.getValue().get(U);
        assertThat(c.ackedBelow()).isEqualTo(7);
        assertThat(c.ackedRanges()).hasSize(1);
        assertThat(c.ackedRanges().get(0)).containsExactly(9, 11);
        assertThat(again.states("retained")).containsOnlyKeys("a/b");
        assertThat(again.states("retained").get("a/b")).containsExactly(1, 2);
        // one key looked up, as an MQTT CONNECT does: what states() holds, null for a removed key or namespace
        assertThat(again.state("retained", "a/b")).containsExactly(1, 2);
        assertThat(again.state("retained", "a/c")).isNull();
        assertThat(again.state("no-such-namespace", "a/b")).isNull();
    }

    @Test
    void stateChangesAfterTheLastCheckpointAreReplayed() throws Exception {
        FileMessageStore s = open(FileStoreOptions.defaults(dir).withCheckpointInterval(Duration.ofHours(1)));
        await(s.putState("sessions", "client-1", new byte[] {5}));
        await(s.saveSubscription(new SubscriptionRecord("late", "t", null)));
        simulateCrash(s);
        FileMessageStore again = open();
        assertThat(again.states("sessions")).containsOnlyKeys("client-1");
        assertThat(again.state("sessions", "client-1")).containsExactly(5);
        assertThat(await(again.subscriptions()).keySet()).extracting(SubscriptionRecord::name).containsExactly("late");
    }

    @Test
    void sizeRetentionDropsWholeSegmentsAndCountsWhatACursorStillNeeded() {
        FileMessageStore s = open(FileStoreOptions.defaults(dir).withSegmentSize(16 * 1024, 64)
                .withCheckpointInterval(Duration.ofHours(1))
                .withRetention(a -> new FileStoreOptions.Retention(Duration.ZERO, 20 * 1024)));
        await(s.saveSubscription(new SubscriptionRecord("slow", "sensors/t1", null)));
        s.saveCursor("slow", T, new CursorState(100, List.of()));
        String kb = "x".repeat(1000);
        for (int i = 0; i < 200; i++) {
            await(s.append(T, msg("sensors/t1", kb)));
        }
        long segmentsBefore = segmentCount();
        await(s.checkpointNow());
        assertThat(s.startOffset(T)).isGreaterThan(150);
        assertThat(segmentCount()).isLessThan(segmentsBefore);
        assertThat(s.droppedByRetention()).isEqualTo(s.startOffset(T) - 100);
        List<StoredMessage> left = await(s.read(T, 0, 1000));
        assertThat(left.get(0).offset()).isEqualTo(s.startOffset(T));
        assertThat(left.get(left.size() - 1).offset()).isEqualTo(199);
    }

    /**
     * Index files wholly before a partition's start go at the checkpoint after retention moved it, again each time it
     * moves on (the directory is looked at only then), and a restart reads from the start.
     */
    @Test
    void indexFilesBeforeTheStartGoAtEachCheckpointThatMovesIt() {
        FileStoreOptions options = FileStoreOptions.defaults(dir).withSegmentSize(16 * 1024, 16)
                .withCheckpointInterval(Duration.ofHours(1))
                .withRetention(a -> new FileStoreOptions.Retention(Duration.ZERO, 20 * 1024));
        FileMessageStore s = open(options);
        String kb = "x".repeat(1000);
        for (int i = 0; i < 100; i++) {
            await(s.append(T, msg("sensors/t1", kb)));
        }
        await(s.checkpointNow());
        long first = s.startOffset(T);
        assertThat(first).isGreaterThan(32);
        assertThat(indexFileBases()).isNotEmpty().allMatch(base -> base + 16 > first);
        for (int i = 0; i < 100; i++) {
            await(s.append(T, msg("sensors/t1", kb)));
        }
        await(s.checkpointNow());
        long second = s.startOffset(T);
        assertThat(second).isGreaterThan(first + 16);
        assertThat(indexFileBases()).contains(second - second % 16).allMatch(base -> base + 16 > second);
        reopen(s);
        List<StoredMessage> left = await(open(options).read(T, 0, 1000));
        assertThat(left.get(0).offset()).isEqualTo(second);
        assertThat(left.get(left.size() - 1).offset()).isEqualTo(199);
    }

    /**
     * A crash while a checkpoint deletes index files leaves files before the start, which a start does not look for;
     * the marker written before the deletions has the next start's first checkpoint take them.
     */
    @Test
    void indexFilesACrashLeftDuringTheirDeletionGoAtTheNextCheckpoint() throws Exception {
        FileStoreOptions options = FileStoreOptions.defaults(dir).withSegmentSize(16 * 1024, 16)
                .withCheckpointInterval(Duration.ofHours(1));
        FileMessageStore s = open(options);
        for (int i = 0; i < 40; i++) {
            await(s.append(T, msg("sensors/t1", "m" + i)));
        }
        await(s.truncate(T)); // the start moves to 40: the files of offsets 0-15 and 16-31 go
        assertThat(indexFileBases()).isNotEmpty().allMatch(base -> base + 16 > 40);
        assertThat(dir.resolve(StoreWriter.DELETING)).doesNotExist();
        Path index;
        try (Stream<Path> files = Files.walk(dir.resolve("index"))) {
            index = files.filter(f -> f.getFileName().toString().endsWith(".idx")).findFirst().orElseThrow().getParent();
        }
        reopen(s);
        // what a crash in the middle of those deletions leaves: the files, and the marker
        Files.write(index.resolve("00000000000000000000.idx"), new byte[64]);
        Files.write(index.resolve("00000000000000000016.idx"), new byte[64]);
        FileMessageStore unmarked = open(options);
        await(unmarked.checkpointNow());
        assertThat(indexFileBases()).contains(0L, 16L); // without the marker, no start looks for them
        reopen(unmarked);
        Files.write(dir.resolve(StoreWriter.DELETING), new byte[0]);
        FileMessageStore marked = open(options);
        await(marked.checkpointNow());
        assertThat(indexFileBases()).isNotEmpty().allMatch(base -> base + 16 > 40);
        assertThat(dir.resolve(StoreWriter.DELETING)).doesNotExist();
        await(marked.append(T, msg("sensors/t1", "after")));
        assertThat(payloads(marked, T)).containsExactly("after");
    }

    private List<Long> indexFileBases() {
        try (Stream<Path> files = Files.walk(dir.resolve("index"))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".idx"))
                    .map(n -> Long.parseLong(n.substring(0, n.length() - 4))).toList();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Read in files, a batch record's head is not under a CRC check: a damaged one costs that batch, not the read. */
    @Test
    void aDamagedBatchHeadReadInFilesLosesThatBatchOnly() throws Exception {
        WireFormat.Registry.register(new Lines());
        FileMessageStore s = open();
        await(s.append(T, msg("sensors/t1", "p0")));
        await(s.appendAll(T, Lines.batch("test-lines", T.address(), "a", "b")));
        await(s.append(T, msg("sensors/t1", "p3")));
        await(s.flush());
        Path seg = lastSegment();
        int at = new String(Files.readAllBytes(seg), java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("test-lines");
        assertThat(at).isPositive();
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            f.seek(at - 2); // the format name's length, made negative
            f.writeShort(-5);
        }
        assertThat(await(s.readLazily(T, 0, 10, true))).extracting(m -> m.envelope().payloadAsString())
                .containsExactly("p0", "p3");
    }

    /** A batch record's bytes count once for size retention, not once per message it holds. */
    @Test
    void sizeRetentionCountsABatchRecordOnce() {
        WireFormat.Registry.register(new Lines());
        FileMessageStore s = open(FileStoreOptions.defaults(dir).withSegmentSize(16 * 1024, 64)
                .withCheckpointInterval(Duration.ofHours(1))
                .withRetention(a -> new FileStoreOptions.Retention(Duration.ZERO, 40 * 1024)));
        String kb = "x".repeat(1000);
        for (int i = 0; i < 100; i++) { // 500 KB in batches of five 1 KB messages
            await(s.appendAll(T, Lines.batch("test-lines", T.address(), kb, kb, kb, kb, kb)));
        }
        for (int pass = 0; pass < 6; pass++) { // each checkpoint runs retention again, over what the last one left
            await(s.checkpointNow());
            long kept = s.endOffset(T) - s.startOffset(T);
            // about 40 KB of messages are kept: counted five times over, a batch would leave about 8; counted again
            // by each pass that ends inside it, ever more would be kept
            assertThat(kept).as("pass %d", pass).isBetween(30L, 45L);
            assertThat(await(s.read(T, s.startOffset(T), 100))).hasSize((int) kept);
            for (int i = 0; i < 20; i++) {
                await(s.appendAll(T, Lines.batch("test-lines", T.address(), kb, kb, kb, kb, kb)));
            }
        }
    }

    @Test
    void ageRetentionNeverPassesADurableCursor() {
        FileMessageStore s = open(FileStoreOptions.defaults(dir).withSegmentSize(16 * 1024, 64)
                .withCheckpointInterval(Duration.ofHours(1))
                .withRetention(a -> new FileStoreOptions.Retention(Duration.ofMillis(1), 0)));
        await(s.saveSubscription(new SubscriptionRecord("reader", "sensors/#", null)));
        s.saveCursor("reader", T, new CursorState(30, List.of()));
        for (int i = 0; i < 50; i++) {
            await(s.append(T, msg("sensors/t1", "m" + i)));
        }
        for (int i = 0; i < 20; i++) {
            await(s.append(U, msg(U.address().name(), "u" + i)));
        }
        long written = System.currentTimeMillis();
        // the index keeps append times in whole seconds: let the oldest be more than a second old
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> System.currentTimeMillis() >= written + 2_000);
        await(s.checkpointNow());
        assertThat(s.startOffset(T)).isEqualTo(30);
        assertThat(s.startOffset(U)).as("no durable cursor reads it").isEqualTo(20);
        assertThat(s.droppedByRetention()).isZero();
    }

    /**
     * A periodic checkpoint is skipped only when it would hold what the last one holds: on a store that takes no more
     * writes, age retention moving a start still writes one, and a crash afterwards keeps the moved start.
     */
    @Test
    void aStartMovedByRetentionOnAnIdleStoreIsCheckpointed() throws Exception {
        FileStoreOptions options = FileStoreOptions.defaults(dir).withSegmentSize(16 * 1024, 64)
                .withCheckpointInterval(Duration.ofMillis(100))
                .withRetention(a -> new FileStoreOptions.Retention(Duration.ofMillis(1_500), 0));
        FileMessageStore s = open(options);
        for (int i = 0; i < 10; i++) {
            await(s.append(T, msg("sensors/t1", "m" + i)));
        }
        // the index keeps append times in whole seconds: they are 1.5 s old 0.5 to 1.5 s from now, after the first
        // checkpoints recorded them and the next ones had nothing new
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> s.startOffset(T) == 10);
        await(s.flush()); // queued behind the pass that moved it, which writes its checkpoint before it takes this
        simulateCrash(s);
        FileMessageStore again = open(options.withCheckpointInterval(Duration.ofHours(1)));
        assertThat(again.startOffset(T)).isEqualTo(10);
        assertThat(await(again.read(T, 0, 100))).isEmpty();
    }

    @Test
    void everyFsyncPolicyAcknowledgesAndKeeps() {
        for (FileStoreOptions.Fsync f : FileStoreOptions.Fsync.values()) {
            Path d = dir.resolve(f.name());
            FileMessageStore s = open(FileStoreOptions.defaults(d).withFsync(f));
            List<Future<Long>> acks = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                acks.add(s.append(T, msg("sensors/t1", "m" + i)));
            }
            for (int i = 0; i < 100; i++) {
                assertThat(await(acks.get(i))).isEqualTo(i);
            }
            reopen(s);
            assertThat(payloads(open(FileStoreOptions.defaults(d)), T)).hasSize(100);
        }
    }

    /**
     * Cursors saved (acknowledgements) are neither written nor fsynced at once: no one waits for them. Publishes come
     * and go meanwhile; the next state change takes the cursor's latest state into its batch, ahead of it, and its
     * fsync covers both.
     */
    @Test
    void savedCursorsWaitForTheNextStateChangeAndRideAlongWithItsFsync() {
        FileMessageStore s = open(cursorOptions(Duration.ofHours(1)));
        io.micrometer.core.instrument.Timer fsyncs = fsyncs(s);
        await(s.saveSubscription(new SubscriptionRecord("reader", "sensors/#", null)));
        await(s.append(T, msg("sensors/t1", "a")));
        long before = fsyncs.count();
        for (int i = 1; i <= 50; i++) {
            s.saveCursor("reader", T, new CursorState(i, List.of()));
        }
        // non-durable appends, one after the other: each is taken in a pass of the writer after the saves' control
        await(s.append(T, Envelope.builder(T.address()).payload("q0").durable(false).build()));
        await(s.append(T, Envelope.builder(T.address()).payload("q0").durable(false).build()));
        assertThat(fsyncs.count()).as("fsyncs for the cursors").isEqualTo(before);
        assertThat(cursor(s, T)).as("the cursor as written").isNull();
        await(s.putState("retained", "sensors/t1", new byte[] {1}));
        assertThat(fsyncs.count()).as("one fsync for the state change, the cursor with it").isEqualTo(before + 1);
        assertThat(cursor(s, T).ackedBelow()).isEqualTo(50);
    }

    /** With nothing else written, saved cursors are written and made durable within the fsync interval. */
    @Test
    void savedCursorsAreWrittenAndDurableWithinTheFsyncInterval() {
        FileMessageStore s = open(cursorOptions(Duration.ofMillis(50)));
        io.micrometer.core.instrument.Timer fsyncs = fsyncs(s);
        await(s.saveSubscription(new SubscriptionRecord("reader", "sensors/#", null)));
        long before = fsyncs.count();
        s.saveCursor("reader", T, new CursorState(4, List.of()));
        org.awaitility.Awaitility.await().until(() -> fsyncs.count() == before + 1);
        assertThat(cursor(s, T).ackedBelow()).isEqualTo(4);
    }

    /** A cursor saved and not yet due is written by the close, and by a flush before a crash. */
    @Test
    void savedCursorsAreWrittenByTheCloseAndByAFlush() throws Exception {
        FileStoreOptions slow = cursorOptions(Duration.ofHours(1));
        FileMessageStore s = open(slow);
        await(s.saveSubscription(new SubscriptionRecord("reader", "sensors/#", null)));
        await(s.append(T, msg("sensors/t1", "a")));
        s.saveCursor("reader", T, new CursorState(1, List.of()));
        reopen(s);
        FileMessageStore again = open(slow);
        assertThat(cursor(again, T).ackedBelow()).as("after the close").isEqualTo(1);
        again.saveCursor("reader", T, new CursorState(2, List.of()));
        await(again.flush());
        simulateCrash(again);
        assertThat(cursor(open(slow), T).ackedBelow()).as("after a flush and a crash").isEqualTo(2);
    }

    /** The defaults with {@code fsyncInterval} and no checkpoint within a test (which would write cursors too). */
    private FileStoreOptions cursorOptions(Duration fsyncInterval) {
        return FileStoreOptions.defaults(dir).withFsyncInterval(fsyncInterval).withCheckpointInterval(Duration.ofHours(1));
    }

    /** The store's fsync meter (a count of its fsyncs). */
    private static io.micrometer.core.instrument.Timer fsyncs(FileMessageStore s) {
        var meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        s.instrument(meters);
        return meters.get("omnibus.store.fsync").timer();
    }

    /** The cursor of the store's one subscription in {@code tp} as written (null: none yet). */
    private static CursorState cursor(FileMessageStore s, TopicPartition tp) {
        return await(s.subscriptions()).values().iterator().next().get(tp);
    }

    @Test
    void aNonDurableAppendNeverCompletesBeforeAnEarlierDurableOne() {
        FileStoreOptions d = FileStoreOptions.defaults(dir);
        FileMessageStore s = open(new FileStoreOptions(dir, FileStoreOptions.Fsync.GROUP, Duration.ofMillis(300),
                1L << 30, d.segmentSize(), d.indexEntriesPerFile(), Duration.ofHours(1), d.maxQueuedBytes(), d.retention(),
                d.maxOpenIndexFiles(), d.preallocate()));
        List<Long> completed = new java.util.concurrent.CopyOnWriteArrayList<>();
        Future<Long> durable = s.append(T, Envelope.builder(T.address()).payload("qos1").build());
        durable.onSuccess(completed::add);
        org.awaitility.Awaitility.await().until(() -> s.endOffset(T) == 1); // written, waiting for its fsync
        Future<Long> quick = s.append(T, Envelope.builder(T.address()).payload("qos0").durable(false).build());
        quick.onSuccess(completed::add);
        await(quick);
        assertThat(completed).containsExactly(0L, 1L);
    }

    @Test
    void manyPartitionsDoNotHoldAnIndexFileOpenEach() throws Exception {
        FileMessageStore s = open(FileStoreOptions.defaults(dir).withCheckpointInterval(Duration.ofHours(1))
                .withMaxOpenIndexFiles(4));
        long before = openFiles();
        for (int round = 0; round < 3; round++) {
            for (int device = 0; device < 50; device++) {
                await(s.append(new TopicPartition(Address.of("devices/" + device + "/telemetry"), 0),
                        msg("devices/" + device + "/telemetry", "r" + round)));
            }
        }
        assertThat(openFiles() - before).as("index files open at once").isLessThanOrEqualTo(4 + 2);
        for (int device = 0; device < 50; device++) {
            assertThat(payloads(s, new TopicPartition(Address.of("devices/" + device + "/telemetry"), 0)))
                    .containsExactly("r0", "r1", "r2");
        }
        reopen(s);
        FileMessageStore again = open();
        assertThat(payloads(again, new TopicPartition(Address.of("devices/7/telemetry"), 0))).containsExactly("r0", "r1", "r2");
    }

    private static long openFiles() throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------

    /** Stops the writer without a checkpoint, as a crash would, and releases the lock. */
    private void simulateCrash(FileMessageStore s) throws Exception {
        var crash = FileMessageStore.class.getDeclaredMethod("crashForTests");
        crash.setAccessible(true);
        crash.invoke(s);
        open.remove(s);
    }

    /**
     * Tears the last record of the log as a crash in the middle of its write would: its last 5 bytes were not written.
     * They read as zeros, the zeros the store writes ahead of its records; or, without those, the file ends early.
     */
    private void tearLastRecord() throws Exception {
        Path last = lastSegment();
        long end = dataEnd(last);
        try (RandomAccessFile f = new RandomAccessFile(last.toFile(), "rw")) {
            if (f.length() > end) {
                f.seek(end - 5);
                f.write(new byte[5]);
            } else {
                f.setLength(end - 5);
            }
        }
    }

    /**
     * Where the records of a segment file end: at the first record length of 0 (zeros written ahead), or the file's end.
     */
    private static long dataEnd(Path segment) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "r")) {
            long pos = 0;
            while (pos + 4 <= f.length()) {
                f.seek(pos);
                int length = f.readInt();
                if (length <= 0) {
                    break;
                }
                pos += length;
            }
            return pos;
        }
    }

    private Path lastSegment() throws Exception {
        try (Stream<Path> files = Files.list(dir.resolve("commitlog"))) {
            return files.filter(p -> p.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
        }
    }

    private long segmentCount() {
        try (Stream<Path> files = Files.list(dir.resolve("commitlog"))) {
            return files.filter(p -> p.toString().endsWith(".log")).count();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Flips one bit in the payload of the record at {@code offset} of T, on disk. */
    private void flipByteOf(FileMessageStore s, long offset) throws Exception {
        Path seg = lastSegment();
        byte[] all = Files.readAllBytes(seg);
        String needle = "payload-" + offset;
        int at = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf(needle);
        assertThat(at).isPositive();
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            f.seek(at + needle.length() - 1);
            byte b = f.readByte();
            f.seek(at + needle.length() - 1);
            f.writeByte(b ^ 0x01);
        }
    }
}
