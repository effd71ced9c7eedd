#!/usr/bin/env bash
# MQTT fan-in, side by side: the gateway and Mosquitto (Debian's package, installed here when missing) on
# loopback, the same Paho load (io.omnibus.bench.MqttLoad), alternating runs, one server running at a time.
#   bench/mqtt-vs-mosquitto.sh [ROUNDS] [PUBLISHERS] [MESSAGES_EACH] [QOS] [PAYLOAD_BYTES]
#   defaults: 3 rounds, 8 publishers x 10000 messages, QoS 1, 256 bytes
# Both servers get the same outbound window: INFLIGHT (default 100, the gateway's mqtt.max-inflight; Mosquitto's
# own default is 20) unacknowledged QoS 1 deliveries per connection.
# Needs bench/target/benchmarks.jar (mvn -Pbench -DskipTests package). The gateway runs with the shipped
# configuration on a fresh data directory (fsync: group by default; OMNIBUS_STORE_FSYNC=os for Mosquitto's
# terms: Mosquitto keeps QoS 1 messages in memory and acknowledges them without touching the disk).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
ROUNDS="${1:-3}"; PUBS="${2:-8}"; EACH="${3:-10000}"; QOS="${4:-1}"; SIZE="${5:-256}"
INFLIGHT="${INFLIGHT:-100}"
JAR="$HERE/target/benchmarks.jar"
[[ -f "$JAR" ]] || { echo "build the benchmarks first: mvn -Pbench -DskipTests package" >&2; exit 1; }
if ! command -v mosquitto >/dev/null 2>&1 && [[ ! -x /usr/sbin/mosquitto ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >&2
fi
MOSQUITTO="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
printf 'listener 21885 127.0.0.1\nallow_anonymous true\nmax_inflight_messages %d\nmax_queued_messages 0\npersistence false\n' "$INFLIGHT" \
  > "$WORK/mosquitto.conf"

load() { java -cp "$JAR" io.omnibus.bench.MqttLoad "tcp://127.0.0.1:$1" "$PUBS" "$EACH" "$QOS" "$SIZE" 2>/dev/null | tail -n 1; }
rate() { sed -nE 's/.* ([0-9]+) msg\/s.*/\1/p' <<<"$1"; }

for round in $(seq "$ROUNDS"); do
  "$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
  MPID=$!; sleep 1
  M="$(load 21885)"; kill "$MPID"; wait "$MPID" 2>/dev/null || true
  OMNIBUS_MQTT_MAX_INFLIGHT="$INFLIGHT" OMNIBUS_MQTT_PORT=21884 OMNIBUS_MQTT_HOST=127.0.0.1 OMNIBUS_AMQP_ENABLED=false OMNIBUS_KAFKA_ENABLED=false \
    OMNIBUS_ADMIN_PORT=0 OMNIBUS_MQTT_WEBSOCKET_ENABLED=false OMNIBUS_NO_BUILD=1 \
    "$ROOT/bin/omnibus" start --data-dir "$WORK/data-$round" >"$WORK/gateway.log" 2>&1 &
  GPID=$!
  for _ in $(seq 100); do grep -q "ready in" "$WORK/gateway.log" && break; sleep 0.1; done
  G="$(load 21884)"; kill "$GPID"; wait "$GPID" 2>/dev/null || true
  echo "round $round  mosquitto: $M"
  echo "round $round  gateway:   $G"
  if [[ -n "$(rate "$M")" && -n "$(rate "$G")" ]]; then
    echo "round $round  gateway/mosquitto: $(awk -v g="$(rate "$G")" -v m="$(rate "$M")" 'BEGIN { printf "%.2f", g / m }')"
  fi
done
