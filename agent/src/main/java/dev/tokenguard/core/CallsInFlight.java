package dev.tokenguard.core;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The calls begun and not yet finished, so that a JVM that exits while some are in flight ({@code System.exit} from
 * the thread reading a stream, a shutdown in the middle of a call) still logs and charges what is known of them.
 * Held weakly: a call whose response or stream the app dropped without closing is collected as it would be without
 * the agent (its reservation is then released by the reaper), and its entry goes with it.
 */
final class CallsInFlight {
    /** Keyed by the entries themselves (identity): no boxed id per call. */
    private final java.util.Set<Entry> calls = ConcurrentHashMap.newKeySet();
    private final ReferenceQueue<LlmCall> collected = new ReferenceQueue<>();

    private static final class Entry extends WeakReference<LlmCall> {
        Entry(LlmCall call, ReferenceQueue<LlmCall> queue) {
            super(call, queue);
        }
    }

    /**
     * Registers a call that has begun; returns what its end gives back to {@link #ended}: a weak reference to the
     * call, which other holders may share ({@link dev.tokenguard.budget.Reservation#ownedByReferent}).
     */
    WeakReference<LlmCall> begun(LlmCall call) {
        for (Object gone; (gone = collected.poll()) != null; ) {
            calls.remove(gone);
        }
        Entry e = new Entry(call, collected);
        calls.add(e);
        return e;
    }

    /**
     * @param entry what {@link #begun} returned for the call, or null (nothing). The entry is not cleared: it is the
     *              weak reference by which the call's reservation knows its owner, and it reads as collected only
     *              once the call is (an entry enqueued after it left the set is polled and found absent)
     */
    void ended(Object entry) {
        if (entry instanceof Entry e) {
            calls.remove(e);
        }
    }

    /** The calls still in flight. */
    List<LlmCall> open() {
        List<LlmCall> open = new ArrayList<>();
        for (Entry e : calls) {
            LlmCall call = e.get();
            if (call != null && !call.isFinished()) {
                open.add(call);
            }
        }
        return open;
    }
}
