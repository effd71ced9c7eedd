#!/usr/bin/python3
"""python3-qpid-proton (Debian's package) against the gateway's AMQP port: a queue round trip with
typed application properties, a map body, and a rejected message that lands in the dead-letter queue.
Usage: amqp_roundtrip.py amqp://127.0.0.1:PORT   -- prints OK and exits 0 when everything held."""
import sys

from proton import Message
from proton.utils import BlockingConnection


def check(cond, what):
    if not cond:
        print("FAILED: " + what)
        sys.exit(1)


conn = BlockingConnection(sys.argv[1], timeout=10)
sender = conn.create_sender("python/queue")
sender.send(Message(body="from python", properties={"lang": "python", "n": 3}, subject="greeting",
                    content_type="text/plain"))
receiver = conn.create_receiver("python/queue")
m = receiver.receive(timeout=10)
check(m.body == "from python", "text body: %r" % (m.body,))
check(m.properties.get("lang") == "python", "string property: %r" % (m.properties,))
check(m.properties.get("n") == 3 and isinstance(m.properties.get("n"), int), "int property: %r" % (m.properties,))
check(m.subject == "greeting", "subject: %r" % (m.subject,))
check(m.content_type == "text/plain", "content type: %r" % (m.content_type,))
receiver.accept()

sender.send(Message(body={"t": 21.5, "unit": "C"}))
m = receiver.receive(timeout=10)
check(m.body == {"t": 21.5, "unit": "C"}, "map body: %r" % (m.body,))
receiver.accept()

sender.send(Message(body="poison"))
m = receiver.receive(timeout=10)
check(m.body == "poison", "poison body: %r" % (m.body,))
receiver.reject()

dead = conn.create_receiver("$dlq/python/queue")
m = dead.receive(timeout=10)
check(m.body == "poison", "dead letter: %r" % (m.body,))
dead.accept()
conn.close()
print("OK")
