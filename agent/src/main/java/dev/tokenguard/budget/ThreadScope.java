package dev.tokenguard.budget;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;

/**
 * The thread-scoped instances of one thread (budgets with scope {@code thread}, and {@code mdc:}
 * budgets that fell back to the thread). Holds its thread weakly: the engine's registry of these
 * never keeps a thread, and a thread's end is found by {@link #isEnded()} without instrumenting
 * {@link Thread}. Slots are written only by the owning thread.
 */
final class ThreadScope extends WeakReference<Thread> {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(ScopeInstance[].class);

    final String key;
    private final ScopeInstance[] slots;

    ThreadScope(Thread thread, int budgets) {
        super(thread);
        this.key = "thread:" + thread.getName() + "#" + thread.getId();
        this.slots = new ScopeInstance[budgets];
    }

    ScopeInstance get(int budget) {
        return (ScopeInstance) SLOT.getAcquire(slots, budget);
    }

    void set(int budget, ScopeInstance instance) {
        SLOT.setRelease(slots, budget, instance);
    }

    int size() {
        return slots.length;
    }

    /** True once the thread has terminated or been collected. */
    boolean isEnded() {
        Thread t = get();
        return t == null || !t.isAlive();
    }
}
