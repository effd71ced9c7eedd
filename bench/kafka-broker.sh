#!/usr/bin/env bash
# Apache Kafka itself (KRaft, one combined broker/controller, from Maven Central) on loopback, as the gateway's
# peer for the Kafka wire benchmarks. Runs in the foreground; Ctrl-C or SIGTERM stops it.
#   bench/kafka-broker.sh [PORT] [LOG_DIR]        defaults: 29192, /tmp/bench-kafka (wiped first)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${1:-29192}"
DIR="${2:-/tmp/bench-kafka}"
LIB="$HERE/../testing/kafka-broker/target/lib"
if [[ ! -d "$LIB" ]]; then
  mvn -B -q -f "$HERE/../testing/kafka-broker/pom.xml" package >&2
fi
rm -rf "$DIR" && mkdir -p "$DIR"
cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((PORT + 1))
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$((PORT + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DIR/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=3000
PROPS
cat > "$DIR/log4j.properties" <<PROPS
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
run() { java -Xms1g -Xmx1g -Dlog4j.configuration="file:$DIR/log4j.properties" -cp "$LIB/*" "$@"; }
run kafka.tools.StorageTool format -t "$(run kafka.tools.StorageTool random-uuid)" -c "$DIR/server.properties" >&2
exec java -Xms1g -Xmx1g -Dlog4j.configuration="file:$DIR/log4j.properties" -cp "$LIB/*" kafka.Kafka "$DIR/server.properties"
