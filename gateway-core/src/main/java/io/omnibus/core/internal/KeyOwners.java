package io.omnibus.core.internal;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who owns each key of a key-ordered subscription: the consumer a key's messages go to while some are outstanding,
 * and the line of its messages waiting to be delivered again, so that a key's messages reach one consumer at a time,
 * in order. Confined to the subscription's mailbox.
 */
final class KeyOwners {
    private static final class KeyState {
        ConsumerState owner;
        int outstanding;
        int waiting;
        long lastReadyAt;
    }

    private final Map<ByteBuffer, KeyState> keys = new HashMap<>();

    /**
     * The consumer for a message of {@code key}, counted as outstanding with it; null when it must wait, and then
     * {@code key} joins {@code blocked} (later messages of the key in this pass wait too).
     */
    ConsumerState choose(ByteBuffer key, Set<ByteBuffer> blocked, boolean isReturned, List<ConsumerState> consumers) {
        if (blocked.contains(key)) {
            return null;
        }
        KeyState ks = keys.get(key);
        ConsumerState c;
        if (ks != null && !isReturned && ks.waiting > 0) {
            c = null; // an earlier message of this key is waiting to be delivered again
        } else if (ks != null && ks.outstanding > 0 && ks.owner != null && !ks.owner.closed) {
            c = ks.owner.credit > 0 ? ks.owner : null;
        } else {
            c = stickyFor(key, consumers);
            if (c != null) {
                if (ks == null) {
                    ks = new KeyState();
                    keys.put(key, ks);
                }
                ks.owner = c;
            }
        }
        if (c == null) {
            blocked.add(key);
        } else {
            ks.outstanding++;
        }
        return c;
    }

    /**
     * The consumer a key belongs to while the set of consumers stays the same (hash of the key over
     * the push consumers in attach order), or null when it has no credit now.
     */
    private static ConsumerState stickyFor(ByteBuffer key, List<ConsumerState> consumers) {
        int pushers = 0;
        for (ConsumerState c : consumers) {
            if (c.handler != null && !c.closed) {
                pushers++;
            }
        }
        if (pushers == 0) {
            return null;
        }
        int pick = (key.hashCode() & Integer.MAX_VALUE) % pushers;
        for (ConsumerState c : consumers) {
            if (c.handler != null && !c.closed && pick-- == 0) {
                return c.credit > 0 ? c : null;
            }
        }
        return null;
    }

    /** A message of {@code key} is settled or given back: one fewer outstanding. */
    void done(ByteBuffer key) {
        if (key == null) {
            return;
        }
        KeyState ks = keys.get(key);
        if (ks != null) {
            ks.outstanding--;
            if (ks.outstanding <= 0 && ks.waiting <= 0) {
                keys.remove(key);
            }
        }
    }

    /**
     * A redelivery of {@code key} joins its key's line: the time it may go, never before an earlier one of the line
     * (a key's messages come back in their original order).
     */
    long waitInLine(ByteBuffer key, long readyAt) {
        KeyState ks = keys.computeIfAbsent(key, k -> new KeyState());
        long at = ks.waiting > 0 ? Math.max(readyAt, ks.lastReadyAt) : readyAt;
        ks.lastReadyAt = at;
        ks.waiting++;
        return at;
    }

    /** A redelivery of {@code key} left its line (delivered, or dropped). */
    void waitDone(ByteBuffer key) {
        KeyState ks = keys.get(key);
        if (ks != null && ks.waiting > 0) {
            ks.waiting--;
            if (ks.outstanding <= 0 && ks.waiting <= 0) {
                keys.remove(key);
            }
        }
    }

    /** A consumer left: its keys go to whoever is chosen next. */
    void forget(ConsumerState c) {
        keys.values().removeIf(ks -> ks.owner == c && ks.outstanding == 0 && ks.waiting == 0);
        keys.values().forEach(ks -> {
            if (ks.owner == c) {
                ks.owner = null;
            }
        });
    }

    void clear() {
        keys.clear();
    }
}
