package dev.tokenguard.core;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The calls begun and not yet finished, so that a JVM that exits while some are in flight ({@code System.exit} from
 * the thread reading a stream, a shutdown in the middle of a call) still logs and charges what is known of them.
 * Held weakly: a call whose response or stream the app dropped without closing is collected as it would be without
 * the agent (its reservation is then released by the reaper), and its entry goes with it.
 */
final class CallsInFlight {
    private final ConcurrentHashMap<Long, Entry> calls = new ConcurrentHashMap<>();
    private final ReferenceQueue<LlmCall> collected = new ReferenceQueue<>();
    private final AtomicLong ids = new AtomicLong();

    private static final class Entry extends WeakReference<LlmCall> {
        final long id;

        Entry(LlmCall call, long id, ReferenceQueue<LlmCall> queue) {
            super(call, queue);
            this.id = id;
        }
    }

    /** Registers a call that has begun; returns the id its end gives back to {@link #ended}. */
    long begun(LlmCall call) {
        for (Object gone; (gone = collected.poll()) != null; ) {
            calls.remove(((Entry) gone).id);
        }
        long id = ids.incrementAndGet();
        calls.put(id, new Entry(call, id, collected));
        return id;
    }

    void ended(long id) {
        Entry e = calls.remove(id);
        if (e != null) {
            e.clear();
        }
    }

    /** The calls still in flight. */
    List<LlmCall> open() {
        List<LlmCall> open = new ArrayList<>();
        for (Entry e : calls.values()) {
            LlmCall call = e.get();
            if (call != null && !call.isFinished()) {
                open.add(call);
            }
        }
        return open;
    }
}
