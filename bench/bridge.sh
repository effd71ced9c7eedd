#!/usr/bin/env bash
# A bridge's forwarding rate to each remote, against the same client library writing to that remote directly
# (docs/bridges.md). For each remote: the remote is started (Mosquitto from Debian; ActiveMQ Artemis and Apache
# Kafka from Maven Central, bench/artemis.sh and bench/kafka-broker.sh), then
#   direct: BridgeForward sends MESSAGES through the bridge's own connector with WINDOW unconfirmed at most;
#   bridge: a gateway (shipped configuration, one outbound bridge of bench/#, in-flight WINDOW) has MESSAGES
#           published into its log with the bridge paused, then resumed: the log-to-remote rate alone.
# Both count messages the remote confirmed (AMQP accepted, MQTT PUBACK, Kafka acks=all).
#   bench/bridge.sh [artemis|mosquitto|kafka ...]      MESSAGES=50000 SIZE=256 WINDOW=200
# Needs bench/target/benchmarks.jar (mvn -Pbench -DskipTests package) and the gateway built (mvn -DskipTests install).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
JAR="$HERE/target/benchmarks.jar"
MESSAGES="${MESSAGES:-50000}"; SIZE="${SIZE:-256}"; WINDOW="${WINDOW:-200}"
REMOTES=("$@"); [[ ${#REMOTES[@]} -gt 0 ]] || REMOTES=(artemis mosquitto kafka)
[[ -f "$JAR" ]] || { echo "build the benchmarks first: mvn -Pbench -DskipTests package" >&2; exit 1; }
WORK="$(mktemp -d)"
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap 'stop_all; rm -rf "$WORK"' EXIT
wait_port() { for _ in $(seq 1200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 not open" >&2; return 1; }
wait_for() { for _ in $(seq $(( $3 * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "not ready: $1" >&2; tail -20 "$1" >&2; return 1; }
bench_java() { java -cp "$JAR" io.omnibus.bench.BridgeForward "$@" 2>/dev/null | grep -E '^(direct|bridge) '; }

for remote in "${REMOTES[@]}"; do
  case "$remote" in
    artemis) "$HERE/artemis.sh" 21893 25682 "$WORK/artemis" >"$WORK/peer.log" 2>&1 & PIDS+=($!)
             wait_for "$WORK/peer.log" "Server is now active" 120
             url="amqp://127.0.0.1:25682"; address="bench"; extra="capability: queue" ;;
    mosquitto) printf 'listener 21885 127.0.0.1\nallow_anonymous true\nmax_inflight_messages %d\npersistence false\nset_tcp_nodelay true\n' "$WINDOW" >"$WORK/mosquitto.conf"
             "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$WORK/mosquitto.conf" >"$WORK/peer.log" 2>&1 & PIDS+=($!)
             wait_port 21885; url="mqtt://127.0.0.1:21885"; address="bench/x"; extra="qos: 1" ;;
    kafka)   "$HERE/kafka-broker.sh" 29192 "$WORK/kafka" >"$WORK/peer.log" 2>&1 & PIDS+=($!)
             wait_port 29192; sleep 3; url="kafka://127.0.0.1:29192"; address="bench.x"; extra="acks: all" ;;
    *) echo "unknown remote $remote (artemis, mosquitto, kafka)" >&2; exit 2 ;;
  esac
  bench_java direct "$url" "$address" "$MESSAGES" "$SIZE" "$WINDOW"
  cat >"$WORK/gateway.yaml" <<YAML
$(cat "$ROOT/config/gateway.yaml")
bridges:
  - name: bench
    direction: out
    local: "bench/#"
    in-flight: $WINDOW
    remote:
      url: $url
      address: $address
      $extra
YAML
  env OMNIBUS_MQTT_PORT=21884 OMNIBUS_AMQP_ENABLED=false OMNIBUS_KAFKA_ENABLED=false OMNIBUS_OPENMESSAGING_ENABLED=false \
    OMNIBUS_ADMIN_PORT=28080 OMNIBUS_MQTT_WEBSOCKET_ENABLED=false OMNIBUS_NO_BUILD=1 OMNIBUS_OPTS="${GATEWAY_OPTS:-}" \
    "$ROOT/bin/omnibus" start --config "$WORK/gateway.yaml" --data-dir "$WORK/gateway-data-$remote" >"$WORK/gateway.log" 2>&1 & PIDS+=($!)
  wait_for "$WORK/gateway.log" "omnibus: ready" 60
  bench_java bridge 28080 21884 bench "$MESSAGES" "$SIZE"
  stop_all
  sleep 1
done
