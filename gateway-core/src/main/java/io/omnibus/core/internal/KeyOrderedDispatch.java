package io.omnibus.core.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A dispatch pass of a key-ordered subscription: a message goes to the consumer that owns its key ({@link KeyOwners}),
 * one key's messages one at a time and in order, and other keys' messages go on past a blocked one. On the
 * subscription's mailbox.
 */
final class KeyOrderedDispatch {
    /** How far past blocked keys a pass looks for deliverable messages. */
    private static final int SCAN = 1024;

    private KeyOrderedDispatch() {
    }

    /**
     * Hands out what can go: messages given back (redeliveries, held ones now due) in their order, each to its key's
     * owner when that consumer has credit, then fresh ones, looking up to {@value #SCAN} past those whose key is
     * blocked (its owner has no credit, or an earlier message of the key waits).
     */
    static void pass(SubscriptionQueue q, ConsumerRing consumers, SubscriptionFailures failures) {
        Set<ByteBuffer> blockedKeys = new HashSet<>();
        Iterator<Pending> it = q.waiting.returnedInOrder();
        while (it.hasNext() && consumers.hasPushCredit()) {
            Pending p = it.next();
            if (!q.pass.deliverable(p)) {
                it.remove();
                failures.keyWaitingDone(p);
                continue;
            }
            ConsumerState c = p.key == null ? consumers.pickRoundRobin(null)
                    : q.keys.choose(p.key, blockedKeys, true, consumers.all());
            if (c != null) {
                it.remove();
                failures.keyWaitingDone(p);
                q.pass.deliver(c, p);
            }
        }
        List<Pending> skipped = new ArrayList<>();
        while (q.waiting.hasFresh() && skipped.size() < SCAN && consumers.hasPushCredit()) {
            Pending p = q.waiting.pollFresh();
            if (!q.pass.deliverable(p)) {
                continue;
            }
            ConsumerState c = p.key == null ? consumers.pickRoundRobin(null)
                    : q.keys.choose(p.key, blockedKeys, false, consumers.all());
            if (c == null) {
                skipped.add(p);
            } else {
                q.pass.deliver(c, p);
            }
        }
        q.waiting.unpollFresh(skipped);
    }
}
