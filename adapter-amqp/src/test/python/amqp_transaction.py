#!/usr/bin/python3
"""python3-qpid-proton (Debian's package) against the gateway's AMQP port: transactional sends. Two messages
sent in a transaction that commits arrive, one sent in a transaction that aborts never does.
Usage: amqp_transaction.py amqp://127.0.0.1:PORT   -- prints OK and exits 0 when everything held."""
import sys

from proton import Message
from proton.handlers import MessagingHandler, TransactionHandler
from proton.reactor import Container


class TransactionalSend(MessagingHandler, TransactionHandler):
    def __init__(self, url):
        super(TransactionalSend, self).__init__()
        self.url = url
        self.committed = False
        self.declared = False
        self.received = []

    def on_start(self, event):
        self.container = event.container
        self.conn = self.container.connect(self.url)
        self.sender = self.container.create_sender(self.conn, "python/tx")

    def on_sendable(self, event):
        # the transaction starts once the gateway gave the sender credit: proton sends a discharge at once, but holds
        # transfers until there is credit, so a commit declared earlier could overtake its own transfers
        if event.sender == self.sender and not self.declared:
            self.declared = True
            self.container.declare_transaction(self.conn, handler=self)

    def on_transaction_declared(self, event):
        if not self.committed:
            event.transaction.send(self.sender, Message(body="tx-1"))
            event.transaction.send(self.sender, Message(body="tx-2"))
            event.transaction.commit()
        else:
            event.transaction.send(self.sender, Message(body="aborted"))
            event.transaction.abort()

    def on_transaction_committed(self, event):
        self.committed = True
        self.container.declare_transaction(self.conn, handler=self)

    def on_transaction_aborted(self, event):
        self.sender.send(Message(body="marker"))
        self.container.create_receiver(self.conn, "python/tx")

    def on_transaction_declare_failed(self, event):
        fail("declare failed")

    def on_transaction_commit_failed(self, event):
        fail("commit failed")

    def on_message(self, event):
        self.received.append(event.message.body)
        if event.message.body == "marker":
            if self.received != ["tx-1", "tx-2", "marker"]:
                fail("received %r" % (self.received,))
            print("OK")
            event.connection.close()


def fail(what):
    print("FAILED: " + what)
    sys.exit(1)


Container(TransactionalSend(sys.argv[1])).run()
