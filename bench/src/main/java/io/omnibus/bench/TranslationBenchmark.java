package io.omnibus.bench;

import io.omnibus.core.spi.Address;
import io.omnibus.core.spi.Envelope;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Envelope translation per protocol pair, through the adapters' own code: a reference message of protocol
 * {@code from} (properties, headers, correlation, content type as that protocol carries them) into an envelope,
 * and the envelope out as protocol {@code to} delivers it. 16 pairs, same-protocol included.
 * {@code java -jar bench/target/benchmarks.jar TranslationBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TranslationBenchmark {
    @Param({"mqtt", "amqp", "kafka", "rocketmq"})
    public String from;

    @Param({"mqtt", "amqp", "kafka", "rocketmq"})
    public String to;

    private final Address address = Address.of("plant/line-4/temp");

    @Benchmark
    public Object translate() {
        Envelope e = switch (from) {
            case "mqtt" -> io.omnibus.mqtt.BenchAccess.in(address);
            case "amqp" -> io.omnibus.amqp.BenchAccess.in(address);
            case "kafka" -> io.omnibus.kafka.BenchAccess.in(address);
            default -> io.omnibus.openmessaging.BenchAccess.in(address);
        };
        return switch (to) {
            case "mqtt" -> io.omnibus.mqtt.BenchAccess.out(e);
            case "amqp" -> io.omnibus.amqp.BenchAccess.out(e);
            case "kafka" -> io.omnibus.kafka.BenchAccess.out(e);
            default -> io.omnibus.openmessaging.BenchAccess.out(e);
        };
    }
}
