package dev.tokenguard.budget;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;

/**
 * The thread-scoped instances of one thread (budgets with scope {@code thread}, and {@code mdc:}
 * budgets that fell back to the thread). Holds its thread weakly: the engine's registry of these
 * never keeps a thread, and a thread's end is found by {@link #isEnded()} without instrumenting
 * {@link Thread}.
 *
 * <p>One slot per budget holds the budget's live {@link ScopeInstance}, or, once the idle sweep released it, only
 * what it used in its window ({@link KeptUsage}), or nothing. A parked pool thread thus keeps this object, its slot
 * array and a few counters, and no key string, session or window: its key is derived from the thread again when it is
 * asked for. Slots are read without locking; they are written only under this object's monitor (a new instance, the
 * idle sweep's release, a release at the thread's end), so a release and a call that brings the instance back never
 * interleave.
 */
final class ThreadScope extends WeakReference<Thread> {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

    /** Per budget: null, the live {@link ScopeInstance}, or the {@code long[]} kept after an idle release. */
    private final Object[] slots;

    ThreadScope(Thread thread, int budgets) {
        super(thread);
        this.slots = new Object[budgets];
    }

    static String keyOf(Thread t) {
        return "thread:" + t.getName() + "#" + t.getId();
    }

    /** The live instance of budget {@code budget}, or null (none yet, or released as idle). */
    ScopeInstance get(int budget) {
        return SLOT.getAcquire(slots, budget) instanceof ScopeInstance s ? s : null;
    }

    /** The usage kept of budget {@code budget} after an idle release, or null. */
    long[] kept(int budget) {
        return SLOT.getAcquire(slots, budget) instanceof long[] k ? k : null;
    }

    Object slot(int budget) {
        return SLOT.getAcquire(slots, budget);
    }

    /**
     * The instances of the thread's last call, one per budget, while each is still in its slot (or a global one):
     * {@link BudgetEngine#enter()} hands the same array to the thread's next call when it resolves the same
     * instances. Never written once made. Dropped whenever a slot changes, so an instance released as idle is not
     * kept here.
     */
    private volatile ScopeInstance[] lastInstances;

    ScopeInstance[] lastInstances() {
        return lastInstances;
    }

    void lastInstances(ScopeInstance[] instances) {
        lastInstances = instances;
    }

    /** Under this object's monitor only: an instance, the usage kept of one, or null. */
    void set(int budget, Object slot) {
        SLOT.setRelease(slots, budget, slot);
        lastInstances = null;
    }

    int size() {
        return slots.length;
    }

    /**
     * The scope key, e.g. {@code thread:worker-3#41}: that of a live instance, else derived from the thread (its
     * current name); null once the thread was collected.
     */
    String key() {
        for (int i = 0; i < slots.length; i++) {
            ScopeInstance s = get(i);
            if (s != null) {
                return s.key;
            }
        }
        Thread t = get();
        return t == null ? null : keyOf(t);
    }

    /** True once the thread has terminated or been collected. */
    boolean isEnded() {
        Thread t = get();
        return t == null || !t.isAlive();
    }
}
