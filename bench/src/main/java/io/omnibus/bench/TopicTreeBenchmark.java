package io.omnibus.bench;

import io.omnibus.core.internal.TopicTree;
import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.TopicFilter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * Topic tree matching, the work of routing every publish: {@code filters} subscriptions of an IoT shape
 * ({@code site/N/dev/M/+}, {@code site/N/#}, {@code +/N/dev/M/temp}, a few {@code #}), one address matched.
 * {@code java -jar bench/target/benchmarks.jar TopicTreeBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TopicTreeBenchmark {
    @Param({"1000", "100000"})
    public int filters;

    private TopicTree<Integer> tree;
    private Address[] addresses;
    private int next;

    @Setup
    public void setup() {
        tree = new TopicTree<>();
        int sites = Math.max(1, filters / 100);
        for (int i = 0; i < filters; i++) {
            int site = i % sites;
            int dev = i / sites;
            String filter = switch (i % 10) {
                case 0 -> "site/" + site + "/#";
                case 1 -> "+/" + site + "/dev/" + dev + "/temp";
                case 2 -> i % 1000 == 2 ? "#" : "site/" + site + "/dev/+/alarm";
                default -> "site/" + site + "/dev/" + dev + "/+";
            };
            tree.add(TopicFilter.of(filter), i);
        }
        addresses = new Address[1024];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = Address.of("site/" + (i % sites) + "/dev/" + (i * 7 % Math.max(1, filters / sites)) + "/temp");
        }
    }

    @Benchmark
    public void match(Blackhole bh) {
        tree.match(addresses[next++ & 1023], bh::consume);
    }
}
