#!/usr/bin/env bash
# Apache Kafka's own perf tools against a Kafka wire endpoint (the gateway, or a Kafka broker for comparison).
#   bench/kafka-perf.sh BOOTSTRAP [RECORDS] [RECORD_SIZE]
# Runs, on a fresh topic each, after a warm-up (WARMUP records, default RECORDS, produced with acks=1 and with
# acks=all, the latter then consumed WARMUP_CONSUMES times, default 5, so that both paths are compiled: the gateway's fetch path took five to seven
# consumes of 300 MiB to settle, 115,000 rec/s at the first and 150,000-160,000 from the sixth, Kafka's broker three):
# kafka-producer-perf-test with acks=1, then with acks=all (flat out, --throughput -1), then
# kafka-consumer-perf-test reading the acks=all topic back CONSUMES times (default 3: one consume's figure moves by a
# third from one to the next on two cores shared with the client), then KafkaFetchLoad (this module's raw fetch
# load, which counts records from the batches' headers without decoding them) with 1, 2 and 4 connections
# (FETCH_CONNECTIONS) reading the same topic: the consumer tool decodes every record on one thread and is the
# bottleneck on either server, the raw load shows where the server itself stops scaling; then KafkaProduceLoad (ready-
# made batches over 1, 2 and 4 connections, acks=1 and acks=all) for the produce side. Prints the tools' own
# summaries; the warm-up's lines start with "warm-up:".
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BOOTSTRAP="${1:?usage: bench/kafka-perf.sh host:port [records] [record-size]}"
RECORDS="${2:-500000}"
SIZE="${3:-1024}"
WARMUP="${WARMUP:-$RECORDS}"
LIB="$HERE/kafka-tools/target/lib"
if [[ ! -d "$LIB" ]]; then
  mvn -B -q -f "$HERE/kafka-tools/pom.xml" dependency:copy-dependencies -DoutputDirectory="$LIB" >&2
fi
run() { java -Xmx1g -cp "$LIB/*" "$@"; }
STAMP="$(date +%s)"
echo "== warm-up (not a figure): $WARMUP records produced with acks=1 and with acks=all, the latter then consumed ${WARMUP_CONSUMES:-5} times"
# both producers: with acks=all the producer is idempotent (a producer id and sequences in every batch), with acks=1
# it is not, and the measured consumes read the acks=all topic; a warm-up of acks=1 alone left the gateway's compiler
# busy through the first measured consume (C2 80 % of its CPU samples then; the consume 0.6-0.65 of the next two)
for ACKS in 1 all; do
  run org.apache.kafka.tools.ProducerPerformance --topic "perf-warmup-$ACKS-$STAMP" --num-records "$WARMUP" --record-size "$SIZE" \
    --throughput -1 --producer-props bootstrap.servers="$BOOTSTRAP" acks="$ACKS" linger.ms=5 batch.size=65536 | tail -n 1 | sed 's/^/warm-up: /'
done
for _ in $(seq "${WARMUP_CONSUMES:-5}"); do
  run org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$BOOTSTRAP" --topic "perf-warmup-all-$STAMP" \
    --messages "$WARMUP" --timeout 60000 | tail -n 1 | sed 's/^/warm-up: /'
done
for ACKS in 1 all; do
  TOPIC="perf-acks-$ACKS-$STAMP"
  echo "== producer: $RECORDS records of $SIZE bytes, acks=$ACKS, topic $TOPIC"
  run org.apache.kafka.tools.ProducerPerformance --topic "$TOPIC" --num-records "$RECORDS" --record-size "$SIZE" \
    --throughput -1 --producer-props bootstrap.servers="$BOOTSTRAP" acks="$ACKS" linger.ms=5 batch.size=65536
done
for i in $(seq "${CONSUMES:-3}"); do
  echo "== consumer $i: $RECORDS records from perf-acks-all-$STAMP"
  run org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$BOOTSTRAP" --topic "perf-acks-all-$STAMP" \
    --messages "$RECORDS" --timeout 60000
done
for n in ${FETCH_CONNECTIONS:-1 2 4}; do
  echo "== raw fetch: $RECORDS records from perf-acks-all-$STAMP over $n connections"
  java -Xmx256m -cp "$HERE/target/benchmarks.jar" io.omnibus.bench.KafkaFetchLoad "$BOOTSTRAP" "perf-acks-all-$STAMP" \
    "$RECORDS" "$n" | grep '^fetch connections='
done
# the produce side the same way, after the fetches (its writes would push the fetched topic out of the page cache):
# KafkaProduceLoad sends ready-made batches (what the producer tool's 64 KiB batches
# hold) over 1, 2 and 4 connections (PRODUCE_CONNECTIONS), 5 requests in flight each, with acks=1 and with acks=all,
# to the acks=1 topic: kafka-producer-perf-test took 1.3-1.4 cores of two against a server's 0.4-0.5
for n in ${PRODUCE_CONNECTIONS:-1 2 4}; do
  for ACKS in 1 -1; do
    echo "== raw produce: $RECORDS records of $SIZE bytes to perf-acks-1-$STAMP over $n connections, acks=$ACKS"
    java -Xmx256m -cp "$HERE/target/benchmarks.jar" io.omnibus.bench.KafkaProduceLoad "$BOOTSTRAP" "perf-acks-1-$STAMP" \
      "$RECORDS" "$n" "$ACKS" "$SIZE" | grep '^produce connections=' \
      || echo "== raw produce failed ($n connections, acks=$ACKS): run bench/kafka-perf.sh by hand for the error"
  done
done
