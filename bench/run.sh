#!/usr/bin/env bash
# One command per scenario: the gateway side by side with the system users would pick instead, on loopback,
# the same client load against both, alternating rounds (one server running at a time), a Markdown report with
# gateway/peer ratios (min / median / max over the rounds) in bench/target/report-SCENARIO.md.
#
#   bench/run.sh mqtt-fanin  [--against mosquitto] [--rounds N]   PUBLISHERS=8 EACH=10000 QOS=1 SIZE=256
#   bench/run.sh mqtt-fanout [--against mosquitto] [--rounds N]   SUBSCRIBERS=16 MESSAGES=5000 RATE=0 QOS=1 SIZE=256
#   bench/run.sh iot-bridge  [--against artemis]   [--rounds N]   PUBLISHERS=4 EACH=5000 RATE=0 SIZE=256 WARMUP=EACH CONSUMERS=4
#                            Netty MQTT publishers and vertx-proton receivers (PREFETCH=1000 WINDOW=1000); LOADGEN=jms:
#                            Paho publishers and Qpid JMS consumers (a session each), as a Spring back end has
#   bench/run.sh amqp-queue  [--against artemis]   [--rounds N]   PRODUCERS=4 EACH=50000 SIZE=64 WINDOW=1000 WARMUP=EACH CONSUMERS=4
#                            vertx-proton senders and receivers (PREFETCH=1000); LOADGEN=jms: Qpid JMS ones
#   bench/run.sh kafka       [--against kafka]     [--rounds N]   RECORDS=300000 SIZE=1024 WARMUP=RECORDS WARMUP_CONSUMES=5 CONSUMES=3
#   bench/run.sh rocketmq                          [--rounds N]   PRODUCERS=2 EACH=50000 SIZE=1024 WINDOW=64
#   bench/run.sh idle        [--against mosquitto] [--rounds N]   CONNECTIONS=10000 MQTT_VERSION=5 STORM=0 SETTLE=40
#                            WEBSOCKET=1: the gateway's connections over MQTT's WebSocket port (the peer's stay TCP)
#
# Scenario settings are environment variables (defaults above); RATE is messages per second offered in total
# (0 = flat out: latency then is the queue the senders build). The gateway runs the shipped configuration on a
# fresh data directory each round (GATEWAY_ENV adds OMNIBUS_* overrides, e.g. GATEWAY_ENV="OMNIBUS_STORE_FSYNC=os").
# The peers are installed and started here: Mosquitto (Debian's package), ActiveMQ Artemis and Apache Kafka (their
# distributions from Maven Central, bench/artemis.sh and bench/kafka-broker.sh). STORE=kafka runs the gateway on
# store.type kafka against a one-broker Kafka of its own (bench/kafka-broker.sh on port 29292, started once, a topic
# prefix per round; docs/cluster.md). Needs bench/target/benchmarks.jar
# (mvn -Pbench -DskipTests package) and the gateway built (mvn -DskipTests install).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
JAR="$HERE/target/benchmarks.jar"
SCENARIO="${1:?usage: bench/run.sh SCENARIO [--against PEER] [--rounds N]}"; shift
ROUNDS=3
case "$SCENARIO" in
  mqtt-fanin|mqtt-fanout|idle) PEER=mosquitto ;;
  iot-bridge|amqp-queue) PEER=artemis ;;
  kafka) PEER=kafka ;;
  rocketmq) PEER=none ;;
  *) echo "unknown scenario $SCENARIO (mqtt-fanin, mqtt-fanout, iot-bridge, amqp-queue, kafka, rocketmq, idle)" >&2; exit 2 ;;
esac
while [[ $# -gt 0 ]]; do
  case "$1" in
    --against) PEER="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -f "$JAR" ]] || { echo "build the benchmarks first: mvn -Pbench -DskipTests package" >&2; exit 1; }
[[ -f "$ROOT/gateway-server/target/omnibus-server.jar" ]] || { echo "build the gateway first: mvn -DskipTests install" >&2; exit 1; }
WORK="$(mktemp -d)"
SERVER=""
STORE_KAFKA=""
cleanup() {
  stop_server
  if [[ -n "$STORE_KAFKA" ]]; then pkill -TERM -P "$STORE_KAFKA" 2>/dev/null || true; kill "$STORE_KAFKA" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$HERE/target"
REPORT="$HERE/target/report-$SCENARIO.md"
ERRORS="$HERE/target/load-$SCENARIO.err" # the loads' stderr, for a round that failed
: >"$ERRORS"

# ---- servers -------------------------------------------------------------------------------------------------

wait_for() { # LOGFILE PATTERN SECONDS
  for _ in $(seq $(( $3 * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "not ready: $1" >&2; tail -20 "$1" >&2; return 1
}

STORE_ENV=""
if [[ "${STORE:-file}" == kafka ]]; then
  "$HERE/kafka-broker.sh" 29292 "$WORK/store-kafka" >"$WORK/store-kafka.log" 2>&1 &
  STORE_KAFKA=$!
  for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/29292) 2>/dev/null && break; sleep 0.1; done; sleep 2
  STORE_ENV="OMNIBUS_STORE_TYPE=kafka OMNIBUS_STORE_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:29292 OMNIBUS_STORE_KAFKA_REPLICATION_FACTOR=1"
fi

start_gateway() {
  local round="$1"
  # shellcheck disable=SC2086
  env ${STORE_ENV:+$STORE_ENV OMNIBUS_STORE_KAFKA_TOPIC_PREFIX=bench-r$round.} OMNIBUS_MQTT_PORT=21884 OMNIBUS_AMQP_PORT=25672 OMNIBUS_KAFKA_PORT=29092 OMNIBUS_OPENMESSAGING_PORT=29876 \
    OMNIBUS_ADMIN_PORT=0 OMNIBUS_MQTT_WEBSOCKET_ENABLED="$([[ "${WEBSOCKET:-0}" == 1 ]] && echo true || echo false)" \
    OMNIBUS_MQTT_WEBSOCKET_PORT=28083 OMNIBUS_KAFKA_ADVERTISED_HOST=127.0.0.1 \
    OMNIBUS_OPENMESSAGING_QUEUES=4 OMNIBUS_MQTT_MAX_INFLIGHT="${INFLIGHT:-100}" OMNIBUS_NO_BUILD=1 ${GATEWAY_ENV:-} \
    "$ROOT/bin/omnibus" start --data-dir "$WORK/gateway-data-$round" >"$WORK/gateway.log" 2>&1 &
  SERVER=$!
  wait_for "$WORK/gateway.log" "omnibus: ready" 60
}

start_peer() {
  case "$PEER" in
    mosquitto)
      if ! command -v mosquitto >/dev/null 2>&1 && [[ ! -x /usr/sbin/mosquitto ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >&2
      fi
      printf 'listener 21885 127.0.0.1\nallow_anonymous true\nmax_inflight_messages %d\nmax_queued_messages 0\npersistence false\n' \
        "${INFLIGHT:-100}" >"$WORK/mosquitto.conf"
      "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$WORK/mosquitto.conf" >"$WORK/peer.log" 2>&1 &
      SERVER=$!; sleep 1 ;;
    artemis)
      "$HERE/artemis.sh" 21893 25682 "$WORK/artemis" >"$WORK/peer.log" 2>&1 &
      SERVER=$!
      wait_for "$WORK/peer.log" "Server is now active" 120 ;;
    kafka)
      "$HERE/kafka-broker.sh" 29192 "$WORK/kafka" >"$WORK/peer.log" 2>&1 &
      SERVER=$!
      for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/29192) 2>/dev/null && break; sleep 0.1; done; sleep 2 ;;
    *) echo "no peer $PEER for $SCENARIO" >&2; exit 2 ;;
  esac
}

stop_server() {
  if [[ -n "$SERVER" ]]; then
    pkill -TERM -P "$SERVER" 2>/dev/null || true
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
    sleep 1
  fi
}

# ---- loads: each prints one summary line; figure() takes the number a ratio is made of -----------------------

bench_java() { java -Drocketmq.client.logUseSlf4j=true -cp "$JAR" "$@" 2>>"$ERRORS"; }
# competing Qpid JMS consumers, a session each, for iot-bridge and amqp-queue: one session hands each message to its
# connection's thread twice and waits each time, and stopped at 9-12k msg/s on this machine whatever the server
# (bench/README, 2026-12-07); ActiveMQ Artemis scales no further than 2 to 4 of them
export CONSUMERS="${CONSUMERS:-4}"

load() { # SIDE (gateway|peer)
  local side="$1" mqtt amqp kafka source
  if [[ "$side" == gateway ]]; then mqtt=21884; amqp=25672; kafka=29092; source="queue:bench/#"
  else mqtt=$([[ "$PEER" == artemis ]] && echo 21893 || echo 21885); amqp=25682; kafka=29192; source="durable:bench.#"; fi
  case "$SCENARIO" in
    mqtt-fanin) bench_java "io.omnibus.bench.$([[ "${LOADGEN:-netty}" == paho ]] && echo MqttLoad || echo NettyMqttLoad)" \
        "tcp://127.0.0.1:$mqtt" "${PUBLISHERS:-8}" "${EACH:-10000}" "${QOS:-1}" "${SIZE:-256}" ${WINDOW:+"$WINDOW"} \
        | grep '^publishers=' | tail -n 1 ;;
    mqtt-fanout)
      if [[ "${LOADGEN:-netty}" == paho || "${RATE:-0}" != 0 ]]; then # Paho's, and at a fixed rate
        bench_java io.omnibus.bench.MqttFanOut "tcp://127.0.0.1:$mqtt" "${SUBSCRIBERS:-16}" \
          "${MESSAGES:-5000}" "${RATE:-0}" "${QOS:-1}" "${SIZE:-256}" | tee /dev/stderr | grep '^MQTT fan-out' | tail -n 1
      else # flat out: one Netty publisher, SUBSCRIBERS Netty subscribers on one event loop
        SUBSCRIBERS="${SUBSCRIBERS:-16}" bench_java io.omnibus.bench.NettyMqttLoad "tcp://127.0.0.1:$mqtt" 1 \
          "${MESSAGES:-5000}" "${QOS:-1}" "${SIZE:-256}" ${WINDOW:+"$WINDOW"} | grep '^publishers=' | tail -n 1
      fi ;;
    iot-bridge)
      if [[ "${LOADGEN:-netty}" == jms || "${LOADGEN:-netty}" == paho ]]; then # Paho publishers, Qpid JMS consumers
        bench_java io.omnibus.bench.MqttToAmqp "tcp://127.0.0.1:$mqtt" "amqp://127.0.0.1:$amqp" \
          "${PUBLISHERS:-4}" "${EACH:-5000}" "${RATE:-0}" "${SIZE:-256}" "$source" | tee /dev/stderr | grep '^MQTT QoS1' | tail -n 1
      else # Netty MQTT publishers, vertx-proton receivers; Artemis's durable subscription queue by its name
        [[ "$side" == gateway ]] || source="fqqn:bench.#::bench"
        bench_java io.omnibus.bench.NettyMqttToAmqp "tcp://127.0.0.1:$mqtt" "amqp://127.0.0.1:$amqp" \
          "${PUBLISHERS:-4}" "${EACH:-5000}" "${RATE:-0}" "${SIZE:-256}" "$source" | tee /dev/stderr | grep '^MQTT QoS1' | tail -n 1
      fi ;;
    amqp-queue) # vertx-proton senders and receivers; LOADGEN=jms: Qpid JMS producers and consumers
      bench_java "io.omnibus.bench.$([[ "${LOADGEN:-netty}" == jms || "${LOADGEN:-netty}" == paho ]] && echo AmqpToAmqp || echo ProtonLoad)" \
        "amqp://127.0.0.1:$amqp" "${PRODUCERS:-4}" "${EACH:-50000}" "${SIZE:-64}" bench.amqp \
        | tee /dev/stderr | grep '^AMQP -> AMQP' | tail -n 1 ;;
    kafka) "$HERE/kafka-perf.sh" "127.0.0.1:$kafka" "${RECORDS:-300000}" "${SIZE:-1024}" 2>/dev/null \
        | awk '/^[0-9]+ records sent/ && / 50th/ { split($0, f, " "); printf "produce acks=%s %s/s ", (++n == 1 ? "1" : "all"), f[4] }
               /^[0-9][0-9][0-9][0-9]-/ { k = split($0, c, ", "); r[++m] = int(c[k]) }
               /^fetch connections=/ { split($0, w, /[= ]/); split($0, q, ": "); raw = raw sprintf("%s%s conn %d", (raw ? " / " : ""), w[3], int(q[2])) }
               /^produce connections=/ { split($0, w, /[= ]/); split($0, q, ": "); a = (w[5] == "1" ? 1 : 2)
                                         put[a] = put[a] sprintf("%s%s conn %d", (put[a] ? " / " : ""), w[3], int(q[2])) }
               END { if (m) { printf "consume (fetch) "; for (i = 1; i <= m; i++) printf "%s%d", (i > 1 ? " / " : ""), r[i]
                              # the median of the consumes (the middle one once sorted)
                              for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
                              printf "/s, median %d/s", r[int((m + 1) / 2)] }
                     if (raw) printf "; raw fetch %s rec/s", raw
                     if (put[1]) printf "; raw produce acks=1 %s, acks=all %s rec/s", put[1], put[2]
                     print "" }' ;;
    rocketmq) bench_java io.omnibus.bench.RocketMqLoad "127.0.0.1:29876" "${PRODUCERS:-2}" "${EACH:-50000}" \
        "${SIZE:-1024}" "${WINDOW:-64}" | grep -E '^(send|consume):' | tr '\n' ' ' ; echo ;;
    idle) if [[ "${WEBSOCKET:-0}" == 1 && "$side" == gateway ]]; then idle_load 28083 ws; else idle_load "$mqtt"; fi ;;
  esac
}

# waits until the server's RSS has settled: at least SETTLE seconds (default 40), then until two readings 10 s apart
# differ by less than 1 MiB (at most 120 s more), since a collector or an allocator may give memory back late
settle() {
  local prev now waited=0
  sleep "${SETTLE:-40}"
  prev="$(rss)"
  while (( waited < 120 )); do
    sleep 10; waited=$(( waited + 10 ))
    now="$(rss)"
    (( now - prev < 1024 && prev - now < 1024 )) && return 0
    prev="$now"
  done
}

# memory per idle MQTT connection: the server's RSS (and for the gateway its live heap) before and after. The RSS is
# read SETTLE seconds (default 40) after the last CONNACK: the gateway's collector returns what a connection storm
# grew after 10 s without a collection (bin/omnibus), which took longer than 25 s in some runs, and Mosquitto's figure does not move while it waits. STORM=1
# sends every CONNECT before reading any CONNACK; either way a refused or reset connection is reported. For the
# gateway, the RSS is read once more after the full collection that measures its live heap (the baseline is read
# after one too, once settled as well): what the connections hold without the garbage the storm left, which an idle
# JVM keeps.
idle_load() {
  local port="$1" n="${CONNECTIONS:-10000}" pid rss0 rss1 rss2 heap0 heap1 mode="${2:-}" opened
  [[ "${STORM:-0}" == 1 ]] && mode=storm
  pid="$(pgrep -P "$SERVER" java || echo "$SERVER")"
  heap() { jcmd "$pid" GC.run >/dev/null 2>&1 && jcmd "$pid" GC.heap_info 2>/dev/null | sed -nE 's/.*used ([0-9]+)K.*/\1/p' | head -n 1; }
  rss() { ps -o rss= -p "$pid" | tr -d ' '; }
  if [[ "${IDLE_WARMUP:-0}" == 1 ]]; then
    # the same connections opened and closed once first: what the server makes once (compiled code, class metadata,
    # pools) is in the baseline, and the figure is what one more idle connection costs
    java -cp "$JAR" io.omnibus.bench.MqttIdle 127.0.0.1 "$port" "$n" "${MQTT_VERSION:-5}" warm- $mode </dev/null \
      >"$WORK/warm.out" 2>&1 || true
    for _ in $(seq 600); do
      [[ "$(ss -Htn state established "( sport = :$port )" | wc -l)" -eq 0 ]] && break; sleep 0.1
    done
    settle
  fi
  heap0="$(heap || true)"
  # the baseline settles as the reading after the connections does: G1 gives back what a collection shrank on a
  # thread of its own (since JDK 16) and the JVM trims malloc's arenas every 10 s (bin/omnibus). Read at once after
  # the collection (as before 2026-12-06), it held 18-29 MB the gateway was about to give back, and the figure per
  # connection came out 1.2-1.9 KB lower than what 15,000 connections cost
  settle
  rss0="$(rss)"
  mkfifo "$WORK/idle.in"
  java -cp "$JAR" io.omnibus.bench.MqttIdle 127.0.0.1 "$port" "$n" "${MQTT_VERSION:-5}" idle- $mode \
    <"$WORK/idle.in" >"$WORK/idle.out" 2>&1 &
  local client=$!
  exec 7>"$WORK/idle.in"
  wait_for "$WORK/idle.out" "OPEN $n\|REFUSED" 600
  opened="$(head -n 1 "$WORK/idle.out")"
  settle
  rss1="$(rss)"; heap1="$(heap || true)"
  [[ -n "$heap1" ]] && { sleep 5; rss2="$(rss)"; } # G1 gives back what it shrank on a thread of its own
  exec 7>&-; wait "$client" 2>/dev/null || true; rm -f "$WORK/idle.in"
  local per_rss=$(( (rss1 - rss0) * 1024 / n ))
  if [[ -n "$heap0" && -n "$heap1" ]]; then
    echo "$n idle connections: $per_rss bytes RSS per connection ($(( (rss2 - rss0) * 1024 / n )) after a full collection), $(( (heap1 - heap0) * 1024 / n )) bytes live heap per connection; $opened"
  else
    echo "$n idle connections: $per_rss bytes RSS per connection; $opened"
  fi
}

# the number a ratio is made of, from a load's summary line
case "$SCENARIO" in
  mqtt-fanin) figure_of() { sed -nE 's/.* ([0-9]+) msg\/s.*/\1/p' <<<"$1"; } ;;
  amqp-queue) figure_of() { sed -nE 's/.* ([0-9]+) msg\/s;.*/\1/p' <<<"$1"; } ;;
  mqtt-fanout|iot-bridge)
    # flat out the rate counts; at a fixed offered rate the p99 latency does (lower is better)
    if [[ "${RATE:-0}" == 0 ]]; then figure_of() { sed -nE 's/.* ([0-9]+) msg\/s( delivered)?;.*/\1/p' <<<"$1"; }
    else figure_of() { sed -nE 's/.*latency ms p50 [0-9.]+ p90 [0-9.]+ p99 ([0-9.]+) .*/\1/p' <<<"$1"; }; fi ;;
  kafka) figure_of() { sed -nE 's/produce acks=1 ([0-9.]+)\/s.*/\1/p' <<<"$1"; } ;;
  rocketmq) figure_of() { sed -nE 's/.*= ([0-9]+) msg\/s \(.*/\1/p' <<<"$1"; } ;;
  idle) figure_of() { sed -nE 's/.*: ([0-9]+) bytes RSS.*/\1/p' <<<"$1"; } ;;
esac

# ---- rounds --------------------------------------------------------------------------------------------------

echo "# bench/run.sh $SCENARIO --against $PEER --rounds $ROUNDS ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)" | tee "$REPORT"
echo | tee -a "$REPORT"
echo "| round | gateway | $PEER | ratio |" | tee -a "$REPORT"
echo "|---|---|---|---|" | tee -a "$REPORT"
RATIOS=()
for round in $(seq "$ROUNDS"); do
  P=""
  if [[ "$PEER" != none ]]; then start_peer; P="$(load peer || true)"; stop_server; fi
  start_gateway "$round"; G="$(load gateway || true)"; stop_server
  # a load that printed no summary line (it failed) is reported so, and the rounds go on
  [[ -n "$G" ]] || G="**FAILED: no summary line from the load** (its errors: $ERRORS)"
  [[ "$PEER" == none || -n "$P" ]] || P="**FAILED: no summary line from the load** (its errors: $ERRORS)"
  R=""
  g="$(figure_of "$G" || true)"; p="$(figure_of "$P" || true)"
  if [[ -n "$g" && -n "$p" ]]; then
    # gateway/peer: for rates higher is better, for idle memory (bytes per connection) lower is
    R="$(awk -v g="$g" -v p="$p" 'BEGIN { printf "%.2f", g / p }')"
    RATIOS+=("$R")
  fi
  # a run that lost a message failed, whatever its rate: its ratio is not counted (at QoS 0 nothing was acknowledged:
  # the loss is a drop the server's configuration allowed, such as the gateway's max-pending)
  for side in G P; do
    if grep -qE 'LOST|LOSS|lost [1-9]' <<<"${!side}"; then
      if grep -q 'qos=0' <<<"${!side}"; then what="messages dropped (QoS 0, never acknowledged)"
      else what="acknowledged messages lost"; fi
      printf -v "$side" '%s' "**FAILED: $what** ${!side}"
      [[ -n "$R" ]] && unset 'RATIOS[-1]'
      R=""
    fi
  done
  echo "| $round | $G | $P | $R |" | tee -a "$REPORT"
done
if [[ ${#RATIOS[@]} -gt 0 ]]; then
  SORTED=($(printf '%s\n' "${RATIOS[@]}" | sort -g))
  echo | tee -a "$REPORT"
  WHAT="msg/s: higher is better"
  [[ "$SCENARIO" == idle ]] && WHAT="bytes per connection: lower is better"
  [[ "${RATE:-0}" != 0 && ( "$SCENARIO" == iot-bridge || "$SCENARIO" == mqtt-fanout ) ]] && WHAT="p99 latency at ${RATE}/s: lower is better"
  echo "gateway/$PEER: min ${SORTED[0]}, median ${SORTED[$(( ${#SORTED[@]} / 2 ))]}, max ${SORTED[-1]} over ${#SORTED[@]} rounds ($WHAT)" \
    | tee -a "$REPORT"
fi
echo "report: $REPORT"
