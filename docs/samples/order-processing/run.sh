#!/usr/bin/env bash
# The order-processing sample in one command: builds the gateway and the sample, starts a gateway of its own
# (free ports, a temporary data directory), runs the sample against it, stops the gateway.
#   docs/samples/order-processing/run.sh [--orders N]
set -euo pipefail
SAMPLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SAMPLE/../../.." && pwd)"

# the gateway (bin/omnibus's jar) and the OpenMessaging driver, into the local Maven repository
if [[ "${OMNIBUS_NO_BUILD:-}" != "1" ]]; then
  (cd "$ROOT" && mvn -B -q -DskipTests install)
fi
mvn -B -q -f "$SAMPLE/pom.xml" package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
OMS_PORT=$(free_port); AMQP_PORT=$(free_port); KAFKA_PORT=$(free_port)
WORK="$(mktemp -d)"
export OMNIBUS_OPENMESSAGING_PORT=$OMS_PORT OMNIBUS_AMQP_PORT=$AMQP_PORT OMNIBUS_KAFKA_PORT=$KAFKA_PORT \
  OMNIBUS_MQTT_PORT=0 OMNIBUS_MQTT_WEBSOCKET_ENABLED=false OMNIBUS_ADMIN_PORT=0 OMNIBUS_KAFKA_ADVERTISED_HOST=127.0.0.1 \
  OMNIBUS_NO_BUILD=1
for p in OPENMESSAGING AMQP KAFKA MQTT ADMIN; do export "OMNIBUS_${p}_HOST=127.0.0.1"; done
"$ROOT/bin/omnibus" start --data-dir "$WORK/data" > "$WORK/gateway.log" 2>&1 &
GATEWAY=$!
trap 'kill $GATEWAY 2>/dev/null; wait $GATEWAY 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do
  grep -q "omnibus: ready" "$WORK/gateway.log" && break
  kill -0 $GATEWAY 2>/dev/null || { cat "$WORK/gateway.log" >&2; exit 1; }
  sleep 0.5
done
grep -q "omnibus: ready" "$WORK/gateway.log" || { echo "the gateway did not start" >&2; cat "$WORK/gateway.log" >&2; exit 1; }

java -cp "$SAMPLE/target/classes:$(cat "$SAMPLE/target/classpath.txt")" sample.OrderProcessing \
  --oms "127.0.0.1:$OMS_PORT" --amqp "127.0.0.1:$AMQP_PORT" --kafka "127.0.0.1:$KAFKA_PORT" "$@"
