#!/usr/bin/env bash
# ActiveMQ Artemis (its distribution from Maven Central) on loopback, as the gateway's peer for the MQTT -> AMQP
# bridge benchmark: MQTT and AMQP acceptors only, the default persistent journal (durable messages are synced
# before they are acknowledged, like the gateway's fsync), anonymous access. Runs in the foreground.
#   bench/artemis.sh [MQTT_PORT] [AMQP_PORT] [INSTANCE_DIR]     defaults: 21893, 25682, /tmp/bench-artemis (wiped first)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MQTT_PORT="${1:-21893}"; AMQP_PORT="${2:-25682}"; DIR="${3:-/tmp/bench-artemis}"
DIST="$HERE/../testing/artemis/target/dist"
if [[ ! -d "$DIST" ]]; then
  mvn -B -q -f "$HERE/../testing/artemis/pom.xml" package >&2
fi
HOME_DIR="$(ls -d "$DIST"/apache-artemis-*)"
rm -rf "$DIR"
"$HOME_DIR/bin/artemis" create "$DIR" --silent --user bench --password bench --allow-anonymous --no-web \
  --no-autotune --no-hornetq-acceptor --no-stomp-acceptor >&2
# only the two acceptors the benchmark uses, on its ports
python3 - "$DIR/etc/broker.xml" "$MQTT_PORT" "$AMQP_PORT" <<'PY'
import re, sys
path, mqtt, amqp = sys.argv[1], sys.argv[2], sys.argv[3]
xml = open(path).read()
acceptors = f'''<acceptors>
         <acceptor name="mqtt">tcp://127.0.0.1:{mqtt}?protocols=MQTT;useEpoll=true</acceptor>
         <acceptor name="amqp">tcp://127.0.0.1:{amqp}?protocols=AMQP;useEpoll=true;amqpCredits=1000;amqpLowCredits=300</acceptor>
      </acceptors>'''
xml = re.sub(r'<acceptors>.*?</acceptors>', acceptors, xml, flags=re.S)
open(path, 'w').write(xml)
PY
exec "$DIR/bin/artemis" run
