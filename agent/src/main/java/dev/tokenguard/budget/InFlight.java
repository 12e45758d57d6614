package dev.tokenguard.budget;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * What the calls in flight of one scope instance have reserved, per dimension, and the calls waiting for them to
 * settle. Created on a scope instance's first reservation; it outlives window boundaries, because a call reserved in
 * one window is charged to whichever window is current when it ends.
 *
 * <p>Per dimension two counters only ever grow: what was ever reserved and what was ever given back; what is reserved
 * now is their difference. Reserving is a compare-and-set on the first that admits only while
 * {@code used + reserved < limit}; settling adds to the second, followed by a wake-up only when some call waits
 * (its monitor is taken only then). Because the counter a reservation sets never comes back to a value it had,
 * a compare-and-set that succeeds proves no other reservation came in since the check, and a settlement in between
 * (usage added, then the reservation given back) can only have made the check stricter: no call is admitted on a
 * sum that was never true at once (with a single counter that goes up and down, a release followed by another
 * reservation restored the old value between a check and its compare-and-set, and let a call past the limit).
 */
final class InFlight {
    private static final VarHandle[] RESERVED = new VarHandle[BudgetLimits.DIMENSIONS];
    private static final VarHandle[] RELEASED = new VarHandle[BudgetLimits.DIMENSIONS];
    private static final VarHandle WAITERS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            RESERVED[BudgetLimits.TOTAL] = l.findVarHandle(InFlight.class, "total", long.class);
            RESERVED[BudgetLimits.INPUT] = l.findVarHandle(InFlight.class, "input", long.class);
            RESERVED[BudgetLimits.OUTPUT] = l.findVarHandle(InFlight.class, "output", long.class);
            RESERVED[BudgetLimits.COST] = l.findVarHandle(InFlight.class, "costNanoUsd", long.class);
            RELEASED[BudgetLimits.TOTAL] = l.findVarHandle(InFlight.class, "totalReleased", long.class);
            RELEASED[BudgetLimits.INPUT] = l.findVarHandle(InFlight.class, "inputReleased", long.class);
            RELEASED[BudgetLimits.OUTPUT] = l.findVarHandle(InFlight.class, "outputReleased", long.class);
            RELEASED[BudgetLimits.COST] = l.findVarHandle(InFlight.class, "costNanoUsdReleased", long.class);
            WAITERS = l.findVarHandle(InFlight.class, "waiters", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // ever reserved, per dimension
    private volatile long total;
    private volatile long input;
    private volatile long output;
    private volatile long costNanoUsd;
    // ever given back, per dimension
    private volatile long totalReleased;
    private volatile long inputReleased;
    private volatile long outputReleased;
    private volatile long costNanoUsdReleased;
    private volatile int waiters;

    /** What the calls in flight reserve now in a dimension. */
    long reserved(int dimension) {
        // given back first: a release between the two reads can only make the figure larger, never smaller
        long released = (long) RELEASED[dimension].getVolatile(this);
        return (long) RESERVED[dimension].getVolatile(this) - released;
    }

    /**
     * Adds {@code amount} to the reserved amount of a dimension when {@code used + reserved < limit}
     * (or unconditionally when {@code force}); true when added.
     */
    boolean tryReserve(int dimension, long amount, UsageWindow window, long limit, boolean force) {
        VarHandle h = RESERVED[dimension];
        if (force) {
            h.getAndAdd(this, amount);
            return true;
        }
        for (;;) {
            // ever reserved, then ever given back, then used: a settling call adds its usage before it gives its
            // reservation back, so a reservation seen given back is never paired with usage read from before it
            // was added (which would under-count by that call and let this one past the limit)
            long ever = (long) h.getVolatile(this);
            long released = (long) RELEASED[dimension].getVolatile(this);
            long used = window == null ? 0 : window.used(dimension);
            if (used + (ever - released) >= limit) {
                return false;
            }
            if (h.compareAndSet(this, ever, ever + amount)) {
                return true;
            }
        }
    }

    void unreserve(int dimension, long amount) {
        RELEASED[dimension].getAndAdd(this, amount);
    }

    /** Wakes the calls waiting for a settlement, if any. */
    void settled() {
        if ((int) WAITERS.getVolatile(this) > 0) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /**
     * Waits at most {@code nanos} for a settlement, unless {@code stillBlocked} no longer holds once this call is
     * registered as waiting (so that no settlement between the caller's check and the wait is missed).
     */
    void await(long nanos, java.util.function.BooleanSupplier stillBlocked) throws InterruptedException {
        synchronized (this) {
            WAITERS.getAndAdd(this, 1);
            try {
                if (stillBlocked.getAsBoolean()) {
                    long millis = Math.max(1, nanos / 1_000_000);
                    wait(millis);
                }
            } finally {
                WAITERS.getAndAdd(this, -1);
            }
        }
    }
}
