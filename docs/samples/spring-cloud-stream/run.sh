#!/usr/bin/env bash
# The Spring Cloud Stream sample in one command: builds the gateway and the sample, starts a gateway of its own
# (free ports, a temporary data directory), runs the order service on the Kafka binder, then on the RocketMQ binder
# (with transactional orders), each printing a summary, and stops the gateway.
#   docs/samples/spring-cloud-stream/run.sh [ORDERS]     (default 8 orders per binder)
set -euo pipefail
SAMPLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SAMPLE/../../.." && pwd)"
ORDERS="${1:-8}"

# the gateway (bin/omnibus's jar and its libraries), then the sample and its classpath
if [[ "${OMNIBUS_NO_BUILD:-}" != "1" ]]; then
  (cd "$ROOT" && mvn -B -q -DskipTests install)
fi
mvn -B -q -f "$SAMPLE/pom.xml" -DskipTests package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
KAFKA_PORT=$(free_port); ROCKETMQ_PORT=$(free_port)
WORK="$(mktemp -d)"
# topics RocketMQ clients make get two queues: the sample's partition count (docs/samples/spring-cloud-stream/README.md)
export OMNIBUS_KAFKA_PORT=$KAFKA_PORT OMNIBUS_OPENMESSAGING_PORT=$ROCKETMQ_PORT OMNIBUS_KAFKA_ADVERTISED_HOST=127.0.0.1 \
  OMNIBUS_OPENMESSAGING_QUEUES=2 OMNIBUS_MQTT_PORT=0 OMNIBUS_AMQP_PORT=0 OMNIBUS_ADMIN_PORT=0 \
  OMNIBUS_MQTT_WEBSOCKET_ENABLED=false OMNIBUS_NO_BUILD=1
for p in KAFKA OPENMESSAGING MQTT AMQP ADMIN; do export "OMNIBUS_${p}_HOST=127.0.0.1"; done
"$ROOT/bin/omnibus" start --data-dir "$WORK/data" > "$WORK/gateway.log" 2>&1 &
GATEWAY=$!
trap 'kill $GATEWAY 2>/dev/null; wait $GATEWAY 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do
  grep -q "omnibus: ready" "$WORK/gateway.log" && break
  kill -0 $GATEWAY 2>/dev/null || { cat "$WORK/gateway.log" >&2; exit 1; }
  sleep 0.5
done
grep -q "omnibus: ready" "$WORK/gateway.log" || { echo "the gateway did not start" >&2; cat "$WORK/gateway.log" >&2; exit 1; }

CP="$SAMPLE/target/classes:$(cat "$SAMPLE/target/classpath.txt")"
run() { java -cp "$CP" sample.orders.OrdersApplication --logging.level.root=WARN --logging.level.org.springframework.cloud.function=ERROR --orders.demo="$ORDERS" "$@"; }
run --spring.profiles.active=kafka --spring.cloud.stream.kafka.binder.brokers="127.0.0.1:$KAFKA_PORT"
run --spring.profiles.active=rocketmq --spring.cloud.stream.rocketmq.binder.name-server="127.0.0.1:$ROCKETMQ_PORT"
